import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** The run's own files in the browser's tracesDir (resources are shared, content-addressed). */
export async function removeTraceFiles(tracesDir: string, traceName: string): Promise<void> {
  const names = await readdir(tracesDir).catch(() => [] as string[]);
  await Promise.all(
    names
      .filter((name) => name.startsWith(`${traceName}.`) || name.startsWith(`${traceName}-`))
      .map((name) => rm(join(tracesDir, name), { force: true })),
  );
}
