#!/usr/bin/env node
// `npm run build-types`, and `prepack` before every `npm pack`/`npm publish`: declaration
// files of the public API (src/index.ts) into types/ (gitignored), which package.json's
// `exports` names under the `types` condition. pathwatch itself still runs from its
// TypeScript sources through tsx; the declarations exist so that a QA repository's own
// tsconfig (strict, any module setting, no allowImportingTsExtensions) type-checks its
// journeys against the API and never against pathwatch's internals.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = join(root, 'types');

// Stale declarations of a renamed source file must not reach the tarball.
rmSync(out, { recursive: true, force: true });
// `postpack`: the checkout's own journeys then type-check against src/ (the `default`
// condition), never against declarations left from an earlier pack.
if (process.argv.includes('--clean')) process.exit(0);
// typescript's `exports` hide bin/tsc; its package.json is exported and sits beside it.
const tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc');
const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.types.json')], {
  cwd: root,
  stdio: 'inherit',
});
if (result.status !== 0) {
  console.error(`build-types: tsc -p tsconfig.types.json failed (exit ${result.status ?? result.signal})`);
  process.exit(1);
}

// tsc declares every file the API's program reaches at runtime; keep only those the
// declarations themselves import, so the package carries the API and nothing else.
const entry = join(out, 'index.d.ts');
if (!existsSync(entry)) {
  console.error('build-types: tsc wrote no types/index.d.ts');
  process.exit(1);
}
const kept = new Set();
const pending = [entry];
while (pending.length > 0) {
  const file = pending.pop();
  if (kept.has(file)) continue;
  kept.add(file);
  const text = readFileSync(file, 'utf8');
  for (const match of text.matchAll(/(?:from\s+|import\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g)) {
    const target = resolve(dirname(file), match[1].replace(/\.(ts|js)$/, '.d.ts'));
    if (!existsSync(target)) {
      console.error(`build-types: ${relative(root, file)} imports ${match[1]}, which was not declared`);
      process.exit(1);
    }
    pending.push(target);
  }
}
let removed = 0;
function prune(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      prune(path);
      if (readdirSync(path).length === 0) rmSync(path, { recursive: true });
    } else if (!kept.has(path)) {
      rmSync(path);
      removed += 1;
    }
  }
}
prune(out);
console.log(`build-types: ${kept.size} declaration files in types/ (${removed} internal ones left out)`);
