import { journey } from 'pathwatch';

/**
 * What a failing assertion looks like: this journey expects a price the shop does not
 * charge, so it fails at step "check total" with the expected and the received text, a
 * screenshot of the cart and the trace. It lives outside the example config's
 * `journeys/*.journey.ts` glob so the quick start is not failing all the time:
 *   pathwatch run journeys/examples/wrong-total.journey.ts
 */
export default journey({
  id: 'wrong-total',
  name: 'Cart total (deliberately wrong expectation)',
  interval: '5m',
  timeout: '30s',
  params: { shopUrl: process.env.DEMO_SHOP_URL ?? 'http://127.0.0.1:4601' },
  secrets: { password: '${file:DEMO_SHOP_PASSWORD}' },
  async run({ page, step, expect, params, secrets }) {
    await step('log in', async () => {
      await page.goto(`${params.shopUrl}/login`);
      await page.getByLabel('Username').fill('alice');
      await page.getByLabel('Password').fill(secrets.password);
      await page.getByRole('button', { name: 'Log in' }).click();
    });
    await step('add to cart', async () => {
      await page.getByTestId('add-mug').click();
      await page.getByRole('link', { name: 'Cart' }).click();
    });
    await step('check total', async () => {
      await expect(page.getByTestId('cart-total')).toHaveText('$10.00', { timeout: 2000 });
    });
  },
});
