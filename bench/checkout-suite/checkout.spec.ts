import { expect, type Page, test } from '@playwright/test';

// The same steps as journeys/checkout.journey.ts and bench/journey-loop.ts's bare script.
async function checkout({ page }: { page: Page }): Promise<void> {
  await test.step('open the shop', async () => {
    await page.goto('/');
    await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  });
  await test.step('log in', async () => {
    await page.getByRole('link', { name: 'Log in' }).click();
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password').fill(process.env.PATHWATCH_SECRET_PASSWORD ?? '');
    await page.getByRole('button', { name: 'Log in' }).click();
    await expect(page).toHaveURL(/\/products$/);
  });
  await test.step('add to cart', async () => {
    await page.getByTestId('add-mug').click();
    await expect(page.getByRole('status')).toContainText('Added');
    await page.getByRole('link', { name: 'Cart' }).click();
    await expect(page.getByTestId('cart-total')).toHaveText('$12.00');
  });
  await test.step('pay', async () => {
    await page.getByRole('link', { name: 'Checkout' }).click();
    await page.getByLabel('Card number').fill('4242 4242 4242 4242');
    await page.getByLabel('Expiry (MM/YY)').fill('12/99');
    await page.getByLabel('CVC').fill('123');
    await page.getByLabel('Name on card').fill('Alice Liddell');
    await page.getByRole('button', { name: 'Pay' }).click();
    await expect(page.getByRole('heading', { name: 'Thank you for your order' })).toBeVisible();
  });
}

// One test, as pathwatch monitors it. The `playwright-test` variant asks for BENCH_REPEAT
// copies instead: Playwright Test runs the tests of one file in one worker, where
// `--repeat-each` would start a worker and a browser for every repetition.
const copies = Number(process.env.BENCH_REPEAT ?? 1);
for (let copy = 0; copy < copies; copy++) test(copy === 0 ? 'checkout' : `checkout ${copy + 1}`, checkout);
