import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { MonitoredItem } from '../api/routes/checks-routes.ts';
import { segmentParam } from '../api/routes/path-params.ts';
import { sendArtifact } from '../api/routes/send-artifact.ts';
import { artifactKindOf } from '../artifacts/artifact-kind.ts';
import type { ArtifactStore } from '../artifacts/artifact-store.ts';
import { roleAllows } from '../auth/api-role.ts';
import type { TokenTable } from '../auth/token-table.ts';
import type { PageLanguage } from '../evidence/run-page/messages.ts';
import { isRedisUnavailableError } from '../redis/redis-connection.ts';
import type { ResultsRecorder } from '../results/results-recorder.ts';
import type { RunResult } from '../results/run-result.ts';
import { CAPTURE_LINK_TTL_MS, type CaptureFile, verifyCaptureFile } from './capture-file-link.ts';
import { buildCapturesView, CAPTURES_PAGE_LIMIT, parseCaptureFilters } from './captures-view.ts';
import { consoleTranslator } from './console-messages.ts';
import { optionalText } from './optional-text.ts';
import { type ConsolePage, renderConsolePage } from './render-console.ts';

// Values are checked by parseCaptureFilters, so a bad one is a line on the page, not a JSON refusal.
const text = optionalText;
const CAPTURES_QUERY = z.object({
  lang: text(5),
  check: text(200),
  location: text(200),
  type: text(50),
  from: text(50),
  to: text(50),
});
const FILE_QUERY = z.object({ lang: text(5), exp: text(16), sig: text(64) });
const LANG_ONLY = z.object({ lang: text(5) });
const LINK_MINUTES = CAPTURE_LINK_TTL_MS / 60_000;

export interface CapturesPageOptions {
  items: MonitoredItem[];
  locations: string[];
  recorder: ResultsRecorder;
  artifacts?: ArtifactStore;
  runsPerSeries: number;
  tokens: TokenTable;
  linkKey: () => Promise<Buffer>;
  /** The API's own capture request (build-app.ts); without it none is offered. */
  requestCapture?: (run: RunResult, unfiltered: boolean) => Promise<string>;
  /** The console's sign-in gate (console-routes.ts): false when it has answered. */
  signedIn: (request: FastifyRequest, reply: FastifyReply) => Promise<boolean>;
  /** The layout's data for a page of this request, in `language`. */
  page: (request: FastifyRequest, language: PageLanguage) => ConsolePage;
  languageOf: (request: FastifyRequest) => PageLanguage;
}

/** Whether a Captures page is for this request: operators and admins, or anyone on an open API. */
export function mayOpenCaptures(request: FastifyRequest, tokens: TokenTable): boolean {
  if (tokens.readers === 0) return true;
  const session = request.consoleSession;
  return session !== undefined && roleAllows(session.role, 'operator');
}

/**
 * The origin a POST came from when it is not this server's (undefined: this server's, or
 * no browser's). The session cookie is SameSite=Strict, but another port of the same host
 * is the same site (its posts carry the cookie): the browser's Origin, and Sec-Fetch-Site
 * when sent, must say this host; `Origin: null` (a page that hides its origin) is refused.
 * A post with neither (a script with a bearer token) holds no cookie a forger could borrow.
 */
function crossSiteOrigin(request: FastifyRequest): string | undefined {
  const origin = request.headers.origin;
  const site = request.headers['sec-fetch-site'];
  if (typeof site === 'string' && site !== 'same-origin' && site !== 'none') return origin ?? site;
  if (origin === undefined) return undefined;
  let host: string | undefined;
  try {
    host = new URL(origin).host;
  } catch {
    host = undefined;
  }
  return host !== undefined && host === request.headers.host ? undefined : origin;
}

/**
 * The Captures page (operators): run slices and periodic collections with filters, each file
 * a link signed for that file alone (the browser has a cookie, the API wants a token), and
 * for a slice's run a form asking its host for an unfiltered capture.
 */
export function registerCapturesPage(app: FastifyInstance, options: CapturesPageOptions): void {
  const { tokens } = options;
  const html = async (reply: FastifyReply, status: number, body: string | Promise<string>) =>
    reply
      .code(status)
      .header('cache-control', 'no-store')
      // Helmet's no-referrer makes a browser send `Origin: null` with the page's own form
      // posts; same-origin lets them name this origin, and still sends nothing elsewhere.
      .header('referrer-policy', 'same-origin')
      .type('text/html; charset=utf-8')
      .send(await body);
  const render = (request: FastifyRequest, language: PageLanguage, data: object) => {
    const t = consoleTranslator(language);
    return renderConsolePage(
      app,
      { ...options.page(request, language), pageTitle: t('capturesTitle') },
      'captures',
      {
        linkMinutes: LINK_MINUTES,
        limit: CAPTURES_PAGE_LIMIT,
        ...data,
      },
    );
  };
  const refusal = (request: FastifyRequest, reply: FastifyReply, status: number, message: string) =>
    html(reply, status, render(request, options.languageOf(request), { refusal: message, backLink: true }));

  /** Signed in, and an operator: else it has answered (401 sign-in form, 403 a sentence). */
  const operator = async (request: FastifyRequest, reply: FastifyReply): Promise<boolean> => {
    if (!(await options.signedIn(request, reply))) return false;
    if (mayOpenCaptures(request, tokens)) return true;
    const session = request.consoleSession!;
    const t = consoleTranslator(options.languageOf(request));
    request.log.info({ token: session.name, role: session.role }, 'captures page refused');
    await html(
      reply,
      403,
      render(request, options.languageOf(request), {
        refusal: t('capturesOperatorOnly', { name: session.name, role: session.role }),
      }),
    );
    return false;
  };

  const unfilteredOffered = tokens.readers > 0 && options.requestCapture !== undefined;
  const listPage = async (
    request: FastifyRequest,
    reply: FastifyReply,
    query: Record<string, unknown>,
    notice?: { text: string; refused: boolean; status: number },
  ) => {
    const language = options.languageOf(request);
    const t = consoleTranslator(language);
    const { filters, raw, problem } = parseCaptureFilters(query, options.items, options.locations);
    const view = problem
      ? undefined
      : await buildCapturesView(
          {
            recorder: options.recorder,
            artifacts: options.artifacts,
            items: options.items,
            runsPerSeries: options.runsPerSeries,
            linkKey: await options.linkKey(),
          },
          filters,
          language,
        );
    return html(
      reply,
      problem ? 400 : (notice?.status ?? 200),
      render(request, language, {
        view,
        raw,
        notice,
        problem: problem
          ? t('capturesBadFilter', {
              field: problem.field,
              expected: t(problem.expected, { values: problem.values ?? '' }),
              given: problem.given,
            })
          : undefined,
        items: options.items,
        locations: options.locations,
        unfilteredOffered,
        unfilteredNote: t(
          tokens.readers === 0
            ? 'unfilteredNeedsTokens'
            : options.requestCapture
              ? 'unfilteredOffered'
              : 'unfilteredNoQueues',
        ),
      }),
    );
  };

  app.get('/captures', { config: { role: 'operator', query: CAPTURES_QUERY } }, async (request, reply) => {
    if (!(await operator(request, reply))) return reply;
    return listPage(request, reply, request.query as Record<string, unknown>);
  });

  // An unfiltered capture of a slice's run: the API's own requestCapture, on the same terms
  // (never on an open API), from a form on this page only.
  app.post('/captures', { config: { role: 'operator', query: LANG_ONLY } }, async (request, reply) => {
    if (!(await operator(request, reply))) return reply;
    const t = consoleTranslator(options.languageOf(request));
    const foreign = crossSiteOrigin(request);
    if (foreign !== undefined) {
      request.log.warn({ origin: foreign }, 'cross-site capture request refused');
      return refusal(request, reply, 403, t('unfilteredCrossSite', { origin: foreign }));
    }
    const done = (status: number, message: string, refused = true) =>
      listPage(request, reply, {}, { text: message, refused, status });
    if (tokens.readers === 0) return done(403, t('unfilteredNeedsTokens'));
    if (!options.requestCapture) return done(503, t('unfilteredNoQueues'));
    const given = (request.body as { runId?: unknown } | undefined)?.runId;
    const runId = typeof given === 'string' ? given : '';
    if (!segmentParam().safeParse(runId).success)
      return done(
        400,
        t('unfilteredBadRun', { given: runId.length > 60 ? `${runId.slice(0, 60)}…` : runId }),
      );
    const run = await options.recorder.runs.getRun(runId);
    if (!run) return done(404, t('unfilteredNoRun', { runId }));
    if (!run.host) return done(409, t('unfilteredNoHost', { runId }));
    let jobId: string;
    try {
      jobId = await options.requestCapture(run, true);
    } catch (error) {
      if (!isRedisUnavailableError(error)) throw error;
      return done(503, t('unfilteredRedis'));
    }
    request.log.info(
      { runId, host: run.host, jobId, token: request.consoleSession?.name },
      'unfiltered capture requested from the console',
    );
    return done(202, t('unfilteredQueued', { runId, host: run.host, jobId }), false);
  });

  // One file of the listing: through the link the page signed for it (no cookie or token
  // needed, for a few minutes), or for a signed-in operator.
  app.get<{ Params: { source: string; id: string; name: string } }>(
    '/captures/files/:source/:id/:name',
    { config: { role: 'operator', signedLink: true, query: FILE_QUERY } },
    async (request, reply) => {
      const { source, id, name } = request.params;
      const query = request.query as { exp?: string; sig?: string };
      const t = consoleTranslator(options.languageOf(request));
      const file: CaptureFile = { source: source === 'collection' ? 'collection' : 'run', id, name };
      if (query.sig !== undefined || query.exp !== undefined) {
        const check = verifyCaptureFile(await options.linkKey(), file, query.exp, query.sig);
        if (!check.ok || source !== file.source)
          return check.ok || check.reason === 'invalid'
            ? refusal(request, reply, 403, t('captureLinkInvalid'))
            : refusal(request, reply, 410, t('captureLinkExpired', { minutes: LINK_MINUTES }));
      } else if (!(await operator(request, reply))) return reply;
      const missing = () => refusal(request, reply, 404, t('captureFileMissing'));
      const segment = segmentParam();
      if (
        (source !== 'run' && source !== 'collection') ||
        !segment.safeParse(id).success ||
        !segment.safeParse(name).success ||
        !options.artifacts
      )
        return missing();
      let key = `captures/${id}/${name}`;
      if (source === 'run') {
        const run = await options.recorder.runs.getRun(id);
        const ref = run?.artifacts?.find((artifact) => artifact.key.split('/').pop() === name);
        // Captures only: a run's trace or HAR is never opened from this page.
        if (!ref || artifactKindOf(ref.key) !== 'captures') return missing();
        key = ref.key;
      }
      reply.header('cache-control', 'private, no-store');
      return (await sendArtifact(request, reply, options.artifacts, key, `${id}-${name}`)) ?? missing();
    },
  );
}
