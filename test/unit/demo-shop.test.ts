import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { type TestContext, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type DemoShop, type DemoShopOptions, startDemoShop } from '../../src/demo-shop/demo-shop.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = fileURLToPath(new URL('../../src/demo-shop/main.ts', import.meta.url));

const VALID_CARD = { card: '4242 4242 4242 4242', expiry: '12/99', cvc: '123', name: 'Alice Liddell' };

async function startShop(t: TestContext, options: DemoShopOptions = {}): Promise<DemoShop> {
  const shop = await startDemoShop(options);
  t.after(() => shop.close());
  return shop;
}

function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

/** `shop_session=abc` from a response's Set-Cookie, ready for a Cookie header. */
function sessionCookieOf(response: Response): string {
  const setCookie = response.headers.getSetCookie().find((cookie) => cookie.startsWith('shop_session='));
  assert.ok(setCookie, 'response sets the shop_session cookie');
  return setCookie.split(';')[0];
}

async function logIn(shop: DemoShop): Promise<string> {
  const response = await fetch(`${shop.url}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username: 'alice', password: 'wonderland' }),
    redirect: 'manual',
  });
  assert.equal(response.status, 303);
  return sessionCookieOf(response);
}

test('health answers {"status":"ok"} with 200, also to HEAD', async (t) => {
  const shop = await startShop(t);
  assert.match(shop.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  const response = await fetch(`${shop.url}/health`);
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { status: 'ok' });
  const head = await fetch(`${shop.url}/health`, { method: 'HEAD' });
  assert.equal(head.status, 200);
});

test('API: list products, fill a cart, pay, and the cart is empty afterwards', async (t) => {
  const shop = await startShop(t);
  const products = await (await fetch(`${shop.url}/api/products`)).json();
  assert.equal(products.length, 3);
  for (const product of products) {
    assert.deepEqual(Object.keys(product).sort(), ['name', 'priceCents', 'sku']);
  }

  const added = await postJson(`${shop.url}/api/cart`, { sku: 'mug' });
  assert.equal(added.status, 200);
  const cookie = sessionCookieOf(added);
  assert.match(added.headers.getSetCookie()[0], /HttpOnly/);
  await postJson(`${shop.url}/api/cart`, { sku: 'stickers', quantity: 2 }, { cookie });

  const cart = await (await fetch(`${shop.url}/api/cart`, { headers: { cookie } })).json();
  assert.deepEqual(
    cart.items.map((item: { sku: string; quantity: number }) => [item.sku, item.quantity]),
    [
      ['mug', 1],
      ['stickers', 2],
    ],
  );
  assert.equal(cart.totalCents, 1200 + 2 * 400);

  const paid = await postJson(`${shop.url}/api/pay`, VALID_CARD, { cookie });
  assert.equal(paid.status, 200);
  const order = await paid.json();
  assert.equal(order.status, 'paid');
  assert.match(order.orderId, /^ord_[0-9a-f]{12}$/);
  assert.equal(order.totalCents, 2000);

  const after = await (await fetch(`${shop.url}/api/cart`, { headers: { cookie } })).json();
  assert.deepEqual(after, { items: [], totalCents: 0 });
});

test('API: bad card details get a 400 naming every bad field, without echoing the card', async (t) => {
  const shop = await startShop(t);
  const cookie = sessionCookieOf(await postJson(`${shop.url}/api/cart`, { sku: 'mug' }));
  const response = await postJson(
    `${shop.url}/api/pay`,
    { card: '4242-42x', expiry: '13/30', cvc: '1', name: ' ' },
    { cookie },
  );
  assert.equal(response.status, 400);
  const { error } = await response.json();
  assert.equal(error.code, 'invalid_payment');
  assert.deepEqual(
    error.problems.map((problem: { path: string }) => problem.path),
    ['card', 'expiry', 'cvc', 'name'],
  );
  assert.match(error.message, /card: must be 12 to 19 digits, got 6 digits and 1 other characters/);
  assert.doesNotMatch(JSON.stringify(error), /4242/);

  // Nothing was lost: the cart is still there to pay for.
  const cart = await (await fetch(`${shop.url}/api/cart`, { headers: { cookie } })).json();
  assert.equal(cart.items.length, 1);
});

test('API: unknown SKU, malformed JSON and paying for an empty cart are clear 400s', async (t) => {
  const shop = await startShop(t);
  const unknown = await postJson(`${shop.url}/api/cart`, { sku: 'unicorn', quantity: 0 });
  assert.equal(unknown.status, 400);
  const unknownBody = await unknown.json();
  assert.equal(unknownBody.error.code, 'invalid_cart_item');
  assert.match(unknownBody.error.message, /sku: must be one of mug, tshirt, stickers, got "unicorn"/);
  assert.match(unknownBody.error.message, /quantity: must be an integer from 1 to 99, got 0/);

  const malformed = await fetch(`${shop.url}/api/cart`, { method: 'POST', body: '{"sku":' });
  assert.equal(malformed.status, 400);
  assert.equal((await malformed.json()).error.code, 'invalid_json');

  const empty = await postJson(`${shop.url}/api/pay`, VALID_CARD);
  assert.equal(empty.status, 400);
  assert.equal((await empty.json()).error.code, 'cart_empty');

  const wrongMethod = await fetch(`${shop.url}/api/pay`);
  assert.equal(wrongMethod.status, 405);
  assert.equal(wrongMethod.headers.get('allow'), 'POST');
});

test('pages: login is required, a wrong password shows an alert, the right one opens the shop', async (t) => {
  const shop = await startShop(t);
  for (const path of ['/products', '/cart', '/checkout', '/confirmation?order=x']) {
    const response = await fetch(`${shop.url}${path}`, { redirect: 'manual' });
    assert.equal(response.status, 303, path);
    assert.equal(response.headers.get('location'), '/login', path);
  }

  const wrong = await fetch(`${shop.url}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username: 'alice', password: 'looking-glass' }),
    redirect: 'manual',
  });
  assert.equal(wrong.status, 401);
  assert.match(await wrong.text(), /<p role="alert">Wrong username or password\.<\/p>/);

  const login = await fetch(`${shop.url}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username: 'alice', password: 'wonderland' }),
    redirect: 'manual',
  });
  assert.equal(login.headers.get('location'), '/products');
  assert.match(login.headers.getSetCookie()[0], /^shop_session=[\w-]+; Path=\/; HttpOnly/);
  const cookie = sessionCookieOf(login);

  const products = await (await fetch(`${shop.url}/products`, { headers: { cookie } })).text();
  for (const sku of ['mug', 'tshirt', 'stickers'])
    assert.match(products, new RegExp(`data-testid="add-${sku}"`));
  assert.match(products, /<h1>Products<\/h1>/);
});

test('pages load nothing from elsewhere: no absolute URLs, and a CSP that forbids them', async (t) => {
  const shop = await startShop(t);
  const cookie = await logIn(shop);
  await fetch(`${shop.url}/cart`, {
    method: 'POST',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'sku=mug',
    redirect: 'manual',
  });
  for (const path of ['/', '/login', '/products', '/cart', '/checkout']) {
    const response = await fetch(`${shop.url}${path}`, { headers: { cookie } });
    assert.equal(response.status, 200, path);
    const html = await response.text();
    assert.doesNotMatch(html, /(src|href|action)="(https?:)?\/\//, path);
    assert.match(html, /<h1>/, path);
    assert.match(response.headers.get('content-security-policy') ?? '', /default-src 'none'/, path);
  }
});

test('fault status500: everywhere, or only on listed path prefixes; admin is never affected', async (t) => {
  const shop = await startShop(t);
  const set = await postJson(`${shop.url}/admin/faults`, { status500: true });
  assert.equal(set.status, 200);
  assert.equal((await set.json()).status500, true);

  const health = await fetch(`${shop.url}/health`);
  assert.equal(health.status, 500);
  assert.equal((await health.json()).error.code, 'injected_fault');
  assert.equal((await fetch(`${shop.url}/login`)).status, 500);
  assert.equal((await fetch(`${shop.url}/admin/faults`)).status, 200);

  await postJson(`${shop.url}/admin/faults`, { status500: ['/api/pay'] });
  assert.equal((await fetch(`${shop.url}/health`)).status, 200);
  assert.equal((await postJson(`${shop.url}/api/pay`, VALID_CARD)).status, 500);

  const cleared = await fetch(`${shop.url}/admin/faults`, { method: 'DELETE' });
  assert.deepEqual(await cleared.json(), {
    delayMs: 0,
    status500: false,
    brokenPayButton: false,
    closeConnections: false,
    hang: false,
  });
  assert.equal((await postJson(`${shop.url}/api/pay`, VALID_CARD)).status, 400);
});

test('faults can be switched in-process through shop.faults', async (t) => {
  const shop = await startShop(t);
  shop.faults.status500 = ['/health'];
  assert.equal((await fetch(`${shop.url}/health`)).status, 500);
  assert.deepEqual((await (await fetch(`${shop.url}/admin/faults`)).json()).status500, ['/health']);
  shop.faults.status500 = false;
  assert.equal((await fetch(`${shop.url}/health`)).status, 200);
});

test('fault delayMs: responses wait at least that long, admin answers at once', async (t) => {
  const shop = await startShop(t);
  await postJson(`${shop.url}/admin/faults`, { delayMs: 300 });
  const started = performance.now();
  const response = await fetch(`${shop.url}/health`);
  const elapsed = performance.now() - started;
  assert.equal(response.status, 200);
  assert.ok(elapsed >= 295, `health answered after ${elapsed.toFixed(0)} ms, expected at least 300 ms`);

  // A delay longer than the client will wait shows that admin skips it entirely.
  shop.faults.delayMs = 600_000;
  const admin = await fetch(`${shop.url}/admin/faults`, { signal: AbortSignal.timeout(5000) });
  assert.equal((await admin.json()).delayMs, 600_000);
  await fetch(`${shop.url}/admin/faults`, { method: 'DELETE' });
  assert.equal((await fetch(`${shop.url}/health`, { signal: AbortSignal.timeout(5000) })).status, 200);
});

test('fault closeConnections: the client gets a socket error and no response', async (t) => {
  const shop = await startShop(t);
  await postJson(`${shop.url}/admin/faults`, { closeConnections: true });
  await assert.rejects(fetch(`${shop.url}/health`), (error: Error & { cause?: { code?: string } }) => {
    assert.equal(error.name, 'TypeError');
    assert.match(String(error.cause?.code), /ECONNRESET|UND_ERR_SOCKET/);
    return true;
  });
  await fetch(`${shop.url}/admin/faults`, { method: 'DELETE' });
  assert.equal((await fetch(`${shop.url}/health`)).status, 200);
});

test('fault hang: the client times out, and clearing the fault restores answers', async (t) => {
  const shop = await startShop(t);
  shop.faults.hang = true;
  await assert.rejects(fetch(`${shop.url}/health`, { signal: AbortSignal.timeout(300) }), {
    name: 'TimeoutError',
  });
  await fetch(`${shop.url}/admin/faults`, { method: 'DELETE' });
  assert.equal((await fetch(`${shop.url}/health`, { signal: AbortSignal.timeout(5000) })).status, 200);
});

test('close() destroys a connection left hanging by the hang fault', async (t) => {
  const shop = await startShop(t);
  shop.faults.hang = true;
  // A raw socket, so the test sees exactly what the server sends: nothing, then the close.
  const socket = connect(shop.port, '127.0.0.1');
  t.after(() => socket.destroy());
  await once(socket, 'connect');
  let received = '';
  socket.on('data', (chunk: Buffer) => {
    received += chunk.toString();
  });
  const closed = once(socket, 'close');
  socket.write('GET /health HTTP/1.1\r\nHost: shop\r\n\r\n');
  // Two admin round trips after the write: by then the server has read the hanging request.
  await fetch(`${shop.url}/admin/faults`);
  await fetch(`${shop.url}/admin/faults`);
  await shop.close();
  await closed;
  assert.equal(received, '');
});

test('close() ends requests waiting out a delay, and is safe to call twice', async (t) => {
  const shop = await startShop(t);
  shop.faults.delayMs = 600_000;
  const waiting = fetch(`${shop.url}/health`).then(
    () => 'answered',
    () => 'failed',
  );
  await fetch(`${shop.url}/admin/faults`);
  await Promise.all([shop.close(), shop.close()]);
  assert.equal(await waiting, 'failed');
});

test('brokenPayButton renders a Pay button that is no submit button', async (t) => {
  const shop = await startShop(t);
  const cookie = await logIn(shop);
  await fetch(`${shop.url}/cart`, {
    method: 'POST',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'sku=tshirt',
    redirect: 'manual',
  });
  const working = await (await fetch(`${shop.url}/checkout`, { headers: { cookie } })).text();
  assert.match(working, /<button type="submit" data-testid="pay">Pay<\/button>/);
  await postJson(`${shop.url}/admin/faults`, { brokenPayButton: true });
  const broken = await (await fetch(`${shop.url}/checkout`, { headers: { cookie } })).text();
  assert.match(broken, /<button type="button" data-testid="pay">Pay<\/button>/);
  assert.doesNotMatch(broken, /\/api\/pay/);
});

test('admin rejects a bad faults body with every problem, and applies none of it', async (t) => {
  const shop = await startShop(t);
  const response = await postJson(`${shop.url}/admin/faults`, {
    delayMs: -5,
    status500: ['api'],
    hang: 'yes',
    slow: true,
  });
  assert.equal(response.status, 400);
  const { error } = await response.json();
  assert.equal(error.code, 'invalid_faults');
  assert.deepEqual(
    error.problems.map((problem: { path: string }) => problem.path),
    ['delayMs', 'status500', 'hang', 'slow'],
  );
  assert.match(error.message, /delayMs: must be an integer from 0 to 600000, got -5/);
  assert.match(error.message, /slow: is not a fault; known faults are delayMs, status500/);
  assert.equal(shop.faults.delayMs, 0);
  assert.equal(shop.faults.status500, false);

  const notObject = await postJson(`${shop.url}/admin/faults`, [true]);
  assert.equal(notObject.status, 400);
});

test('admin token: without it admin answers 401, with it the faults apply', async (t) => {
  const shop = await startShop(t, { adminToken: 's3cret' });
  const anonymous = await postJson(`${shop.url}/admin/faults`, { status500: true });
  assert.equal(anonymous.status, 401);
  assert.equal(anonymous.headers.get('www-authenticate'), 'Bearer');
  assert.equal(shop.faults.status500, false);

  const wrong = await fetch(`${shop.url}/admin/faults`, { headers: { authorization: 'Bearer nope' } });
  assert.equal(wrong.status, 401);

  const authorized = await postJson(
    `${shop.url}/admin/faults`,
    { status500: true },
    { authorization: 'Bearer s3cret' },
  );
  assert.equal(authorized.status, 200);
  assert.equal((await fetch(`${shop.url}/health`)).status, 500);
});

test('main.ts prints where it listens and exits cleanly on SIGTERM', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, '--port', '0'], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    const [firstChunk] = (await once(child.stdout, 'data')) as [Buffer];
    const line = firstChunk.toString().trim();
    const match = /^demo shop listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(line);
    assert.ok(match, `unexpected first line: ${line}`);
    assert.equal((await fetch(`${match[1]}/health`)).status, 200);
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    assert.equal(code, 0);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
});

test('main.ts refuses a bad --port with a message naming it', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, '--port', 'eighty'], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const [code] = await once(child, 'exit');
  assert.equal(code, 1);
  assert.match(stderr, /--port: must be an integer from 0 to 65535, got "eighty"/);
});
