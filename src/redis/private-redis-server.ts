import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';

export class RedisNotInstalledError extends Error {
  readonly code = 'REDIS_NOT_INSTALLED';
}

export interface PrivateRedisServer {
  url: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

export function findOnPath(command: string, pathVariable = process.env.PATH ?? ''): string | undefined {
  for (const dir of pathVariable.split(delimiter)) {
    if (dir && existsSync(join(dir, command))) return join(dir, command);
  }
  return undefined;
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/**
 * Starts a redis-server child for a single-host install (`pathwatch start` without
 * REDIS_URL): append-only so results survive a restart, data under the data dir, bound
 * to loopback. A server left behind by a crashed previous start is stopped first.
 */
export async function startPrivateRedisServer(dataDir: string): Promise<PrivateRedisServer> {
  const binary = findOnPath('redis-server');
  if (!binary) {
    throw new RedisNotInstalledError(
      'REDIS_URL is not set and redis-server is not on PATH: set REDIS_URL=redis://HOST:6379 to use an existing Redis, or install Redis (Debian: apt-get install redis-server)',
    );
  }
  const dir = join(dataDir, 'redis');
  mkdirSync(dir, { recursive: true });
  const pidFile = join(dir, 'redis.pid');
  stopLeftover(pidFile, dataDir);
  const port = await freePort();
  const redisArgs = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--appendonly',
    'yes',
    '--save',
    '',
    '--pidfile',
    pidFile,
    '--daemonize',
    'no',
    '--loglevel',
    'notice',
  ];
  // Through setpriv the kernel sends redis-server SIGTERM when pathwatch dies, even by
  // SIGKILL, so no private Redis outlives the stack that started it. Its own process group
  // (detached) keeps a terminal's Ctrl-C from stopping Redis before the runs in flight
  // have stored their results: pathwatch stops it last.
  const setpriv = findOnPath('setpriv');
  const child = setpriv
    ? spawn(setpriv, ['--pdeathsig', 'TERM', '--', binary, ...redisArgs], {
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      })
    : spawn(binary, redisArgs, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  await waitUntilReady(child, port);
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    pid: child.pid ?? 0,
    stop: () => stopChild(child),
  };
}

export class DataDirInUseError extends Error {
  readonly code = 'DATA_DIR_IN_USE';
}

/**
 * A redis-server named in the pid file is either left over from a crashed start (its
 * parent is gone: stop it) or belongs to another pathwatch running on the same data dir
 * (refuse, rather than pull its Redis away from under it).
 */
function stopLeftover(pidFile: string, dir: string): void {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  if (!pid) return;
  let command: string;
  let parent: number;
  try {
    command = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return; // not running any more: nothing to stop
  }
  if (!command.includes('redis-server')) return;
  let parentCommand = '';
  try {
    parentCommand = readFileSync(`/proc/${parent}/cmdline`, 'utf8');
  } catch {}
  if (parentCommand.includes('pathwatch')) {
    throw new DataDirInUseError(
      `${dir} is in use by another pathwatch (its redis-server is pid ${pid}); stop that one, or give this one another dataDir`,
    );
  }
  process.kill(pid, 'SIGTERM');
}

function waitUntilReady(child: ChildProcess, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(`redis-server did not start on port ${port} within 10 s: ${output.trim().slice(-300)}`),
      );
    }, 10_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(
        new Error(`redis-server exited with code ${code} before it was ready: ${output.trim().slice(-300)}`),
      );
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
