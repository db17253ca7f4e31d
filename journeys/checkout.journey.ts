import { journey } from 'pathwatch';

/**
 * A customer buys a mug in the demo shop: log in, add to cart, check the total, pay, see
 * the confirmation. Copy this file to start a journey of your own; try it locally with
 *   pathwatch run journeys/checkout.journey.ts
 */
export default journey({
  id: 'checkout',
  name: 'Demo shop checkout',
  interval: '1m',
  timeout: '45s',
  tags: ['payments'],
  params: { shopUrl: process.env.DEMO_SHOP_URL ?? 'http://127.0.0.1:4601' },
  // Read from the secrets file named in pathwatch.config.ts; masked in results and HAR.
  secrets: { password: '${file:DEMO_SHOP_PASSWORD}' },
  async run({ page, step, expect, params, secrets }) {
    await step('open shop', async () => {
      await page.goto(params.shopUrl);
      await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
    });
    await step('log in', async () => {
      await page.getByRole('link', { name: 'Log in' }).click();
      await page.getByLabel('Username').fill('alice');
      await page.getByLabel('Password').fill(secrets.password);
      await page.getByRole('button', { name: 'Log in' }).click();
      await expect(page).toHaveURL(/\/products$/);
    });
    await step('add to cart', async () => {
      await page.getByTestId('add-mug').click();
      await expect(page.getByRole('status')).toContainText('Added');
      await page.getByRole('link', { name: 'Cart' }).click();
      await expect(page.getByTestId('cart-total')).toHaveText('$12.00');
    });
    await step('checkout', async () => {
      await page.getByRole('link', { name: 'Checkout' }).click();
      await page.getByLabel('Card number').fill('4242 4242 4242 4242');
      await page.getByLabel('Expiry (MM/YY)').fill('12/99');
      await page.getByLabel('CVC').fill('123');
      await page.getByLabel('Name on card').fill('Alice Liddell');
    });
    await step(
      'pay',
      async () => {
        await page.getByRole('button', { name: 'Pay' }).click();
        await expect(page.getByRole('heading', { name: 'Thank you for your order' })).toBeVisible();
      },
      { timeout: '10s' },
    );
  },
});
