import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { moduleSpecifiers } from '../helpers/module-specifiers.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Imports point one way: `src/` is the library, `capture/` the capture agent built on it, and
 * `workers/` the processes (CLI, stack, job handlers) that put both together.
 */
const MAY_IMPORT: Record<string, string[]> = {
  src: ['src'],
  capture: ['capture', 'src'],
  workers: ['workers', 'capture', 'src'],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** One line per import that points the wrong way: file, line, specifier, what it reaches. */
function importDirectionProblems(root: string, sources: Array<{ file: string; text: string }>): string[] {
  const problems: string[] = [];
  for (const { file, text } of sources) {
    const folder = relative(root, file).split(sep)[0];
    const allowed = MAY_IMPORT[folder];
    for (const { specifier, line, kind } of moduleSpecifiers(text)) {
      if (!specifier.startsWith('.')) continue; // a package
      const target = relative(root, resolve(dirname(file), specifier));
      const targetFolder = target.split(sep)[0];
      if (allowed.includes(targetFolder)) continue;
      problems.push(
        `${relative(root, file)}:${line}: ${kind} import '${specifier}' reaches ${target}: ${folder}/ may import only ${allowed.map((name) => `${name}/`).join(', ')}`,
      );
    }
  }
  return problems;
}

test('src/ imports only src/, capture/ only src/ and itself, workers/ any of the three', () => {
  const files = Object.keys(MAY_IMPORT).flatMap((folder) => sourceFiles(join(ROOT, folder)));
  // The walk itself must have found the tree, or an empty walk would pass.
  assert.ok(files.length > 150, `expected the whole tree, found ${files.length} files`);
  const sources = files.map((file) => ({ file, text: readFileSync(file, 'utf8') }));
  const scanned = sources.reduce((sum, { text }) => sum + moduleSpecifiers(text).length, 0);
  assert.ok(scanned > 500, `expected the imports of the whole tree, found ${scanned}`);
  const problems = importDirectionProblems(ROOT, sources);
  assert.deepEqual(problems, [], `imports that point the wrong way:\n${problems.join('\n')}`);
});

test('a wrong-way import is named with its file, line, specifier and the rule', () => {
  const root = '/repo';
  const problems = importDirectionProblems(root, [
    { file: '/repo/src/config/schema.ts', text: "import { x } from '../../capture/x.ts';\n" },
    { file: '/repo/src/cli.ts', text: "\nconst { y } = await import('../workers/y.ts');\n" },
    { file: '/repo/capture/agent.ts', text: "import type { Z } from '../workers/z.ts';\n" },
    { file: '/repo/capture/ok.ts', text: "import { a } from '../src/a.ts';\nimport { b } from './b.ts';" },
    { file: '/repo/workers/ok.ts', text: "import '../capture/c.ts';\nimport { d } from '../src/d.ts';" },
  ]);
  assert.deepEqual(problems, [
    "src/config/schema.ts:1: static import '../../capture/x.ts' reaches capture/x.ts: src/ may import only src/",
    "src/cli.ts:2: dynamic import '../workers/y.ts' reaches workers/y.ts: src/ may import only src/",
    "capture/agent.ts:1: static import '../workers/z.ts' reaches workers/z.ts: capture/ may import only capture/, src/",
  ]);
});

test('every form of import is found, and nothing in comments, strings or regexes is', () => {
  const source = [
    "import { a } from './a.ts';",
    "import type { B } from '../b.ts';",
    'import {',
    '  c,',
    "} from './c.ts';",
    "export { d } from './d.ts';",
    "export * from './e.ts';",
    "import './f.ts';",
    "const g = await import('./g.ts');",
    'const h = await import(`./h.ts`);',
    "const worker = new URL('./i.ts', import.meta.url);",
    "// import { no } from './comment.ts';",
    "/* import('./block-comment.ts') */",
    'const text = "import { no } from \'./string.ts\'";',
    "const quote = /['\"]/; const after = await import('./after-regex.ts');",
    "const template = `${x} from './template.ts'`;",
    "const json = new URL('../package.json', import.meta.url);",
    "const dynamicName = await import(name + '.ts');",
  ].join('\n');
  assert.deepEqual(
    moduleSpecifiers(source).map(({ specifier, line, kind }) => `${line} ${kind} ${specifier}`),
    [
      '1 static ./a.ts',
      '2 static ../b.ts',
      '5 static ./c.ts',
      '6 static ./d.ts',
      '7 static ./e.ts',
      '8 static ./f.ts',
      '9 dynamic ./g.ts',
      '10 dynamic ./h.ts',
      '11 url ./i.ts',
      '15 dynamic ./after-regex.ts',
    ],
  );
});
