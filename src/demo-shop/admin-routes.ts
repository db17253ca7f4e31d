import { createHash, timingSafeEqual } from 'node:crypto';
import { clearFaults, parseFaultsPatch } from './faults.ts';
import { describeProblems, HttpError, readJson, sendJson } from './http-io.ts';
import type { RequestContext, RouteTable } from './request-context.ts';

/** Throws 401 unless the shop has no admin token or the request carries it. */
function authorize(context: RequestContext): void {
  const { adminToken } = context.state;
  if (adminToken === undefined) return;
  const header = context.req.headers.authorization ?? '';
  const given = header.startsWith('Bearer ') ? header.slice('Bearer '.length) : '';
  // Hashing first gives equal lengths, which timingSafeEqual needs, without leaking the length.
  const digest = (text: string) => createHash('sha256').update(text).digest();
  if (!timingSafeEqual(digest(given), digest(adminToken))) {
    context.res.setHeader('www-authenticate', 'Bearer');
    throw new HttpError(
      401,
      'unauthorized',
      'admin endpoints need the header "Authorization: Bearer <admin token>"',
    );
  }
}

/** Faults are switched here; the server never applies faults to /admin/* itself. */
export const adminRoutes: RouteTable = {
  '/admin/faults': {
    GET: (context) => {
      authorize(context);
      sendJson(context.res, 200, context.state.faults);
    },
    POST: async (context) => {
      authorize(context);
      const result = parseFaultsPatch(await readJson(context.req));
      if (!result.ok) {
        throw new HttpError(400, 'invalid_faults', describeProblems(result.problems), result.problems);
      }
      // Merged, not replaced: setting one fault leaves the others as they were.
      Object.assign(context.state.faults, result.patch);
      sendJson(context.res, 200, context.state.faults);
    },
    DELETE: (context) => {
      authorize(context);
      clearFaults(context.state.faults);
      sendJson(context.res, 200, context.state.faults);
    },
  },
};
