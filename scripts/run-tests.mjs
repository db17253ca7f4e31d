#!/usr/bin/env node
// The README's test command. Runs every test file under test/ with node's test runner
// (through tsx, since tests are TypeScript), two files at a time on 2 cores.
// Extra arguments narrow the run: `npm test -- test/unit/config.test.ts`.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

function testFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory())
      return entry.name === 'fixtures' || entry.name === 'helpers' ? [] : testFiles(path);
    return entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

const requested = process.argv.slice(2);
const files = requested.length > 0 ? requested : testFiles('test').sort();
const result = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    '--test-reporter=spec',
    '--test-concurrency=2',
    // Each file counts as one test here too: the CLI file, which starts pathwatch a dozen
    // times, takes over a minute on a quiet machine and three on a loaded one.
    '--test-timeout=300000',
    ...files,
  ],
  {
    stdio: 'inherit',
    env: { ...process.env, PATHWATCH_LOG_LEVEL: process.env.PATHWATCH_LOG_LEVEL ?? 'silent' },
  },
);
process.exit(result.status ?? 1);
