import { readFileSync } from 'node:fs';

/** pathwatch's version, from its package.json (shown by --version and written into HARs). */
export const PATHWATCH_VERSION: string = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
).version;
