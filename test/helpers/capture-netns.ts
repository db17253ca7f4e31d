import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Two network namespaces joined by a veth pair, made by the test and only for it: the client
 * side 198.18.0.1/30, the server side 198.18.0.2/30 (the benchmark range, never routed), so
 * impairment (iptables DROP) never touches the host's own network.
 */
export interface NetnsPair {
  client: string;
  server: string;
  clientIp: string;
  serverIp: string;
  clientIf: string;
  exec(ns: string, command: string[]): Promise<string>;
  spawnIn(ns: string, command: string[]): ChildProcess;
  cleanup(): Promise<void>;
}

export async function createNetnsPair(): Promise<NetnsPair> {
  const id = randomBytes(3).toString('hex');
  const client = `pwcap-c-${id}`;
  const server = `pwcap-s-${id}`;
  const clientIf = `pwc${id}`;
  const serverIf = `pws${id}`;
  const ip = (...args: string[]) => run('ip', args, { timeout: 10_000 });
  const created: string[] = [];
  const cleanup = async () => {
    for (const ns of created.reverse()) await ip('netns', 'del', ns).catch(() => {});
  };
  try {
    await ip('netns', 'add', client);
    created.push(client);
    await ip('netns', 'add', server);
    created.push(server);
    await ip(
      'link',
      'add',
      clientIf,
      'netns',
      client,
      'type',
      'veth',
      'peer',
      'name',
      serverIf,
      'netns',
      server,
    );
    await ip('-n', client, 'addr', 'add', '198.18.0.1/30', 'dev', clientIf);
    await ip('-n', server, 'addr', 'add', '198.18.0.2/30', 'dev', serverIf);
    for (const [ns, dev] of [
      [client, clientIf],
      [server, serverIf],
    ]) {
      await ip('-n', ns, 'link', 'set', 'lo', 'up');
      await ip('-n', ns, 'link', 'set', dev, 'up');
    }
  } catch (error) {
    await cleanup();
    throw error;
  }
  return {
    client,
    server,
    clientIp: '198.18.0.1',
    serverIp: '198.18.0.2',
    clientIf,
    async exec(ns, command) {
      const { stdout } = await run('ip', ['netns', 'exec', ns, ...command], { timeout: 15_000 });
      return stdout;
    },
    spawnIn(ns, command) {
      return spawn('ip', ['netns', 'exec', ns, ...command], { stdio: ['pipe', 'pipe', 'pipe'] });
    },
    cleanup,
  };
}
