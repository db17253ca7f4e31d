import { execFileSync } from 'node:child_process';
import { randomInt } from 'node:crypto';

export interface TestNamespace {
  name: string;
  /** The host's end of the veth pair. */
  hostAddress: string;
  /** The namespace's end. */
  namespaceAddress: string;
  /** Runs a command inside the namespace. */
  exec(command: string[]): string;
  remove(): void;
}

function run(command: string[]): string {
  return execFileSync(command[0], command.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * A network namespace joined to the host by a veth pair on 198.18.N.0/30 (the benchmarking
 * range, never routed), so a test can run a "remote" worker whose packets it can drop with
 * iptables without touching the host's own network. Returns a reason string when the
 * machine does not allow it (not root, no iproute2).
 */
export function createTestNamespace(): TestNamespace | string {
  const id = randomInt(0x1000, 0xffff).toString(16);
  const name = `pwtest-${id}`;
  const hostLink = `pwh${id}`;
  const namespaceLink = `pwn${id}`;
  const subnet = randomInt(0, 255);
  const hostAddress = `198.18.${subnet}.1`;
  const namespaceAddress = `198.18.${subnet}.2`;
  try {
    run(['ip', 'netns', 'add', name]);
  } catch (error) {
    return `network namespaces are not available here (ip netns add: ${(error as { stderr?: string }).stderr?.trim() || (error as Error).message})`;
  }
  const remove = () => {
    try {
      run(['ip', 'link', 'del', hostLink]);
    } catch {}
    try {
      run(['ip', 'netns', 'del', name]);
    } catch {}
  };
  try {
    run(['ip', 'link', 'add', hostLink, 'type', 'veth', 'peer', 'name', namespaceLink]);
    run(['ip', 'link', 'set', namespaceLink, 'netns', name]);
    run(['ip', 'addr', 'add', `${hostAddress}/30`, 'dev', hostLink]);
    run(['ip', 'link', 'set', hostLink, 'up']);
    run(['ip', 'netns', 'exec', name, 'ip', 'addr', 'add', `${namespaceAddress}/30`, 'dev', namespaceLink]);
    run(['ip', 'netns', 'exec', name, 'ip', 'link', 'set', namespaceLink, 'up']);
    run(['ip', 'netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up']);
    run(['ip', 'netns', 'exec', name, 'iptables', '-L', '-n']);
  } catch (error) {
    remove();
    return `could not set up a veth pair and iptables in a namespace: ${(error as { stderr?: string }).stderr?.trim() || (error as Error).message}`;
  }
  return {
    name,
    hostAddress,
    namespaceAddress,
    exec: (command) => run(['ip', 'netns', 'exec', name, ...command]),
    remove,
  };
}
