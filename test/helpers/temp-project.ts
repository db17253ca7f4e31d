import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './run-cli.ts';

/**
 * A throw-away directory that can hold a config and journey files importing 'pathwatch'
 * by name (node_modules/pathwatch links to this repository), as a user's project would.
 */
export function createTempProject(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'pathwatch-project-'));
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(REPO_ROOT, join(dir, 'node_modules', 'pathwatch'));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  return dir;
}
