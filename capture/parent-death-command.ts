import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { promisify } from 'node:util';

const SETPRIV_DIRS = ['/usr/bin', '/bin', '/usr/sbin', '/sbin', '/usr/local/bin'];

let cached: Promise<string[] | undefined> | undefined;

/**
 * The command prefix that makes a child die with this process: `setpriv --pdeathsig TERM`
 * (util-linux, "required" on Debian). Node cannot set PR_SET_PDEATHSIG itself; setpriv sets
 * it and then execs the command, so the child's pid stays the command's own. undefined where
 * setpriv is missing or too old for --pdeathsig (util-linux < 2.33): the ring lock then is
 * the only guard against an orphaned tcpdump.
 *
 * The signal follows the death of the thread that forked: Node spawns from its main thread,
 * so it fires when the process dies (kill -9 included), not when a worker thread ends.
 */
export function parentDeathCommand(): Promise<string[] | undefined> {
  cached ??= find();
  return cached;
}

async function find(): Promise<string[] | undefined> {
  for (const dir of SETPRIV_DIRS) {
    const path = `${dir}/setpriv`;
    try {
      await access(path, constants.X_OK);
    } catch {
      continue;
    }
    try {
      const { stdout } = await promisify(execFile)(path, ['--help'], { timeout: 5000 });
      if (stdout.includes('--pdeathsig')) return [path, '--pdeathsig', 'TERM'];
    } catch {
      // a setpriv that cannot even print its help is no use
    }
    return undefined;
  }
  return undefined;
}
