import { readdirSync, readFileSync } from 'node:fs';

interface ProcessInfo {
  pid: number;
  ppid: number;
  name: string;
}

function readProcess(pid: number): ProcessInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return { pid, ppid, name };
  } catch {
    return undefined;
  }
}

/** Every live descendant of `root` (default: this process), from /proc. */
export function descendants(root = process.pid): ProcessInfo[] {
  const all = readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map((entry) => readProcess(Number(entry)))
    .filter((info): info is ProcessInfo => info !== undefined);
  const found: ProcessInfo[] = [];
  const frontier = [root];
  while (frontier.length > 0) {
    const parent = frontier.pop()!;
    for (const info of all) {
      if (info.ppid === parent) {
        found.push(info);
        frontier.push(info.pid);
      }
    }
  }
  return found;
}

/** Chromium processes started by this process (the browser and its helpers). */
export function chromiumProcesses(root = process.pid): ProcessInfo[] {
  return descendants(root).filter((info) => /chrom/i.test(info.name));
}

/** The browser process itself: the chromium whose parent is not chromium. */
export function chromiumBrowserProcess(root = process.pid): ProcessInfo | undefined {
  const chromium = chromiumProcesses(root);
  return chromium.find((info) => !chromium.some((other) => other.pid === info.ppid));
}
