import { glob } from 'tinyglobby';

/**
 * Files under `baseDir` matching any of the globs (`*`, `**`, `?`, `{a,b}`), absolute and
 * sorted. tinyglobby walks only the directories a pattern can reach (the hand-written walk
 * it replaces read all of node_modules); node_modules is never searched, so a `**` glob
 * cannot pick up a dependency's journey files.
 */
export async function globFiles(baseDir: string, patterns: string[]): Promise<string[]> {
  const files = await glob(
    patterns.map((pattern) => pattern.replace(/^\.\//, '')),
    {
      cwd: baseDir,
      absolute: true,
      onlyFiles: true,
      // A pattern names files, as before: `journeys` alone is not every file below it.
      expandDirectories: false,
      ignore: ['**/node_modules/**'],
    },
  ).catch(() => [] as string[]);
  return files.sort();
}
