import { timingSafeEqual } from 'node:crypto';
import { findProduct, PRODUCTS } from './catalog.ts';
import { HttpError, readForm, redirect, sendHtml } from './http-io.ts';
import { cartPage, checkoutPage, confirmationPage, homePage, loginPage, productsPage } from './pages.ts';
import {
  currentSession,
  expiredSessionCookie,
  type RequestContext,
  type RouteTable,
  sessionCookie,
  viewerOf,
} from './request-context.ts';
import { addToCart, type Session, summarizeCart } from './session-store.ts';

/** The one account of the demo shop, printed on the login page for anyone to use. */
export const DEMO_USER = { username: 'alice', password: 'wonderland' } as const;

/** A logged-in session, or undefined after answering with a redirect to the login page. */
function requireLogin(context: RequestContext): Session | undefined {
  const session = currentSession(context);
  if (session?.username) return session;
  redirect(context.res, '/login');
  return undefined;
}

function isDemoUser(username: string, password: string): boolean {
  const given = Buffer.from(`${username}\n${password}`);
  const expected = Buffer.from(`${DEMO_USER.username}\n${DEMO_USER.password}`);
  // Constant time, because monitored shops are real targets and the demo should show the habit.
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export const pageRoutes: RouteTable = {
  '/': {
    GET: (context) => sendHtml(context.res, 200, homePage(viewerOf(currentSession(context)))),
  },

  '/login': {
    GET: (context) => sendHtml(context.res, 200, loginPage()),
    POST: async (context) => {
      const form = await readForm(context.req);
      const username = form.get('username')?.trim() ?? '';
      const password = form.get('password') ?? '';
      if (!isDemoUser(username, password)) {
        sendHtml(context.res, 401, loginPage({ error: 'Wrong username or password.', username }));
        return;
      }
      // A fresh session id on login, so an id planted before login is worth nothing after it.
      const previous = currentSession(context);
      const session = context.state.sessions.create();
      session.username = username;
      if (previous) {
        session.cart = previous.cart;
        context.state.sessions.delete(previous.id);
      }
      redirect(context.res, '/products', { 'set-cookie': sessionCookie(session.id) });
    },
  },

  '/logout': {
    POST: (context) => {
      const session = currentSession(context);
      if (session) context.state.sessions.delete(session.id);
      redirect(context.res, '/', { 'set-cookie': expiredSessionCookie() });
    },
  },

  '/products': {
    GET: (context) => {
      const session = requireLogin(context);
      if (!session) return;
      const added = findProduct(context.url.searchParams.get('added') ?? '');
      sendHtml(context.res, 200, productsPage(viewerOf(session), PRODUCTS, added));
    },
  },

  '/cart': {
    GET: (context) => {
      const session = requireLogin(context);
      if (!session) return;
      sendHtml(context.res, 200, cartPage(viewerOf(session), summarizeCart(session.cart)));
    },
    // The product list's "Add to cart" forms post here; plain forms need no script to work.
    POST: async (context) => {
      const session = requireLogin(context);
      if (!session) return;
      const sku = (await readForm(context.req)).get('sku') ?? '';
      if (!addToCart(session, sku)) {
        throw new HttpError(400, 'unknown_sku', `sku: the shop sells no product "${sku.slice(0, 40)}"`);
      }
      redirect(context.res, `/products?added=${encodeURIComponent(sku)}`);
    },
  },

  '/checkout': {
    GET: (context) => {
      const session = requireLogin(context);
      if (!session) return;
      if (session.cart.size === 0) {
        redirect(context.res, '/cart');
        return;
      }
      const { brokenPayButton } = context.state.faults;
      sendHtml(
        context.res,
        200,
        checkoutPage(viewerOf(session), summarizeCart(session.cart), { brokenPayButton }),
      );
    },
  },

  '/confirmation': {
    GET: (context) => {
      const session = requireLogin(context);
      if (!session) return;
      const orderId = context.url.searchParams.get('order') ?? '';
      const order = session.orders.get(orderId);
      if (!order) {
        throw new HttpError(404, 'order_not_found', `no order "${orderId.slice(0, 40)}" in this session`);
      }
      sendHtml(context.res, 200, confirmationPage(viewerOf(session), order));
    },
  },
};
