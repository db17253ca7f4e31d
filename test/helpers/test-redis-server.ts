import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { freePort } from '../../src/redis/private-redis-server.ts';
import { createRedisConnection } from '../../src/redis/redis-connection.ts';

export interface TestRedisServer {
  url: string;
  connection: Redis;
  /** Stops the server (SIGTERM: the append-only file is flushed) and starts it again on the same port and data. */
  restart(options?: { downForMs?: number }): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A redis-server of the test's own on a free port, append-only with fsync on every write.
 * `host`: the address it binds (a test namespace's veth end, for workers inside it); then
 * protected mode is off, since those workers connect from beyond loopback, to an address
 * only the test's namespace reaches.
 */
export async function startTestRedisServer(options: { host?: string } = {}): Promise<TestRedisServer> {
  const host = options.host ?? '127.0.0.1';
  const dir = mkdtempSync(join(tmpdir(), 'pathwatch-redis-'));
  const port = await freePort();
  const args = ['--port', String(port), '--bind', host, '--dir', dir];
  if (host !== '127.0.0.1') args.push('--protected-mode', 'no');
  args.push('--appendonly', 'yes', '--appendfsync', 'always', '--save', '');
  let server: ChildProcess = spawn('redis-server', args, { stdio: 'ignore' });
  const url = `redis://${host}:${port}`;
  const connection = createRedisConnection(url);
  connection.on('error', () => {}); // expected while the server is down
  const ready = async () => {
    for (let attempt = 0; attempt < 100; attempt++) {
      try {
        await Promise.race([
          connection.ping(),
          new Promise((_, reject) => setTimeout(() => reject(new Error('slow')), 500)),
        ]);
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    throw new Error(`test redis-server on port ${port} did not answer`);
  };
  const halt = async () => {
    if (server.exitCode !== null || server.signalCode !== null) return;
    server.kill('SIGTERM');
    await once(server, 'exit');
  };
  await ready();
  return {
    url,
    connection,
    restart: async ({ downForMs = 0 } = {}) => {
      await halt();
      await new Promise((resolve) => setTimeout(resolve, downForMs));
      server = spawn('redis-server', args, { stdio: 'ignore' });
      await ready();
    },
    stop: async () => {
      connection.disconnect();
      await halt();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
