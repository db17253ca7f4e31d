import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TsharkConversation {
  /** `a:port|b:port`, endpoints sorted, to compare with our flows. */
  key: string;
  frames: number;
}

/** Sorted `ip:port|ip:port`, the same key for both directions. */
export function conversationKey(a: string, b: string): string {
  return [a, b].sort().join('|');
}

/** `tshark -q -z conv,tcp`: frames per TCP conversation. */
export async function tsharkConversations(file: string): Promise<TsharkConversation[]> {
  const { stdout } = await run('tshark', ['-r', file, '-q', '-z', 'conv,tcp'], { timeout: 30_000 });
  const conversations: TsharkConversation[] = [];
  for (const line of stdout.split('\n')) {
    // 127.0.0.1:55424 <-> 127.0.0.1:45888   4 1772 bytes   6 409 bytes   10 2181 bytes ...
    const match = /^(\S+:\d+)\s+<->\s+(\S+:\d+)\s+\d+\s+[\d,.]+\s+\S+\s+\d+\s+[\d,.]+\s+\S+\s+(\d+)\s/.exec(
      line,
    );
    if (match) conversations.push({ key: conversationKey(match[1], match[2]), frames: Number(match[3]) });
  }
  return conversations;
}

/** Number of frames matching a display filter, e.g. `tcp.analysis.retransmission`. */
export async function tsharkCount(file: string, displayFilter: string): Promise<number> {
  const { stdout } = await run(
    'tshark',
    ['-r', file, '-Y', displayFilter, '-T', 'fields', '-e', 'frame.number'],
    {
      timeout: 30_000,
    },
  );
  return stdout.split('\n').filter((line) => line.trim() !== '').length;
}
