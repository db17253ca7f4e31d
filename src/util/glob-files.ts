import { readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

/** `journeys/*.journey.ts`, `journeys/**\/*.journey.ts` → a RegExp over relative paths. */
function globToRegExp(pattern: string): RegExp {
  let source = '';
  for (let index = 0; index < pattern.length; index++) {
    const char = pattern[index];
    if (char === '*' && pattern[index + 1] === '*') {
      const followedBySlash = pattern[index + 2] === '/';
      source += followedBySlash ? '(?:.*/)?' : '.*';
      index += followedBySlash ? 2 : 1;
    } else if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/**
 * Files under `baseDir` matching any of the globs (`*`, `**`, `?`), sorted. Node 20 has no
 * fs.glob, and journey globs need no more than this.
 */
export async function globFiles(baseDir: string, patterns: string[]): Promise<string[]> {
  const regexps = patterns.map((pattern) => globToRegExp(pattern.replace(/^\.\//, '')));
  const entries = await readdir(baseDir, { recursive: true, withFileTypes: true }).catch(() => []);
  const matches = new Set<string>();
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const parent =
      (entry as unknown as { parentPath?: string; path?: string }).parentPath ??
      (entry as unknown as { path: string }).path;
    const path = relative(baseDir, join(parent, entry.name)).split(sep).join('/');
    if (path.startsWith('node_modules/') || path.includes('/node_modules/')) continue;
    if (regexps.some((regexp) => regexp.test(path))) matches.add(join(baseDir, path));
  }
  return [...matches].sort();
}
