import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type DemoShop, startDemoShop } from '../../src/demo-shop/demo-shop.ts';
import { LOOPBACK_ONLY_CHROMIUM_ARGS } from '../helpers/loopback-browser.ts';
import { runCli } from '../helpers/run-cli.ts';

let shop: DemoShop;
let env: NodeJS.ProcessEnv;

before(async () => {
  shop = await startDemoShop();
  env = {
    ...process.env,
    DEMO_SHOP_URL: shop.url,
    PATHWATCH_EXTRA_BROWSER_ARGS: LOOPBACK_ONLY_CHROMIUM_ARGS.join('\n'),
    PATHWATCH_LOG_LEVEL: 'silent',
  };
});

after(async () => {
  await shop.close();
});

test('pathwatch run <journey> prints every step with its time, then the verdict; exit 0', async () => {
  const result = await runCli(['run', 'journeys/checkout.journey.ts'], { env });
  assert.equal(result.code, 0, result.stdout + result.stderr);
  const lines = result.stdout.trim().split('\n');
  assert.equal(lines[0], 'checkout (journey) at local: journeys/checkout.journey.ts');
  for (const [index, name] of ['open shop', 'log in', 'add to cart', 'checkout', 'pay'].entries()) {
    assert.match(lines[index + 1], new RegExp(`^  ok   ${index + 1} ${name} +[\\d.]+ (ms|s)$`));
  }
  assert.match(lines[6], /^PASS in [\d.]+ (ms|s)$/);
  assert.match(result.stdout, /har +\.pathwatch\/artifacts\/runs\/[\w-]+\/network\.har/);
});

test('a failing journey names the step, the expectation and where the evidence is; exit 1', async () => {
  const result = await runCli(['run', 'journeys/examples/wrong-total.journey.ts'], { env });
  assert.equal(result.code, 1);
  assert.match(result.stdout, /^ {2}FAIL 3 check total /m);
  assert.match(
    result.stdout,
    /^FAIL in [\d.]+ s \(assertion\) journey "wrong-total" step 3 "check total": expect\(locator\)\.toHaveText\(expected\) failed; Locator: getByTestId\('cart-total'\); Expected: "\$10\.00"; Received: "\$12\.00"/m,
  );
  for (const kind of ['screenshot', 'trace', 'har'])
    assert.match(result.stdout, new RegExp(`^  ${kind} +\\.pathwatch/artifacts/runs/`, 'm'));
  assert.match(result.stdout, /open the trace: npx playwright show-trace /);
});

test('a journey file that does not compile is a usage error naming the file and line; exit 2', async () => {
  const result = await runCli(['run', 'test/fixtures/journeys/does-not-compile.journey.ts'], { env });
  assert.equal(result.code, 2);
  assert.match(
    result.stderr.trim(),
    /^test\/fixtures\/journeys\/does-not-compile\.journey\.ts: line 7, column \d+: does not compile: /,
  );
});
