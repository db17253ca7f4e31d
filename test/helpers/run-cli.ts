import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = fileURLToPath(new URL('../../bin/pathwatch.js', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `pathwatch …` to completion (bounded by `timeoutMs`). */
export function runCli(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  return runCommand(process.execPath, [CLI, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env: options.env ?? { ...process.env, PATHWATCH_LOG_LEVEL: 'silent' },
    timeoutMs: options.timeoutMs,
  });
}

/** Runs any command to completion, its output collected, killed and rejected past `timeoutMs` (60 s). */
export function runCommand(
  command: string,
  args: string[],
  options: { env: NodeJS.ProcessEnv; cwd: string; timeoutMs?: number },
): Promise<CliResult> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(`${command} ${args.join(' ')} did not finish within ${timeoutMs} ms\n${stdout}\n${stderr}`),
      );
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface StartedPathwatch {
  child: import('node:child_process').ChildProcess;
  /** Everything it printed so far, stdout and stderr. */
  output(): string;
  apiUrl?: string;
}

/**
 * Starts a long-running `pathwatch …` (REDIS_URL unset: it starts its own redis-server)
 * and resolves once it prints that it is running, with the API address if it has one.
 * `detached` gives it its own process group, as a shell does a foreground job.
 */
export async function startPathwatch(
  args: string[],
  options: { detached?: boolean; env?: NodeJS.ProcessEnv } = {},
): Promise<StartedPathwatch> {
  const env: NodeJS.ProcessEnv = { ...process.env, PATHWATCH_LOG_LEVEL: 'warn', ...options.env };
  delete env.REDIS_URL;
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.detached ?? false,
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk;
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`pathwatch ${args[0]} did not start within 30 s:\n${output}`)),
      30_000,
    );
    const onData = () => {
      if (!output.includes('pathwatch: running')) return;
      clearTimeout(timer);
      child.stdout.off('data', onData);
      resolve();
    };
    child.stdout.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`pathwatch ${args[0]} exited with ${code}:\n${output}`));
    });
  });
  return { child, output: () => output, apiUrl: /pathwatch: API at (http:\/\/\S+)/.exec(output)?.[1] };
}
