import { execFile, execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CLI, type CliResult, REPO_ROOT } from './run-cli.ts';

const execFileAsync = promisify(execFile);

/** A host name that resolves to ::1 (where nothing listens) and then 127.0.0.1, in a private mount namespace. */
export interface DualStackName {
  name: string;
  /** Why the namespace cannot be had here, when it cannot (the test skips with it). */
  unavailable?: string;
  /** `pathwatch run <id> --json` on a config of just `check`, inside the namespace. A failed check exits 1. */
  run(check: Record<string, unknown>, env?: NodeJS.ProcessEnv): Promise<CliResult>;
}

/**
 * Gives `name` two addresses, the dead IPv6 one first (getaddrinfo sorts ::1 before
 * 127.0.0.1 anyway, RFC 6724), through an /etc/hosts bind-mounted in `unshare --mount`:
 * the machine's own hosts file is never touched. Files go under `workDir`.
 */
export function dualStackName(workDir: string, name = 'dual.test'): DualStackName {
  const hostsFile = join(workDir, 'hosts');
  writeFileSync(hostsFile, `127.0.0.1 localhost\n::1 ${name}\n127.0.0.1 ${name}\n`);
  const inNamespace = (command: string[]): string[] => [
    'unshare',
    '--mount',
    '--propagation',
    'private',
    'sh',
    '-c',
    'mount --bind "$0" /etc/hosts && exec "$@"',
    hostsFile,
    ...command,
  ];
  let unavailable: string | undefined;
  try {
    const [command, ...args] = inNamespace(['getent', 'ahosts', name]);
    const addresses = execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
      .split('\n')
      .filter((line) => line.includes('STREAM'))
      .map((line) => line.split(/\s+/)[0]);
    if (addresses.join(' ') !== '::1 127.0.0.1')
      unavailable = `${name} resolves to ${addresses.join(' ') || 'nothing'} in the mount namespace, not ::1 then 127.0.0.1`;
  } catch (error) {
    unavailable = `a private mount namespace with its own /etc/hosts is not available here (unshare --mount: ${(error as { stderr?: string }).stderr?.trim() || (error as Error).message})`;
  }
  return {
    name,
    unavailable,
    async run(check, env = {}) {
      const configFile = join(workDir, `${String(check.id)}.config.json`);
      writeFileSync(configFile, JSON.stringify({ locations: { local: {} }, checks: [check] }));
      const [command, ...args] = inNamespace([
        process.execPath,
        CLI,
        'run',
        String(check.id),
        '--json',
        '--config',
        configFile,
      ]);
      try {
        const { stdout, stderr } = await execFileAsync(command, args, {
          cwd: REPO_ROOT,
          env: { ...process.env, PATHWATCH_LOG_LEVEL: 'silent', ...env },
          timeout: 30_000,
          encoding: 'utf8',
        });
        return { code: 0, stdout, stderr };
      } catch (error) {
        const failed = error as { code?: number | string; stdout?: string; stderr?: string };
        return {
          code: typeof failed.code === 'number' ? failed.code : null,
          stdout: failed.stdout ?? '',
          stderr: failed.stderr ?? String(error),
        };
      }
    },
  };
}
