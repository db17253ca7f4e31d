/**
 * The demo shop: a merchant checkout that pathwatch's example config and tests monitor,
 * which can be told to misbehave (see faults.ts). Plain `node:http`, no dependencies, so it
 * starts in milliseconds inside a test.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { adminRoutes } from './admin-routes.ts';
import { apiRoutes } from './api-routes.ts';
import { createFaults, type DemoShopFaults, status500Applies } from './faults.ts';
import { HttpError } from './http-io.ts';
import { pageRoutes } from './page-routes.ts';
import type { RequestContext, RouteTable, ShopState } from './request-context.ts';
import { dispatch, sendError } from './router.ts';
import { SessionStore } from './session-store.ts';

export type { DemoShopFaults } from './faults.ts';
export { clearFaults } from './faults.ts';

export interface DemoShopOptions {
  /** 0 (the default) picks a free port, which is what tests want. */
  port?: number;
  /** Defaults to 127.0.0.1 so a demo never listens beyond this machine unless asked to. */
  host?: string;
  /** When set, /admin/* requires `Authorization: Bearer <adminToken>`. */
  adminToken?: string;
}

export interface DemoShop {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:4601`. */
  url: string;
  port: number;
  /** Live fault switches: change a field and the next request sees it. */
  faults: DemoShopFaults;
  /** Stops listening and destroys every open socket, hanging ones included. */
  close(): Promise<void>;
}

const ROUTES: RouteTable = { ...pageRoutes, ...apiRoutes, ...adminRoutes };

export async function startDemoShop(options: DemoShopOptions = {}): Promise<DemoShop> {
  const host = options.host ?? '127.0.0.1';
  const state: ShopState = {
    sessions: new SessionStore(),
    faults: createFaults(),
    adminToken: options.adminToken,
  };
  // Aborted by close(), so requests waiting out a delay stop waiting instead of keeping the process alive.
  const shutdown = new AbortController();
  const sockets = new Set<Socket>();

  const server = createServer((req, res) => {
    handleRequest(req, res, state, shutdown.signal).catch((error: unknown) => {
      // handleRequest answers its own errors; reaching here is a bug, and the socket is all we can free.
      console.error('demo shop: unhandled error', error);
      res.destroy();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  // A client that resets mid-request must not crash the shop.
  server.on('clientError', (_error, socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });

  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost(host)}:${port}`,
    port,
    faults: state.faults,
    close() {
      closing ??= new Promise<void>((resolve) => {
        shutdown.abort();
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };
}

async function handleRequest(
  req: IncomingMessage,
  res: ServerResponse,
  state: ShopState,
  shutdownSignal: AbortSignal,
): Promise<void> {
  // The Host header is the client's to choose; a fixed base keeps URL parsing from trusting it.
  const url = new URL(req.url ?? '/', 'http://demo-shop.invalid');
  const context: RequestContext = { req, res, url, state };
  // Admin is exempt so that whatever a test or quick start breaks, it can always be unbroken.
  if (!url.pathname.startsWith('/admin/')) {
    const handled = await applyFaults(context, shutdownSignal);
    if (handled) return;
  }
  await dispatch(ROUTES, context);
}

/** Plays the configured faults; returns true when a fault has taken over the request. */
async function applyFaults(context: RequestContext, shutdownSignal: AbortSignal): Promise<boolean> {
  const { faults } = context.state;
  if (faults.delayMs > 0) {
    try {
      await sleep(faults.delayMs, undefined, { signal: shutdownSignal });
    } catch {
      return true; // the shop is closing and has destroyed this socket
    }
  }
  if (faults.closeConnections) {
    // A reset rather than a polite close: the client sees ECONNRESET, as behind a crashed proxy.
    context.req.socket.resetAndDestroy();
    return true;
  }
  if (faults.hang) {
    // Never answered; close() destroys the socket, so a test cannot be held up by it.
    return true;
  }
  if (status500Applies(faults, context.url.pathname)) {
    sendError(context, new HttpError(500, 'injected_fault', 'fault "status500" is switched on'));
    return true;
  }
  return false;
}

/** URLs need brackets around IPv6 hosts, and a wildcard address is reached via loopback. */
function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
