import { HttpError, sendHtml, sendJson } from './http-io.ts';
import { errorPage, notFoundPage } from './pages.ts';
import { currentSession, type RequestContext, type RouteTable, viewerOf } from './request-context.ts';

/** API, health and admin callers are programs: they get JSON errors, browsers get pages. */
export function wantsJson(pathname: string): boolean {
  return pathname.startsWith('/api/') || pathname === '/health' || pathname.startsWith('/admin/');
}

export async function dispatch(routes: RouteTable, context: RequestContext): Promise<void> {
  const { req, url } = context;
  try {
    const methods = routes[url.pathname];
    if (!methods) {
      throw new HttpError(404, 'not_found', `no route for ${req.method} ${url.pathname}`);
    }
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    const handler = methods[method as keyof typeof methods];
    if (!handler) {
      context.res.setHeader('allow', Object.keys(methods).join(', '));
      throw new HttpError(405, 'method_not_allowed', `${url.pathname} does not accept ${req.method}`);
    }
    await handler(context);
  } catch (error) {
    sendError(context, error);
  }
}

export function sendError(context: RequestContext, error: unknown): void {
  const { res, url } = context;
  if (res.headersSent) {
    // Half a response cannot be turned into an error any more; cutting it off is honest.
    res.destroy();
    return;
  }
  const httpError =
    error instanceof HttpError
      ? error
      : new HttpError(500, 'internal_error', `internal error: ${(error as Error)?.message ?? String(error)}`);
  if (wantsJson(url.pathname)) {
    const { status, code, message, problems } = httpError;
    sendJson(res, status, { error: problems ? { code, message, problems } : { code, message } });
    return;
  }
  const viewer = viewerOf(currentSession(context));
  const html =
    httpError.code === 'not_found'
      ? notFoundPage(viewer, url.pathname)
      : errorPage(viewer, httpError.status, httpError.message);
  sendHtml(res, httpError.status, html);
}
