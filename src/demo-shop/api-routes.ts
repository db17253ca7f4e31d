import { PRODUCTS } from './catalog.ts';
import { describeProblems, HttpError, readJson, sendJson } from './http-io.ts';
import { validatePayment } from './payment.ts';
import { currentSession, ensureSession, type RouteTable } from './request-context.ts';
import { addToCart, placeOrder, summarizeCart } from './session-store.ts';

/**
 * The JSON API needs no login: the cart belongs to the `shop_session` cookie, which
 * `POST /api/cart` sets when the caller has none. A logged-in browser shares its cart with
 * the API, which is how the checkout page pays for what the product pages added.
 */
export const apiRoutes: RouteTable = {
  '/health': {
    GET: (context) => sendJson(context.res, 200, { status: 'ok' }),
  },

  '/api/products': {
    GET: (context) => sendJson(context.res, 200, PRODUCTS),
  },

  '/api/cart': {
    GET: (context) => {
      const session = currentSession(context);
      sendJson(context.res, 200, summarizeCart(session?.cart ?? new Map()));
    },
    POST: async (context) => {
      const body = await readJson(context.req);
      const { sku, quantity = 1 } = (typeof body === 'object' && body !== null ? body : {}) as Record<
        string,
        unknown
      >;
      const problems: { path: string; message: string }[] = [];
      if (typeof sku !== 'string' || !PRODUCTS.some((product) => product.sku === sku)) {
        const known = PRODUCTS.map((product) => product.sku).join(', ');
        problems.push({
          path: 'sku',
          message: `must be one of ${known}, got ${JSON.stringify(sku) ?? 'nothing'}`,
        });
      }
      if (typeof quantity !== 'number' || !Number.isInteger(quantity) || quantity < 1 || quantity > 99) {
        problems.push({
          path: 'quantity',
          message: `must be an integer from 1 to 99, got ${JSON.stringify(quantity)}`,
        });
      }
      if (problems.length > 0) {
        throw new HttpError(400, 'invalid_cart_item', describeProblems(problems), problems);
      }
      const session = ensureSession(context);
      addToCart(session, sku as string, quantity as number);
      sendJson(context.res, 200, summarizeCart(session.cart));
    },
  },

  '/api/pay': {
    POST: async (context) => {
      const result = validatePayment(await readJson(context.req));
      if (!result.ok) {
        throw new HttpError(400, 'invalid_payment', describeProblems(result.problems), result.problems);
      }
      const session = currentSession(context);
      if (!session || session.cart.size === 0) {
        throw new HttpError(400, 'cart_empty', 'cart is empty: add a product with POST /api/cart first');
      }
      const order = placeOrder(session);
      sendJson(context.res, 200, { orderId: order.orderId, status: 'paid', totalCents: order.totalCents });
    },
  },
};
