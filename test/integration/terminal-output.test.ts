import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CLI, REPO_ROOT, runCli } from '../helpers/run-cli.ts';
import { findLeaks } from '../helpers/secret-encodings.ts';
import { startHttpServer } from '../helpers/test-servers.ts';

/**
 * Issue 15, "Terminal": `pathwatch start` prints short readable lines in a terminal and JSON
 * lines otherwise (PATHWATCH_LOG_FORMAT overrides), masked alike. The terminal is a real
 * pseudo-terminal (util-linux `script`), stopped with a real Ctrl-C typed into it.
 */

/** Has a `${env:…}` reference in the config: `"`, `%`, `+`, `/` and a non-ASCII letter. */
const SECRET = 'pw"Term%+/é-7Qz';
const HAS_SCRIPT = spawnSync('script', ['--version']).status === 0;

// biome-ignore lint/suspicious/noControlCharactersInRegex: removing colour codes is the point
const ANSI = /\u001b\[[0-9;]*m/g;
/** `[12:00:01] INFO: message key=value …` */
const PRETTY_LINE = /^\[\d{2}:\d{2}:\d{2}\] (TRACE|DEBUG|INFO|WARN|ERROR|FATAL): \S/;

interface Session {
  code: number | null;
  /** What was printed, as bytes arrived (colour codes and the terminal's \r kept). */
  raw: string;
  /** The same, as lines a person reads: no colour codes, no \r. */
  lines: string[];
}

function quote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

function shellCommand(args: string[]): string {
  return `exec ${[process.execPath, CLI, ...args].map(quote).join(' ')}`;
}

async function until(condition: () => boolean, what: string, output: () => string, ms: number) {
  for (let waited = 0; !condition(); waited += 50) {
    if (waited >= ms) throw new Error(`${what} within ${ms} ms; printed so far:\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * `pathwatch start` on a config whose HTTP check sends SECRET, in a terminal or into a pipe;
 * once it runs, an API request carries the secret (URL- and base64url-encoded) in its query,
 * which Fastify logs; then Ctrl-C (typed into the terminal, or SIGINT to the piped process).
 */
async function startSession(
  t: import('node:test').TestContext,
  where: 'terminal' | 'pipe',
  format?: string,
): Promise<Session> {
  const server = await startHttpServer((_request, response) => response.end('ok'));
  const dir = mkdtempSync(join(tmpdir(), 'pathwatch-terminal-'));
  t.after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const configFile = join(dir, 'pathwatch.config.yaml');
  writeFileSync(
    configFile,
    [
      'locations:',
      '  inside: {}',
      'defaults: { interval: 1m, timeout: 2s }',
      'checks:',
      `  - { id: keyed, kind: http, http: { url: "${server.url}/health", headers: { x-api-key: "\${env:TERMINAL_TEST_SECRET}" } } }`,
      'dataDir: data',
      '',
    ].join('\n'),
  );
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TERMINAL_TEST_SECRET: SECRET,
    PATHWATCH_LOG_LEVEL: 'info',
    TERM: 'xterm-256color',
  };
  delete env.REDIS_URL;
  delete env.NO_COLOR;
  delete env.PATHWATCH_LOG_FORMAT;
  if (format !== undefined) env.PATHWATCH_LOG_FORMAT = format;
  const args = ['start', '--config', configFile, '--api-port', '0'];
  // stdin stays open: `script` passes what is written to it to the terminal, Ctrl-C included.
  const child: ChildProcess =
    where === 'terminal'
      ? spawn('script', ['-qfec', shellCommand(args), '/dev/null'], { cwd: REPO_ROOT, env })
      : spawn(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, env });
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let raw = '';
  child.stdout?.on('data', (chunk) => {
    raw += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    raw += chunk;
  });
  const exited = once(child, 'exit');
  const printed = () => raw;
  await until(() => raw.includes('pathwatch: running'), 'pathwatch: running', printed, 30_000);
  const apiUrl = /pathwatch: API at (http:\/\/[\d.:]+)/.exec(raw)?.[1];
  assert.ok(apiUrl, raw);
  // A run resolves the secret, and from then on the process masks it (a secret no run has
  // used yet is not known to the masker: not this test's subject). Run now, not in a minute.
  const runNow = await fetch(`${apiUrl}/api/v1/checks/keyed/run`, { method: 'POST' });
  assert.equal(runNow.status, 202, await runNow.text());
  await until(() => raw.includes('run finished'), 'the first run', printed, 15_000);
  const base64url = Buffer.from(SECRET).toString('base64url');
  const answer = await fetch(`${apiUrl}/api/v1/checks?q=${encodeURIComponent(SECRET)}&b=${base64url}`);
  await answer.arrayBuffer();
  const completed = () => raw.split('request completed').length - 1;
  await until(() => completed() >= 2, 'both requests logged', printed, 10_000);
  if (where === 'terminal') child.stdin?.write('\u0003');
  else child.kill('SIGINT');
  await Promise.race([
    exited,
    new Promise((_, reject) =>
      setTimeout(() => reject(new Error(`not stopped within 20 s:\n${raw}`)), 20_000),
    ),
  ]);
  // The terminal echoes the Ctrl-C as `^C`, before pathwatch's own next line.
  const lines = raw.replace(ANSI, '').replace(/\r/g, '').replace(/\^C/g, '').split('\n');
  return { code: child.exitCode, raw, lines };
}

/** The lines that came from the logger, not the CLI's own `pathwatch: …` lines. */
const logLines = (session: Session) =>
  session.lines.filter((line) => line.trim() !== '' && !line.startsWith('pathwatch: '));

function assertNoLeaks(session: Session, where: string) {
  const leaks = findLeaks(session.raw, where, { TERMINAL_TEST_SECRET: SECRET });
  assert.deepEqual(
    leaks.map((leak) => `${leak.form} in ${leak.where}: …${leak.context}…`),
    [],
  );
}

function assertPretty(session: Session) {
  const lines = logLines(session);
  assert.ok(lines.length >= 3, session.raw);
  for (const line of lines) {
    assert.match(line, PRETTY_LINE, `a human line, not JSON:\n${session.raw}`);
    assert.doesNotMatch(line, /\{"level":|hostname|pid=/);
  }
  // The request that carried the secret, on one line with its fields, the secret masked.
  const request = lines.find((line) => line.includes('incoming request') && line.includes('?'));
  assert.match(
    request ?? '',
    /^\[[\d:]+\] INFO: incoming request reqId=\S+ req\.method=GET req\.url=\S*q=\*\*\*&b=\*\*\*/,
  );
  assert.ok(
    lines.some((line) => /INFO: run finished .*checkId=keyed .*status=pass/.test(line)),
    session.raw,
  );
}

function assertJson(session: Session) {
  const lines = logLines(session);
  assert.ok(lines.length >= 3, session.raw);
  const entries = lines.map((line) => {
    assert.doesNotThrow(() => JSON.parse(line), `a JSON line: ${line}`);
    return JSON.parse(line) as { level: number; time: number; msg: string; req?: { url: string } };
  });
  for (const entry of entries) assert.equal(typeof entry.level, 'number');
  const request = entries.find((entry) => entry.msg === 'incoming request' && entry.req?.url.includes('?'));
  assert.match(request?.req?.url ?? '', /q=\*\*\*&b=\*\*\*/);
}

function assertStopped(session: Session) {
  assert.equal(session.code, 0, session.raw);
  assert.equal(session.lines.filter((line) => line.trim() !== '').at(-1), 'pathwatch: stopped', session.raw);
}

test('in a terminal, pathwatch start prints short coloured lines, secrets masked, and its last line after Ctrl-C', {
  skip: !HAS_SCRIPT && 'util-linux script is not installed: no pseudo-terminal to run in',
}, async (t) => {
  const session = await startSession(t, 'terminal');
  assert.match(session.raw, ANSI, 'coloured');
  assertNoLeaks(session, 'terminal output');
  assertPretty(session);
  assertStopped(session);
});

test('into a pipe, pathwatch start prints JSON lines, secrets masked', async (t) => {
  const session = await startSession(t, 'pipe');
  assertNoLeaks(session, 'piped output');
  assertJson(session);
  assertStopped(session);
});

test('PATHWATCH_LOG_FORMAT=json keeps JSON in a terminal', {
  skip: !HAS_SCRIPT && 'util-linux script is not installed: no pseudo-terminal to run in',
}, async (t) => {
  const session = await startSession(t, 'terminal', 'json');
  assertNoLeaks(session, 'terminal output, json');
  assertJson(session);
  assertStopped(session);
});

test('PATHWATCH_LOG_FORMAT=pretty gives pretty lines in a pipe', async (t) => {
  const session = await startSession(t, 'pipe', 'pretty');
  assertNoLeaks(session, 'piped output, pretty');
  assertPretty(session);
  assertStopped(session);
});

test('a bad PATHWATCH_LOG_FORMAT: one line naming the variable and the accepted values, exit 2', async () => {
  const env: NodeJS.ProcessEnv = { ...process.env, PATHWATCH_LOG_FORMAT: 'yaml' };
  delete env.REDIS_URL;
  const dir = mkdtempSync(join(tmpdir(), 'pathwatch-terminal-'));
  try {
    const configFile = join(dir, 'pathwatch.config.yaml');
    writeFileSync(configFile, 'locations:\n  inside: {}\ndataDir: data\n');
    const result = await runCli(['start', '--config', configFile, '--api-port', '0'], {
      env,
      timeoutMs: 30_000,
    });
    assert.equal(result.code, 2, result.stderr);
    assert.equal(result.stdout, '');
    const lines = result.stderr.trim().split('\n');
    assert.equal(lines.length, 1, result.stderr);
    assert.match(lines[0], /PATHWATCH_LOG_FORMAT/);
    assert.match(lines[0], /"json"/);
    assert.match(lines[0], /"pretty"/);
    assert.match(lines[0], /"yaml"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
