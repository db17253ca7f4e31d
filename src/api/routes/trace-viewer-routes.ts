import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';

/**
 * Playwright's own trace viewer, from the installed playwright-core, so it matches the
 * traces its Chromium wrote and works with no internet: the static files under
 * `lib/vite/traceViewer`.
 */
export const TRACE_VIEWER_DIR = join(
  dirname(createRequire(import.meta.url).resolve('playwright-core/package.json')),
  'lib/vite/traceViewer',
);

/**
 * `/trace/` serves the viewer on the API's own origin: `/trace/?trace=<url of a trace.zip>`
 * opens a run's trace with no CORS trouble. The viewer holds no data (a trace is fetched by
 * its service worker, with the link's own authorization), so its files are open. Its
 * service worker needs a secure context: http://localhost, or the API behind HTTPS.
 */
export const traceViewerRoutes: FastifyPluginAsync = async (app) => {
  await app.register(fastifyStatic, {
    root: TRACE_VIEWER_DIR,
    prefix: '/trace/',
    // The service worker must be allowed to control the whole viewer path.
    setHeaders: (response, path) => {
      if (path.endsWith('sw.bundle.js')) response.header('service-worker-allowed', '/trace/');
    },
    index: ['index.html'],
    redirect: true,
  });
};
