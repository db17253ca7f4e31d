import { execFile } from 'node:child_process';
import { access, constants, readFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { CaptureUnavailableError } from './capture-unavailable-error.ts';

const CAP_NET_ADMIN = 12;
const CAP_NET_RAW = 13;

/** tcpdump lives in sbin on most distributions, which is not on a normal user's PATH. */
const EXTRA_DIRS = ['/usr/sbin', '/usr/bin', '/sbin', '/bin', '/usr/local/sbin', '/usr/local/bin'];

export interface CapturePermission {
  tcpdumpPath: string;
  /** tcpdump must be told to stay root (-Z root) to write ring files after the first. */
  runAsRoot: boolean;
  /** How the privilege was found: `root`, `process capabilities`, `file capabilities on …`. */
  via: string;
}

export const PRIVILEGE_ADVICE =
  'tcpdump needs root or CAP_NET_RAW and CAP_NET_ADMIN: run the worker as root, or `setcap cap_net_raw,cap_net_admin=eip /usr/bin/tcpdump`';

/** The first executable `tcpdump` on PATH (then the usual sbin directories). */
export async function findTcpdump(pathEnv = process.env.PATH ?? ''): Promise<string | undefined> {
  const dirs = [...pathEnv.split(delimiter).filter(Boolean), ...EXTRA_DIRS];
  for (const dir of dirs) {
    const candidate = join(dir, 'tcpdump');
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

async function processCapabilities(): Promise<bigint | undefined> {
  try {
    const status = await readFile('/proc/self/status', 'utf8');
    const match = /^CapEff:\s*([0-9a-f]+)$/m.exec(status);
    return match ? BigInt(`0x${match[1]}`) : undefined;
  } catch {
    return undefined;
  }
}

function hasNetCapabilities(mask: bigint): boolean {
  return (mask & (1n << BigInt(CAP_NET_RAW))) !== 0n && (mask & (1n << BigInt(CAP_NET_ADMIN))) !== 0n;
}

async function fileCapabilities(binary: string): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)('getcap', [binary], { timeout: 5000 });
    return stdout;
  } catch {
    return '';
  }
}

/**
 * Whether this process can run a capture, and how; throws CaptureUnavailableError saying
 * exactly what is missing. Checked before tcpdump starts so that a worker without privilege
 * says so once and keeps monitoring without captures.
 */
export async function checkCapturePermission(
  options: { tcpdumpPath?: string } = {},
): Promise<CapturePermission> {
  const tcpdumpPath = options.tcpdumpPath ?? (await findTcpdump());
  if (!tcpdumpPath) {
    throw new CaptureUnavailableError(
      'tcpdump is not installed (not found on PATH or in /usr/sbin): install the tcpdump package to capture packets',
      ['tcpdump'],
    );
  }
  const effective = await processCapabilities();
  const root = process.getuid?.() === 0;
  if (effective !== undefined && hasNetCapabilities(effective)) {
    return { tcpdumpPath, runAsRoot: root, via: root ? 'root' : 'process capabilities' };
  }
  if (!root) {
    const caps = await fileCapabilities(tcpdumpPath);
    if (/cap_net_raw/.test(caps) && /cap_net_admin/.test(caps) && /[=+][a-z]*e/.test(caps)) {
      return { tcpdumpPath, runAsRoot: false, via: `file capabilities on ${tcpdumpPath}` };
    }
  }
  const missing: string[] = [];
  if (effective === undefined || (effective & (1n << BigInt(CAP_NET_RAW))) === 0n)
    missing.push('CAP_NET_RAW');
  if (effective === undefined || (effective & (1n << BigInt(CAP_NET_ADMIN))) === 0n)
    missing.push('CAP_NET_ADMIN');
  const who = root
    ? 'running as root but without CAP_NET_RAW/CAP_NET_ADMIN (a container without NET_RAW/NET_ADMIN?)'
    : `running as uid ${process.getuid?.()} without ${missing.join(' and ')}`;
  throw new CaptureUnavailableError(`${PRIVILEGE_ADVICE} (${who})`, missing);
}
