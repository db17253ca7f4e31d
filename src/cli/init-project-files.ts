/** How the QA repository's package.json has Node read its `.ts`/`.js` files. */
export type PackageModuleFormat = 'esm' | 'commonjs';

/**
 * The files `pathwatch init` writes into a QA repository, by path relative to it. They work
 * in an ESM and in a CommonJS package alike: pathwatch loads journeys and the config through
 * tsx, which reads `export default` in both. Only the tsconfig differs, so that `tsc` checks
 * what tsx will run (see `tsconfigFile`).
 */
export function initProjectFiles(format: PackageModuleFormat): Record<string, string> {
  return {
    'journeys/example.journey.ts': EXAMPLE_JOURNEY,
    'pathwatch.config.ts': CONFIG,
    'tsconfig.json': tsconfigFile(format),
  };
}

const EXAMPLE_JOURNEY = `import { journey } from 'pathwatch';

/**
 * A first journey: opens the shop and its login page. It points at pathwatch's bundled demo
 * shop (\`npx pathwatch demo-shop\`); set SHOP_URL, or edit params, to walk your own site.
 * Try it once, here:  npx pathwatch run journeys/example.journey.ts
 */
export default journey({
  id: 'example',
  name: 'Example: shop login page',
  interval: '5m',
  timeout: '30s',
  params: { shopUrl: process.env.SHOP_URL ?? 'http://127.0.0.1:4601' },
  async run({ page, step, expect, params }) {
    await step('open shop', async () => {
      await page.goto(params.shopUrl);
      await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
    });
    await step('open login page', async () => {
      await page.getByRole('link', { name: 'Log in' }).click();
      await expect(page.getByLabel('Username')).toBeVisible();
    });
  },
});
`;

const CONFIG = `import { defineConfig } from 'pathwatch';

// Checked by \`npx pathwatch validate\`; every option is typed, so the editor completes it.
export default defineConfig({
  locations: {
    local: { description: 'this machine' },
  },
  journeys: 'journeys/**/*.journey.ts',
});
`;

/**
 * An ESM package gets `NodeNext`, Node's own rules. A CommonJS package gets `preserve` with
 * bundler resolution: tsx runs its journeys as CommonJS yet lets them import pathwatch (an
 * ES module); `NodeNext` would call that import an error in TypeScript before 5.8, so the
 * repository's own TypeScript version decides nothing here.
 */
function tsconfigFile(format: PackageModuleFormat): string {
  const moduleOptions =
    format === 'esm'
      ? { module: 'NodeNext', moduleResolution: 'NodeNext' }
      : { module: 'preserve', moduleResolution: 'bundler' };
  const config = {
    compilerOptions: {
      target: 'ES2022',
      ...moduleOptions,
      strict: true,
      noEmit: true,
      // Journeys use process.env and Playwright's types use Node's: `npm i -D @types/node`.
      types: ['node'],
    },
    include: ['journeys', 'pathwatch.config.ts'],
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}
