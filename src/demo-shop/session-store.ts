import { randomBytes } from 'node:crypto';
import { findProduct, type Product } from './catalog.ts';

export interface CartLine {
  product: Product;
  quantity: number;
}

export interface Order {
  orderId: string;
  lines: CartLine[];
  totalCents: number;
}

export interface Session {
  id: string;
  /** Set by a successful login; API-only sessions stay anonymous. */
  username?: string;
  cart: Map<string, CartLine>;
  orders: Map<string, Order>;
}

export interface CartSummary {
  items: { sku: string; name: string; priceCents: number; quantity: number }[];
  totalCents: number;
}

/**
 * A monitor creates a fresh session every run, forever; keeping only the most recent ones
 * bounds the memory of a demo shop left running for weeks.
 */
const MAX_SESSIONS = 10_000;

export class SessionStore {
  readonly #sessions = new Map<string, Session>();

  create(): Session {
    const session: Session = {
      id: randomBytes(16).toString('base64url'),
      cart: new Map(),
      orders: new Map(),
    };
    this.#sessions.set(session.id, session);
    if (this.#sessions.size > MAX_SESSIONS) {
      // Maps iterate in insertion order, so the first key is the oldest session.
      const oldest = this.#sessions.keys().next().value;
      if (oldest !== undefined) this.#sessions.delete(oldest);
    }
    return session;
  }

  get(id: string | undefined): Session | undefined {
    return id === undefined ? undefined : this.#sessions.get(id);
  }

  delete(id: string): void {
    this.#sessions.delete(id);
  }
}

/** Adds one of `sku`; returns false when the shop does not sell it. */
export function addToCart(session: Session, sku: string, quantity = 1): boolean {
  const product = findProduct(sku);
  if (!product) return false;
  const line = session.cart.get(sku) ?? { product, quantity: 0 };
  line.quantity += quantity;
  session.cart.set(sku, line);
  return true;
}

export function summarizeCart(cart: ReadonlyMap<string, CartLine>): CartSummary {
  const items = [...cart.values()].map(({ product, quantity }) => ({ ...product, quantity }));
  const totalCents = items.reduce((sum, item) => sum + item.priceCents * item.quantity, 0);
  return { items, totalCents };
}

/** Turns the cart into an order and empties it, as a real checkout would. */
export function placeOrder(session: Session): Order {
  const lines = [...session.cart.values()];
  const order: Order = {
    orderId: `ord_${randomBytes(6).toString('hex')}`,
    lines,
    totalCents: summarizeCart(session.cart).totalCents,
  };
  session.orders.set(order.orderId, order);
  session.cart = new Map();
  return order;
}
