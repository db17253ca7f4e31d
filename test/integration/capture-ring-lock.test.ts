import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, type TestContext, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { checkCapturePermission } from '../../capture/capture-permission.ts';
import { findRingWriters, RING_LOCK_FILE, RingLock, type RingLockEvent } from '../../capture/ring-lock.ts';
import { RingLockedError } from '../../capture/ring-locked-error.ts';
import { type RingEvent, TcpdumpRing } from '../../capture/tcpdump-ring.ts';
import { identify, isAlive } from '../../src/util/process-identity.ts';
import { CLI, runCli } from '../helpers/run-cli.ts';
import { createTempProject } from '../helpers/temp-project.ts';

const OWNER = new URL('../helpers/ring-owner-process.ts', import.meta.url).pathname;
let unavailable: string | undefined;
let root: string;
const children: ChildProcess[] = [];

before(async () => {
  try {
    await checkCapturePermission();
  } catch (error) {
    unavailable = (error as Error).message;
  }
  root = mkdtempSync(join(tmpdir(), 'pwcap-lock-'));
});

after(async () => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  // A tcpdump that a failing test left behind, found by its command line.
  for (const name of ['killed', 'busy', 'orphan']) {
    for (const pid of await findRingWriters(join(root, name))) process.kill(pid, 'SIGKILL');
  }
  rmSync(root, { recursive: true, force: true });
});

function skip(t: TestContext): boolean {
  if (unavailable) t.skip(unavailable);
  return unavailable !== undefined;
}

/** Starts a separate process owning a ring on `dir`; resolves with its first line. */
async function startOwner(dir: string): Promise<{ child: ChildProcess; line: Record<string, unknown> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', OWNER, dir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  const text = await firstOutput(child, 'stdout', /\n/);
  return { child, line: JSON.parse(text.split('\n')[0]) as Record<string, unknown> };
}

/**
 * What a child printed until `until` matched (or it exited). The stream is read on, not
 * closed: a child writing to a closed pipe would die of SIGPIPE mid-line.
 */
function firstOutput(child: ChildProcess, stream: 'stdout' | 'stderr', until: RegExp): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const readable = child[stream]!;
    readable.setEncoding('utf8');
    readable.on('data', (chunk: string) => {
      text += chunk;
      if (until.test(text)) resolve(text);
    });
    child.once('exit', () => resolve(text));
  });
}

async function waitGone(pid: number, withinMs: number): Promise<boolean> {
  const identity = await identify(pid);
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    if (!(await isAlive(identity))) return true;
    await sleep(25);
  }
  return !(await isAlive(identity));
}

function ringOn(dir: string, events: Array<RingEvent | RingLockEvent> = []): TcpdumpRing {
  return new TcpdumpRing({
    dir,
    interface: 'lo',
    filter: 'tcp port 9',
    ringSize: 2_000_000,
    fileSize: 1_000_000,
    maxAge: 600_000,
    snaplen: 256,
    bufferSize: 1024 * 1024,
    onEvent: (event) => events.push(event),
  });
}

test('kill -9 of the process that owns the ring ends its tcpdump, and the next owner takes the ring over', async (t) => {
  if (skip(t)) return;
  const dir = join(root, 'killed');
  const { child, line } = await startOwner(dir);
  const tcpdumpPid = line.tcpdumpPid as number;
  assert.ok(tcpdumpPid > 0, JSON.stringify(line));
  assert.deepEqual(await findRingWriters(dir), [tcpdumpPid], 'the owner runs one tcpdump on the ring');
  const lock = JSON.parse(readFileSync(join(dir, RING_LOCK_FILE), 'utf8'));
  assert.equal(lock.owner.pid, child.pid);
  assert.equal(lock.tcpdump.pid, tcpdumpPid);
  child.kill('SIGKILL');
  await once(child, 'exit');
  assert.ok(await waitGone(tcpdumpPid, 3000), `tcpdump ${tcpdumpPid} outlived its killed parent`);
  const events: Array<RingEvent | RingLockEvent> = [];
  const ring = ringOn(dir, events);
  await ring.start();
  t.after(() => ring.stop());
  assert.ok(events.some((event) => event.type === 'stale-lock-taken-over'));
  assert.equal((await findRingWriters(dir)).length, 1, 'one writer');
  assert.equal(ring.health().boundToParent, true);
});

test('a second owner on a ring in use is refused with the directory and the owner pid; the first keeps writing', async (t) => {
  if (skip(t)) return;
  const dir = join(root, 'busy');
  const ring = ringOn(dir);
  await ring.start();
  t.after(() => ring.stop());
  const writers = await findRingWriters(dir);
  const { child, line } = await startOwner(dir);
  if (line.code === 'CAPTURE_RING_LOCKED') await once(child, 'exit');
  assert.equal(line.code, 'CAPTURE_RING_LOCKED');
  assert.equal(
    line.error,
    `capture ring ${dir} is in use by pathwatch pid ${process.pid} (tcpdump pid ${writers[0]}) since ${JSON.parse(readFileSync(join(dir, RING_LOCK_FILE), 'utf8')).since}: one ring has one writer; stop that process or give this one another data dir`,
  );
  assert.deepEqual(await findRingWriters(dir), writers, 'the first tcpdump is untouched and alone');
  // In the same process too: a second ring object on the same directory is refused.
  await assert.rejects(ringOn(dir).start(), { code: 'CAPTURE_RING_LOCKED' });
  assert.equal(ring.health().running, true);
});

test('a stale lock whose dead owner left an orphan tcpdump writing: the orphan is stopped, then the ring is taken', async (t) => {
  if (skip(t)) return;
  const dir = join(root, 'orphan');
  mkdirSync(dir, { recursive: true });
  // A dead owner: a process that has exited, with its identity recorded while it lived.
  const gone = spawn('sleep', ['30']);
  const owner = (await identify(gone.pid!))!;
  gone.kill('SIGKILL');
  await once(gone, 'exit');
  // Its tcpdump, unbound (as before this fix, or where setpriv is missing), still writing the ring.
  const orphan = spawn(
    'tcpdump',
    ['-n', '-U', '-i', 'lo', '-w', join(dir, 'ring.pcap'), '-C', '1', '-W', '2', '-Z', 'root', 'tcp port 9'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
    },
  );
  children.push(orphan);
  const stderr = await firstOutput(orphan, 'stderr', /listening on .*\n/);
  assert.match(stderr, /listening on/, `the stand-in orphan tcpdump did not start: ${stderr}`);
  // The lock's recorded tcpdump pid now belongs to an unrelated process (pid reuse): it must
  // be left alone, and the real orphan found by its command line.
  const unrelated = spawn('sleep', ['30']);
  children.push(unrelated);
  const unrelatedId = (await identify(unrelated.pid!))!;
  writeFileSync(
    join(dir, RING_LOCK_FILE),
    JSON.stringify({ owner, tcpdump: unrelatedId, host: hostname(), since: new Date().toISOString() }),
  );
  const events: Array<RingEvent | RingLockEvent> = [];
  const ring = ringOn(dir, events);
  await ring.start();
  t.after(() => ring.stop());
  assert.ok(await waitGone(orphan.pid!, 1000), 'the orphan tcpdump was stopped');
  assert.ok(await isAlive(unrelatedId), 'the unrelated process at the recorded pid is untouched');
  assert.ok(
    events.some((event) => event.type === 'orphan-killed' && event.pid === orphan.pid),
    JSON.stringify(events),
  );
  const writers = await findRingWriters(dir);
  assert.equal(writers.length, 1, `one writer: ${writers}`);
  assert.notEqual(writers[0], orphan.pid);
  const lock = JSON.parse(readFileSync(join(dir, RING_LOCK_FILE), 'utf8'));
  assert.equal(lock.owner.pid, process.pid);
  await ring.stop();
  assert.throws(() => readFileSync(join(dir, RING_LOCK_FILE)), /ENOENT/, 'stop() releases the lock');
});

test('pathwatch capture: a second one on the same data dir exits with one line naming the ring and the owner; after kill -9 of the first, a third takes over', async (t) => {
  if (skip(t)) return;
  const project = createTempProject({
    'pathwatch.config.yaml': [
      'locations:',
      '  inside: {}',
      'capture: { interface: lo, filter: "tcp port 9", ringSize: 2MB, fileSize: 1MB }',
      'dataDir: data',
      '',
    ].join('\n'),
  });
  const config = join(project, 'pathwatch.config.yaml');
  const ringDir = join(project, 'data', 'capture', 'ring');
  let errors = '';
  const startCapture = async () => {
    const child = spawn(process.execPath, [CLI, 'capture', '-c', config], {
      env: { ...process.env, PATHWATCH_LOG_LEVEL: 'silent' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let output = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => (errors += text));
    child.stdout!.setEncoding('utf8');
    // Read on (not break out of the stream): a closed pipe would make its last line an EPIPE.
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (text: string) => {
        output += text;
        if (output.includes('capturing on')) resolve();
      });
      child.once('exit', (code) =>
        reject(new Error(`pathwatch capture exited with ${code}: ${output}${errors}`)),
      );
    });
    assert.match(output, /capturing on lo/);
    return child;
  };
  const first = await startCapture();
  const [tcpdumpPid] = await findRingWriters(ringDir);
  assert.ok(tcpdumpPid);
  const second = await runCli(['capture', '-c', config], { timeoutMs: 30_000 });
  assert.equal(second.code, 2);
  const lines = `${second.stdout}${second.stderr}`.trim().split('\n');
  assert.equal(lines.length, 1, lines.join('\n'));
  assert.match(
    lines[0],
    new RegExp(
      `^pathwatch capture: capture ring ${ringDir.replace(/[.]/g, '\\.')} is in use by pathwatch pid ${first.pid} \\(tcpdump pid ${tcpdumpPid}\\)`,
    ),
  );
  assert.deepEqual(await findRingWriters(ringDir), [tcpdumpPid], 'the first ring is untouched');
  first.kill('SIGKILL');
  await once(first, 'exit');
  assert.ok(await waitGone(tcpdumpPid, 3000), 'tcpdump died with the pathwatch that was killed');
  const third = await startCapture();
  assert.equal((await findRingWriters(ringDir)).length, 1);
  third.kill('SIGTERM');
  const [code] = await once(third, 'exit');
  assert.equal(code, 0, errors);
  assert.deepEqual(await findRingWriters(ringDir), [], 'a stopped pathwatch leaves no tcpdump');
});

test('lock races and other hosts: of many takers at once exactly one wins; a lock from another host is never judged stale here', async () => {
  const dir = join(root, 'race');
  mkdirSync(dir, { recursive: true });
  for (let round = 0; round < 20; round++) {
    const outcomes = await Promise.allSettled(Array.from({ length: 4 }, () => RingLock.acquire(dir)));
    const won = outcomes.filter((outcome) => outcome.status === 'fulfilled');
    assert.equal(won.length, 1, `round ${round}: ${won.length} takers won`);
    for (const outcome of outcomes)
      if (outcome.status === 'rejected')
        assert.ok(outcome.reason instanceof RingLockedError, String(outcome.reason));
    await (won[0] as PromiseFulfilledResult<RingLock>).value.release();
  }
  // A dead pid, but on another host: that host's /proc is not ours to read.
  const gone = spawn('sleep', ['30']);
  const owner = (await identify(gone.pid!))!;
  gone.kill('SIGKILL');
  await once(gone, 'exit');
  writeFileSync(
    join(dir, RING_LOCK_FILE),
    JSON.stringify({ owner, host: 'other-host', since: new Date().toISOString() }),
  );
  await assert.rejects(RingLock.acquire(dir), (error: unknown) => {
    assert.ok(error instanceof RingLockedError);
    assert.match(error.message, /in use by pathwatch pid \d+ on host other-host/);
    return true;
  });
  rmSync(join(dir, RING_LOCK_FILE));
});
