import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { z } from 'zod';
import { optionRows } from '../../scripts/config-option-rows.ts';
import { type ConfigSection, configSections } from '../../scripts/config-sections.ts';
import {
  documentedSections,
  endMarker,
  README_PATH,
  readmeTableMismatches,
  startMarker,
  undocumentedKeys,
  writeConfigTables,
} from '../../scripts/config-tables.ts';
import { secretRef } from '../../src/config/secret-resolver.ts';
import { byteSize, duration } from '../../src/config/zod-helpers.ts';

const readme = () => readFileSync(README_PATH, 'utf8');

/** The README as the generator makes it from today's schema, so these tests do not hang on the one above. */
const currentReadme = () => writeConfigTables(readme(), documentedSections());

test("README.md's option tables are the ones the schema gives", () => {
  const problems = readmeTableMismatches(readme(), documentedSections());
  assert.deepEqual(problems, [], problems.join('\n'));
});

test('every config field has a description (its meaning and default)', () => {
  const missing = undocumentedKeys(configSections());
  assert.deepEqual(
    missing,
    [],
    `add .describe() with the meaning and default to:\n  ${missing.join('\n  ')}`,
  );
});

test('every kind in the registry has its table, and the generated README covers every section', () => {
  const sections = documentedSections();
  const text = readme();
  for (const section of sections) {
    assert.ok(text.includes(startMarker(section.name)), `no table for ${section.name}`);
    assert.ok(text.includes(endMarker(section.name)), `no end marker for ${section.name}`);
  }
  for (const kind of ['http', 'dns', 'tcp', 'tls', 'smtp', 'ftp', 'crawl', 'ping'])
    assert.ok(
      sections.some((section) => section.isKind && section.name === kind),
      `kind ${kind} has no table`,
    );
});

/** The README's sections with one description changed, as if a schema's `.describe()` had been edited. */
function withDescription(sections: ConfigSection[], key: string, description: string): ConfigSection[] {
  return sections.map((section) => ({
    ...section,
    rows: section.rows.map((row) => (row.key === key ? { ...row, description } : row)),
  }));
}

test('a changed description makes the check fail, naming the table, the key and the fix', () => {
  const changed = withDescription(documentedSections(), 'http.url', 'Where to send the request.');
  assert.deepEqual(readmeTableMismatches(currentReadme(), changed), [
    'README.md table "http" differs from the schema at `http.url`: run `npm run docs:config`',
  ]);
  // and regenerating makes it pass again, touching nothing but that table
  const regenerated = writeConfigTables(currentReadme(), changed);
  assert.deepEqual(readmeTableMismatches(regenerated, changed), []);
  const current = currentReadme();
  const [before, after] = [current.indexOf(startMarker('http')), current.indexOf(endMarker('http'))];
  assert.equal(regenerated.slice(0, before), current.slice(0, before));
  assert.equal(regenerated.slice(regenerated.indexOf(endMarker('http'))), current.slice(after));
});

test('a table missing from the README, or one the schema no longer has, is named', () => {
  const sections = documentedSections();
  const http = sections.find((section) => section.name === 'http')!;
  const withoutHttp = currentReadme().replace(startMarker('http'), '<!-- removed -->');
  assert.ok(
    readmeTableMismatches(withoutHttp, sections).includes(
      'README.md table "http" is missing (no <!-- config:http:start -->): run `npm run docs:config`',
    ),
  );
  const renamed = sections.map((section) => (section === http ? { ...section, name: 'https' } : section));
  const problems = readmeTableMismatches(currentReadme(), renamed);
  assert.ok(
    problems.includes(
      'README.md table "http": the schema has no such table any more; delete it from <!-- config:http:start --> to <!-- config:http:end -->',
    ),
    problems.join('\n'),
  );
  assert.throws(
    () => writeConfigTables(currentReadme(), renamed),
    /README.md has tables the schema no longer has: http;/,
  );
});

test('a new kind gets its table after the last kind, under a heading of its own', () => {
  const quic: ConfigSection = {
    name: 'quic',
    title: '`quic` check',
    isKind: true,
    rows: optionRows({ quic: z.object({ host: z.string().describe('Where to connect. Required.') }) }, ''),
  };
  const sections = [...documentedSections(), quic];
  const written = writeConfigTables(currentReadme(), sections);
  assert.deepEqual(readmeTableMismatches(written, sections), []);
  const last = written.indexOf(endMarker('udp'));
  const added = written.indexOf('### `quic` check');
  assert.ok(last !== -1 && added > last, 'the quic table follows the udp table, the last kind');
  assert.match(written, /\| `quic\.host` \| string +\| required \| Where to connect\. Required\. \|/);
});

test('a field without a description is reported with its section and key', () => {
  const section: ConfigSection = {
    name: 'demo',
    title: 'demo',
    isKind: false,
    rows: optionRows({ described: z.string().describe('Has one.'), bare: z.number().optional() }, 'demo'),
  };
  assert.deepEqual(undocumentedKeys([section]), ['demo: demo.bare']);
});

test('types and defaults read as an operator writes them', () => {
  const rows = optionRows(
    {
      every: duration({ min: 60_000 }).default(3_600_000).describe('d'),
      ring: byteSize()
        .default(1024 ** 3)
        .describe('s'),
      password: secretRef().optional().describe('p'),
      port: z.number().int().min(1).max(65535).default(587).describe('n'),
      mode: z.enum(['headers', 'full']).default('headers').describe('e'),
      filter: z.string().default('').describe('f'),
      list: z
        .array(z.object({ path: z.string().describe('l') }))
        .default([])
        .describe('a'),
      names: z.record(z.string(), z.object({ side: z.string().optional().describe('r') })).describe('m'),
    },
    'x',
  );
  assert.deepEqual(
    rows.map((row) => [row.key, row.type, row.default]),
    [
      ['x.every', 'duration', '`1h`'],
      ['x.ring', 'size', '`1GiB`'],
      ['x.password', 'secret reference', ''],
      ['x.port', 'integer 1–65535', '`587`'],
      ['x.mode', '`headers` | `full`', '`headers`'],
      ['x.filter', 'string', '`""`'],
      ['x.list', 'object[]', '`[]`'],
      ['x.list[].path', 'string', 'required'],
      ['x.names', 'map of object', 'required'],
      ['x.names.<id>.side', 'string', ''],
    ],
  );
});
