import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DemoShopFaults } from './faults.ts';
import { parseCookies } from './http-io.ts';
import type { Viewer } from './pages.ts';
import type { Session, SessionStore } from './session-store.ts';

export const SESSION_COOKIE = 'shop_session';

/** Everything a running shop keeps in memory; it is gone when the process ends. */
export interface ShopState {
  sessions: SessionStore;
  faults: DemoShopFaults;
  /** When set, /admin/* requires `Authorization: Bearer <adminToken>`. */
  adminToken?: string;
}

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  state: ShopState;
}

export type RouteHandler = (context: RequestContext) => void | Promise<void>;

/** pathname → method → handler; HEAD is served by the GET handler. */
export type RouteTable = Record<string, Partial<Record<'GET' | 'POST' | 'DELETE', RouteHandler>>>;

export function currentSession(context: RequestContext): Session | undefined {
  return context.state.sessions.get(parseCookies(context.req.headers.cookie).get(SESSION_COOKIE));
}

/** Returns the caller's session, starting one (and setting its cookie) when there is none. */
export function ensureSession(context: RequestContext): Session {
  const existing = currentSession(context);
  if (existing) return existing;
  const session = context.state.sessions.create();
  context.res.setHeader('set-cookie', sessionCookie(session.id));
  return session;
}

export function sessionCookie(id: string): string {
  // HttpOnly: page scripts never need the session id, so an injected script cannot steal it.
  return `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Lax`;
}

export function expiredSessionCookie(): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`;
}

export function viewerOf(session: Session | undefined): Viewer {
  let cartCount = 0;
  for (const line of session?.cart.values() ?? []) cartCount += line.quantity;
  return { username: session?.username, cartCount };
}
