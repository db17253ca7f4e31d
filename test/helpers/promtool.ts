import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const UNPACKED = join(import.meta.dirname, '../../.cache/promtool/usr/bin/promtool');

/** Prometheus' promtool (on PATH, or unpacked by scripts/install.sh), or undefined. */
export function promtoolPath(): string | undefined {
  try {
    return execFileSync('sh', ['-c', 'command -v promtool'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return existsSync(UNPACKED) ? UNPACKED : undefined;
  }
}

/** `promtool check metrics` on `text`: its exit code and what it printed. */
export function promtoolCheckMetrics(
  promtool: string,
  text: string,
): { status: number | null; output: string } {
  const result = spawnSync(promtool, ['check', 'metrics'], { input: text, encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}`.trim() };
}
