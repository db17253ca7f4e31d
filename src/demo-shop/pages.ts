/**
 * Server-rendered pages. Every page has one <h1>, every input a <label>, and buttons and
 * links have plain names, so journeys can use Playwright's getByRole and getByLabel. Nothing
 * is loaded from anywhere else: styles and scripts are inline, URLs are relative.
 */
import { formatPrice, type Product } from './catalog.ts';
import type { CartSummary, Order } from './session-store.ts';

/** Who is looking at the page; decides what the navigation shows. */
export interface Viewer {
  username?: string;
  cartCount: number;
}

const STYLE = `
body{font-family:system-ui,sans-serif;margin:0;color:#1d2430;background:#f6f7f9}
header{display:flex;gap:1rem;align-items:center;padding:.75rem 1.5rem;background:#1d2430;color:#fff}
header a,header button{color:#fff}
header nav{display:flex;gap:1rem;align-items:center;margin-left:auto}
header form{margin:0}
header button{background:none;border:1px solid #fff;border-radius:4px;cursor:pointer}
main{max-width:40rem;margin:2rem auto;padding:0 1.5rem}
label{display:block;margin-top:.75rem}
input{display:block;padding:.4rem;font:inherit;width:100%;max-width:20rem}
button{padding:.4rem .9rem;font:inherit}
ul.products{list-style:none;padding:0}
ul.products li{background:#fff;border:1px solid #d8dce3;border-radius:6px;padding:.75rem 1rem;margin:.5rem 0}
ul.products h2{font-size:1.1rem;margin:0}
[role=alert]{color:#a4161a;font-weight:600}
[role=status]{color:#1b6b3a}
table{border-collapse:collapse}
td,th{padding:.3rem .8rem;text-align:left}
`;

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

function layout(title: string, viewer: Viewer, content: string): string {
  // Logged-out visitors get no nav links, so "Log in" is never ambiguous on the home page.
  const nav = viewer.username
    ? `<nav aria-label="Main">
      <a href="/products">Products</a>
      <a href="/cart">Cart (${viewer.cartCount})</a>
      <span>Signed in as ${escapeHtml(viewer.username)}</span>
      <form method="post" action="/logout"><button type="submit">Log out</button></form>
    </nav>`
    : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Demo Shop</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
<header><a href="/">Demo Shop</a>${nav}</header>
<main>
${content}
</main>
</body>
</html>
`;
}

export function homePage(viewer: Viewer): string {
  const next = viewer.username
    ? '<p><a href="/products">Browse products</a></p>'
    : '<p><a href="/login">Log in</a> to start shopping.</p>';
  return layout(
    'Home',
    viewer,
    `<h1>Demo Shop</h1>
<p>A small shop that pathwatch watches: log in, fill a cart, pay.</p>
${next}`,
  );
}

export function loginPage(options: { error?: string; username?: string } = {}): string {
  const error = options.error ? `<p role="alert">${escapeHtml(options.error)}</p>` : '';
  return layout(
    'Log in',
    { cartCount: 0 },
    `<h1>Log in</h1>
${error}
<form method="post" action="/login">
  <label for="username">Username</label>
  <input id="username" name="username" autocomplete="username" value="${escapeHtml(options.username ?? '')}">
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password">
  <p><button type="submit">Log in</button></p>
</form>
<p>Demo account: <code>alice</code> / <code>wonderland</code></p>`,
  );
}

export function productsPage(viewer: Viewer, products: readonly Product[], added?: Product): string {
  const status = added ? `<p role="status">Added ${escapeHtml(added.name)} to your cart.</p>` : '';
  const items = products
    .map(
      (product) => `  <li>
    <h2>${escapeHtml(product.name)}</h2>
    <p>${formatPrice(product.priceCents)}</p>
    <form method="post" action="/cart">
      <input type="hidden" name="sku" value="${escapeHtml(product.sku)}">
      <button type="submit" data-testid="add-${escapeHtml(product.sku)}">Add to cart</button>
    </form>
  </li>`,
    )
    .join('\n');
  return layout('Products', viewer, `<h1>Products</h1>\n${status}\n<ul class="products">\n${items}\n</ul>`);
}

export function cartPage(viewer: Viewer, cart: CartSummary): string {
  if (cart.items.length === 0) {
    return layout(
      'Cart',
      viewer,
      '<h1>Your cart</h1>\n<p>Your cart is empty.</p>\n<p><a href="/products">Browse products</a></p>',
    );
  }
  const rows = cart.items
    .map(
      (item) =>
        `<tr><td>${escapeHtml(item.name)}</td><td>${item.quantity}</td><td>${formatPrice(item.priceCents * item.quantity)}</td></tr>`,
    )
    .join('\n');
  return layout(
    'Cart',
    viewer,
    `<h1>Your cart</h1>
<table>
<caption>Items in your cart</caption>
<thead><tr><th scope="col">Product</th><th scope="col">Quantity</th><th scope="col">Price</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
<p>Total: <strong data-testid="cart-total">${formatPrice(cart.totalCents)}</strong></p>
<p><a href="/checkout">Checkout</a></p>`,
  );
}

/** Pays through `POST /api/pay`, then shows the confirmation; errors appear in the alert. */
const PAY_SCRIPT = `
const form = document.getElementById('pay-form');
const error = document.getElementById('pay-error');
const button = form.querySelector('[data-testid="pay"]');
form.addEventListener('submit', async (event) => {
  event.preventDefault();
  button.disabled = true;
  error.hidden = true;
  try {
    const response = await fetch('/api/pay', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(Object.fromEntries(new FormData(form))),
    });
    const body = await response.json().catch(() => null);
    if (response.ok && body && body.orderId) {
      location.assign('/confirmation?order=' + encodeURIComponent(body.orderId));
      return;
    }
    error.textContent = body && body.error ? body.error.message : 'Payment failed (HTTP ' + response.status + ').';
  } catch {
    error.textContent = 'Payment failed: the shop could not be reached.';
  }
  error.hidden = false;
  button.disabled = false;
});
`;

/**
 * Fault "brokenPayButton": the button is no longer a submit button and nothing listens to
 * it, and the form refuses to submit, so a click sends no request and goes nowhere.
 */
const BROKEN_PAY_SCRIPT = `
document.getElementById('pay-form').addEventListener('submit', (event) => event.preventDefault());
`;

export function checkoutPage(
  viewer: Viewer,
  cart: CartSummary,
  options: { brokenPayButton: boolean },
): string {
  const buttonType = options.brokenPayButton ? 'button' : 'submit';
  const script = options.brokenPayButton ? BROKEN_PAY_SCRIPT : PAY_SCRIPT;
  return layout(
    'Checkout',
    viewer,
    `<h1>Checkout</h1>
<p>Order total: <strong data-testid="order-total">${formatPrice(cart.totalCents)}</strong></p>
<form id="pay-form" novalidate>
  <label for="card">Card number</label>
  <input id="card" name="card" autocomplete="cc-number" inputmode="numeric">
  <label for="expiry">Expiry (MM/YY)</label>
  <input id="expiry" name="expiry" autocomplete="cc-exp" placeholder="MM/YY">
  <label for="cvc">CVC</label>
  <input id="cvc" name="cvc" autocomplete="cc-csc" inputmode="numeric">
  <label for="name">Name on card</label>
  <input id="name" name="name" autocomplete="cc-name">
  <p id="pay-error" role="alert" hidden></p>
  <p><button type="${buttonType}" data-testid="pay">Pay</button></p>
</form>
<script>${script}</script>`,
  );
}

export function confirmationPage(viewer: Viewer, order: Order): string {
  return layout(
    'Order confirmed',
    viewer,
    `<h1>Thank you for your order</h1>
<p>Your order number is <strong data-testid="order-id">${escapeHtml(order.orderId)}</strong>.</p>
<p>Paid: ${formatPrice(order.totalCents)}</p>
<p><a href="/products">Continue shopping</a></p>`,
  );
}

export function notFoundPage(viewer: Viewer, pathname: string): string {
  return layout(
    'Not found',
    viewer,
    `<h1>Page not found</h1>\n<p>There is no page at <code>${escapeHtml(pathname)}</code>.</p>\n<p><a href="/">Home</a></p>`,
  );
}

export function errorPage(viewer: Viewer, status: number, message: string): string {
  return layout(
    'Error',
    viewer,
    `<h1>Something went wrong</h1>\n<p role="alert">${status}: ${escapeHtml(message)}</p>\n<p><a href="/">Home</a></p>`,
  );
}
