import assert from 'node:assert/strict';
import { after, before, type TestContext, test } from 'node:test';
import { type Browser, chromium, type Page } from 'playwright';
import { type DemoShop, startDemoShop } from '../../src/demo-shop/demo-shop.ts';
import {
  DEFAULT_BROWSER_SETTINGS,
  DEFAULT_CHROMIUM_ARGS,
  resolveExecutablePath,
} from '../../src/journeys/browser-settings.ts';
import { LOOPBACK_ONLY_CHROMIUM_ARGS } from '../helpers/loopback-browser.ts';

// pathwatch's own Chromium flags; the resolver rules keep every packet on loopback (DESIGN.md).
const LAUNCH_ARGS = [...DEFAULT_CHROMIUM_ARGS, ...LOOPBACK_ONLY_CHROMIUM_ARGS];

let browser: Browser;

before(async () => {
  browser = await chromium.launch({
    executablePath: resolveExecutablePath(DEFAULT_BROWSER_SETTINGS),
    args: LAUNCH_ARGS,
  });
});

after(async () => {
  await browser?.close();
});

/** A shop and a fresh page for one test, both closed when the test ends; records every request. */
async function openShop(t: TestContext): Promise<{ shop: DemoShop; page: Page; requests: string[] }> {
  const shop = await startDemoShop();
  t.after(() => shop.close());
  const context = await browser.newContext();
  t.after(() => context.close());
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const requests: string[] = [];
  page.on('request', (request) => requests.push(request.url()));
  return { shop, page, requests };
}

/** The journey up to the checkout form, as a customer walks it. */
async function walkToCheckout(page: Page, shop: DemoShop): Promise<void> {
  await page.goto(shop.url);
  await page.getByRole('link', { name: 'Log in' }).click();
  await page.getByLabel('Username').fill('alice');
  await page.getByLabel('Password').fill('wonderland');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL(`${shop.url}/products`);
  await page.getByTestId('add-mug').click();
  await page.getByRole('status').filter({ hasText: 'Added Pathwatch Mug' }).waitFor();
  await page.getByRole('link', { name: 'Cart' }).click();
  assert.equal(await page.getByTestId('cart-total').textContent(), '$12.00');
  await page.getByRole('link', { name: 'Checkout' }).click();
  await page.getByRole('heading', { name: 'Checkout' }).waitFor();
  await page.getByLabel('Card number').fill('4242 4242 4242 4242');
  await page.getByLabel('Expiry (MM/YY)').fill('12/99');
  await page.getByLabel('CVC').fill('123');
  await page.getByLabel('Name on card').fill('Alice Liddell');
}

test('a customer logs in, adds a mug, pays and sees the confirmation', async (t) => {
  const { shop, page, requests } = await openShop(t);

  // A wrong password first: the login form says so in an alert.
  await page.goto(`${shop.url}/login`);
  await page.getByLabel('Username').fill('alice');
  await page.getByLabel('Password').fill('through-the-looking-glass');
  await page.getByRole('button', { name: 'Log in' }).click();
  assert.equal(await page.getByRole('alert').textContent(), 'Wrong username or password.');

  await walkToCheckout(page, shop);
  await page.getByRole('button', { name: 'Pay' }).click();
  await page.getByRole('heading', { name: 'Thank you for your order' }).waitFor();
  const orderId = await page.getByTestId('order-id').textContent();
  assert.match(orderId ?? '', /^ord_[0-9a-f]{12}$/);
  assert.equal(new URL(page.url()).searchParams.get('order'), orderId);

  assert.ok(requests.includes(`${shop.url}/api/pay`), 'the Pay button posted to /api/pay');
  const elsewhere = requests.filter((url) => !url.startsWith(`${shop.url}/`) && url !== shop.url);
  assert.deepEqual(elsewhere, [], 'the shop loads nothing from anywhere else');
});

test('with brokenPayButton the Pay click sends nothing and the confirmation never appears', async (t) => {
  const { shop, page, requests } = await openShop(t);
  await walkToCheckout(page, shop);
  shop.faults.brokenPayButton = true;
  await page.reload();
  await page.getByLabel('Card number').fill('4242 4242 4242 4242');
  await page.getByLabel('Expiry (MM/YY)').fill('12/99');
  await page.getByLabel('CVC').fill('123');
  await page.getByLabel('Name on card').fill('Alice Liddell');

  await page.getByRole('button', { name: 'Pay' }).click();
  // Waiting for what must not come: a confirmation page within a journey step's patience.
  await assert.rejects(
    page.getByRole('heading', { name: 'Thank you for your order' }).waitFor({ timeout: 1500 }),
    { name: 'TimeoutError' },
  );
  assert.equal(page.url(), `${shop.url}/checkout`);
  assert.ok(!requests.some((url) => url.includes('/api/pay')), 'no payment request was sent');
});
