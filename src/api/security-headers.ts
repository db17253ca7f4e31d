import helmet from '@fastify/helmet';
import type { FastifyInstance, RouteOptions } from 'fastify';

/**
 * Helmet's defaults (no sniffing, no framing by other sites, same-origin resources, HSTS
 * when served over HTTPS) with a CSP that allows scripts from the API's own origin only.
 * `upgrade-insecure-requests` is left out: the API is often reached over plain HTTP on
 * localhost or a private network, where upgrading every subresource to HTTPS would break
 * every page it serves.
 */
const API_DIRECTIVES = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'", "'unsafe-inline'"],
  imgSrc: ["'self'", 'data:'],
  fontSrc: ["'self'", 'data:'],
  objectSrc: ["'none'"],
  baseUri: ["'self'"],
  formAction: ["'self'"],
  frameAncestors: ["'self'"],
  scriptSrcAttr: ["'none'"],
  upgradeInsecureRequests: null,
};

/**
 * Playwright's trace viewer (/trace/), as tried in Chromium (test/integration/
 * security-headers.test.ts): its blank snapshot frame is a data: URL, a trace opened from
 * disk is read by its service worker from a blob: URL, and screencast frames are blob:
 * images and video. Everything else it loads is its own origin. Its one inline script
 * only runs when the viewer is opened from file://, so it stays blocked. Only the
 * viewer's files get this policy.
 */
export const TRACE_VIEWER_DIRECTIVES = {
  ...API_DIRECTIVES,
  imgSrc: ["'self'", 'data:', 'blob:'],
  mediaSrc: ["'self'", 'blob:'],
  connectSrc: ["'self'", 'blob:'],
  frameSrc: ["'self'", 'data:'],
  workerSrc: ["'self'"],
};

/** Security headers on every answer of the app (JSON, pages, files, errors). */
export async function registerSecurityHeaders(app: FastifyInstance): Promise<void> {
  await app.register(helmet, {
    contentSecurityPolicy: { useDefaults: false, directives: API_DIRECTIVES },
  });
}

/**
 * An onRoute hook for the scope that serves the trace viewer: its routes take the viewer's
 * policy instead of the API's.
 */
export function traceViewerPolicy(route: RouteOptions): void {
  route.config = {
    ...route.config,
    helmet: { contentSecurityPolicy: { useDefaults: false, directives: TRACE_VIEWER_DIRECTIVES } },
  } as RouteOptions['config'];
}
