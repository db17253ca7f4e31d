import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { formatRun } from '../../src/cli/format-run.ts';
import { ERROR_CODES } from '../../src/results/error-codes.ts';
import { runCheckFromConfig } from '../helpers/check-fixtures.ts';
import { closedPort } from '../helpers/test-servers.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The rows of README's "Error codes" table: code → { class, action }. */
function readmeErrorCodes(): Map<string, { errorClass: string; action: string }> {
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  const start = readme.indexOf('\n### Error codes\n');
  assert.ok(start >= 0, 'README.md has an "### Error codes" section');
  const section = readme.slice(start + 1, readme.indexOf('\n#', start + 2));
  const rows = new Map<string, { errorClass: string; action: string }>();
  for (const line of section.split('\n')) {
    const cells = /^\|\s*`([A-Z_]+)`\s*\|\s*`([a-z_]+)`\s*\|(.*)\|\s*$/.exec(line);
    if (cells) rows.set(cells[1], { errorClass: cells[2], action: cells[3].trim() });
  }
  return rows;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) return sourceFiles(file);
    return file.endsWith('.ts') ? [file] : [];
  });
}

test('every error code is in README with its class and what to do, and README lists no other', () => {
  const documented = readmeErrorCodes();
  for (const [code, { class: errorClass, action }] of Object.entries(ERROR_CODES)) {
    const row = documented.get(code);
    assert.ok(
      row,
      `error code ${code} is missing from README's "Error codes" table: add | \`${code}\` | \`${errorClass}\` | ${action} |`,
    );
    assert.equal(
      row.errorClass,
      errorClass,
      `README gives ${code} class ${row.errorClass}, the code says ${errorClass}`,
    );
    assert.equal(
      row.action,
      action,
      `README's "what to do" for ${code} differs from ERROR_CODES in src/results/error-codes.ts`,
    );
  }
  for (const code of documented.keys())
    assert.ok(
      code in ERROR_CODES,
      `README lists error code ${code}, which src/results/error-codes.ts does not define`,
    );
});

test('every code the sources name is defined, and every defined code is produced somewhere', () => {
  const defined = new Set(Object.keys(ERROR_CODES));
  const used = new Map<string, string>();
  for (const file of sourceFiles(path.join(root, 'src'))) {
    if (file.endsWith(`${path.sep}error-codes.ts`)) continue;
    const text = readFileSync(file, 'utf8');
    // errorOf('CODE', …), ProbeError.of('CODE', …), ternaries and tables feeding them: any
    // quoted SHOUTING_NAME that is an error code somewhere.
    for (const match of text.matchAll(/'([A-Z][A-Z0-9]*_[A-Z0-9_]+|[A-Z]{4,})'/g)) {
      if (defined.has(match[1]) && !used.has(match[1])) used.set(match[1], path.relative(root, file));
    }
    for (const match of text.matchAll(/(?:errorOf|ProbeError\.of)\(\s*'([A-Z_]+)'/g))
      assert.ok(
        defined.has(match[1]),
        `${path.relative(root, file)} uses error code ${match[1]}, not in ERROR_CODES`,
      );
  }
  const unused = [...defined].filter((code) => !used.has(code));
  assert.deepEqual(unused, [], `codes defined but produced nowhere in src/: ${unused.join(', ')}`);
});

test('pathwatch run prints the code and what to do under the one-line reason', async () => {
  const port = await closedPort();
  const result = await runCheckFromConfig({ kind: 'tcp', tcp: { host: '127.0.0.1', port } });
  assert.equal(result.error?.code, 'CONNECT_REFUSED');
  const lines = formatRun(result).split('\n');
  assert.equal(
    lines[0],
    `probe-under-test (tcp) at local: FAIL (refused) connect to 127.0.0.1:${port} refused`,
  );
  assert.equal(lines[1], `  code CONNECT_REFUSED: ${ERROR_CODES.CONNECT_REFUSED.action}`);
});
