import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { initProjectFiles, type PackageModuleFormat } from '../../src/cli/init-project-files.ts';
import { CliExit, EXIT_USAGE } from '../cli/cli-exit.ts';

/** `pathwatch init [dir]`: a journeys folder, a config and a tsconfig in a QA repository. */
export function addInitCommand(program: Command): void {
  program
    .command('init')
    .description(
      'scaffold journeys/example.journey.ts, pathwatch.config.ts and tsconfig.json in a QA repository (never overwrites; exit 2 if one exists)',
    )
    .argument('[dir]', 'the repository folder (created if missing)', '.')
    .action((dir: string) => {
      const root = resolve(dir);
      const format = packageModuleFormat(root);
      const files = initProjectFiles(format);
      const shown = (name: string) => relative(process.cwd(), join(root, name)) || name;
      // Checked before anything is written: a refused init leaves the folder as it was.
      const existing = Object.keys(files).filter((name) => existsSync(join(root, name)));
      if (existing.length > 0) {
        throw new CliExit(
          EXIT_USAGE,
          `pathwatch init: ${existing.map(shown).join(', ')} already exist${existing.length === 1 ? 's' : ''}; nothing written (move ${existing.length === 1 ? 'it' : 'them'} away to scaffold again)`,
        );
      }
      for (const [name, content] of Object.entries(files)) {
        mkdirSync(dirname(join(root, name)), { recursive: true });
        // `wx`: a file that appeared since the check above is still not overwritten.
        writeFileSync(join(root, name), content, { flag: 'wx' });
      }
      const inRoot = relative(process.cwd(), root);
      console.log(
        [
          `pathwatch init: wrote ${Object.keys(files).map(shown).join(', ')} (${format === 'esm' ? 'ES module' : 'CommonJS'} package)`,
          'next:',
          ...(inRoot ? [`  cd ${inRoot}`] : []),
          '  npm install --save-dev pathwatch typescript @types/node   # unless installed already',
          '  npx tsc                                                   # type-check the journeys',
          '  npx pathwatch validate                                    # check the config and every journey',
          '  npx pathwatch demo-shop &                                 # the shop the example visits',
          '  npx pathwatch run journeys/example.journey.ts             # walk it once, here',
        ].join('\n'),
      );
    });
}

/**
 * Node's reading of the folder's package.json: ESM only with `"type": "module"`. No
 * package.json (npm writes one at the first install) or another type means CommonJS.
 */
function packageModuleFormat(root: string): PackageModuleFormat {
  const file = join(root, 'package.json');
  if (!existsSync(file)) return 'commonjs';
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new CliExit(
      EXIT_USAGE,
      `pathwatch init: ${relative(process.cwd(), file) || file}: not valid JSON (${(error as Error).message}); expected a package.json object`,
    );
  }
  return (parsed as { type?: unknown } | null)?.type === 'module' ? 'esm' : 'commonjs';
}
