// `npm run docs:config`: writes the README's option tables from the config schema, between
// `<!-- config:<name>:start -->` and `<!-- config:<name>:end -->`. The prose around them is
// hand-written and left alone. test/unit/readme-config-tables.test.ts fails when they differ.
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { OptionRow } from './config-option-rows.ts';
import { type ConfigSection, configSections } from './config-sections.ts';

export const README_PATH = resolve(import.meta.dirname, '..', 'README.md');

/** What to tell whoever meets a stale table. */
export const REGENERATE = 'run `npm run docs:config`';

export function startMarker(name: string): string {
  return `<!-- config:${name}:start -->`;
}

export function endMarker(name: string): string {
  return `<!-- config:${name}:end -->`;
}

const MARKER_RE = /<!-- config:([A-Za-z0-9_.-]+):start -->/g;

/** Keys whose schema field has no `.describe()`: each must say its meaning and default. */
export function undocumentedKeys(sections: ConfigSection[]): string[] {
  return sections.flatMap((section) =>
    section.rows.filter((row) => row.description === undefined).map((row) => `${section.name}: ${row.key}`),
  );
}

/** The sections as the README shows them. */
export function documentedSections(sections: ConfigSection[] = configSections()): ConfigSection[] {
  return sections;
}

function cell(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|');
}

function width(text: string): number {
  return [...text].length;
}

/** A markdown table, columns padded as prettier pads them, so the README diff stays readable. */
export function renderTable(rows: OptionRow[]): string {
  const header = ['key', 'type', 'default', 'meaning'];
  const body = rows.map((row) => [`\`${row.key}\``, row.type, row.default, row.description ?? ''].map(cell));
  const widths = header.map((title, column) =>
    Math.max(3, width(title), ...body.map((cells) => width(cells[column]))),
  );
  const line = (cells: string[]) =>
    `| ${cells.map((text, column) => text + ' '.repeat(widths[column] - width(text))).join(' | ')} |`;
  return [line(header), line(widths.map((size) => '-'.repeat(size))), ...body.map(line)].join('\n');
}

function block(section: ConfigSection): string {
  return `${startMarker(section.name)}\n\n${renderTable(section.rows)}\n\n${endMarker(section.name)}`;
}

/** Where a section's marked block sits in the README, or undefined when it has none. */
function findBlock(readme: string, name: string): { start: number; end: number } | undefined {
  const start = readme.indexOf(startMarker(name));
  if (start === -1) return undefined;
  const end = readme.indexOf(endMarker(name), start);
  if (end === -1) throw new Error(`README.md: ${startMarker(name)} has no ${endMarker(name)} after it`);
  return { start, end: end + endMarker(name).length };
}

function markedNames(readme: string): string[] {
  return [...readme.matchAll(MARKER_RE)].map((match) => match[1]);
}

/**
 * One line per table that differs from the schema, naming the table, the first row that
 * differs and the fix; empty when the README is current.
 */
export function readmeTableMismatches(readme: string, sections: ConfigSection[]): string[] {
  const known = new Set(sections.map((section) => section.name));
  const problems = markedNames(readme)
    .filter((name) => !known.has(name))
    .map(
      (name) =>
        `README.md table "${name}": the schema has no such table any more; delete it from ${startMarker(name)} to ${endMarker(name)}`,
    );
  for (const section of sections) {
    const found = findBlock(readme, section.name);
    if (!found) {
      problems.push(
        `README.md table "${section.name}" is missing (no ${startMarker(section.name)}): ${REGENERATE}`,
      );
      continue;
    }
    const shown = readme.slice(found.start, found.end).split('\n');
    const wanted = block(section).split('\n');
    const index = wanted.findIndex((line, at) => shown[at] !== line);
    if (index === -1 && shown.length === wanted.length) continue;
    const at = index === -1 ? wanted.length : index;
    const key = /^\| `([^`]+)`/.exec(wanted[at] ?? shown[at] ?? '')?.[1];
    problems.push(
      `README.md table "${section.name}" differs from the schema${key ? ` at \`${key}\`` : ''}: ${REGENERATE}`,
    );
  }
  return problems;
}

/**
 * The README with every table regenerated. A table with no markers yet (a new kind, a new
 * top-level block) is added after the table before it, under a heading of its own.
 */
export function writeConfigTables(readme: string, sections: ConfigSection[]): string {
  const stale = markedNames(readme).filter((name) => !sections.some((section) => section.name === name));
  if (stale.length > 0)
    throw new Error(
      `README.md has tables the schema no longer has: ${stale.join(', ')}; delete each from its start to its end marker`,
    );
  let text = readme;
  sections.forEach((section, index) => {
    const found = findBlock(text, section.name);
    if (found) {
      text = text.slice(0, found.start) + block(section) + text.slice(found.end);
      return;
    }
    const previous = sections
      .slice(0, index)
      .reverse()
      .map((other) => findBlock(text, other.name))
      .find(Boolean);
    if (!previous)
      throw new Error(
        `README.md has no place for table "${section.name}": add ${startMarker(section.name)} and ${endMarker(section.name)} where it belongs`,
      );
    const added = `\n\n### ${section.title}\n\n${block(section)}`;
    text = text.slice(0, previous.end) + added + text.slice(previous.end);
  });
  return text;
}

function main(): void {
  const sections = configSections();
  const readme = readFileSync(README_PATH, 'utf8');
  const written = writeConfigTables(readme, documentedSections(sections));
  if (written === readme) console.log(`README.md: ${sections.length} option tables, all current`);
  else {
    writeFileSync(README_PATH, written);
    console.log(`README.md: ${sections.length} option tables written`);
  }
  const undocumented = undocumentedKeys(sections);
  if (undocumented.length > 0) {
    console.error(
      `config fields without a description (add .describe() with the meaning and default):\n  ${undocumented.join('\n  ')}`,
    );
    process.exitCode = 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    main();
  } catch (error) {
    console.error((error as Error).message);
    process.exitCode = 1;
  }
}
