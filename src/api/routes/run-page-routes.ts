import { readFile } from 'node:fs/promises';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { ArtifactStore } from '../../artifacts/artifact-store.ts';
import { readArtifactCapped } from '../../artifacts/read-artifact-capped.ts';
import { roleAllows } from '../../auth/api-role.ts';
import { signLink } from '../../auth/signed-link.ts';
import { type CaptureFlows, parseCaptureFlows } from '../../evidence/run-page/capture-flows.ts';
import type { PageLanguage } from '../../evidence/run-page/messages.ts';
import { pageLanguage } from '../../evidence/run-page/page-language.ts';
import {
  RUN_PAGE_CSS_FILE,
  renderRefusalPage,
  renderRunPage,
} from '../../evidence/run-page/render-run-page.ts';
import { runPageView } from '../../evidence/run-page/run-page-view.ts';
import { slotRunsOf } from '../../evidence/slot-runs.ts';
import { isKnownTimeZone } from '../../evidence/zoned-time.ts';
import type { ResultsRecorder } from '../../results/results-recorder.ts';
import type { RunResult } from '../../results/run-result.ts';
import type { LocationSide } from '../../results/verdict.ts';
import { runNotFound } from '../api-error.ts';
import { textParam } from '../query-params.ts';
import type { MonitoredItem } from './checks-routes.ts';
import { pathSegment } from './path-params.ts';
import { runInHistory } from './run-in-history.ts';
import { linkQuery, refuseInvalidLink } from './signed-link-gate.ts';

/**
 * The links an operator's page signs (so an <img> and the trace viewer open without a token)
 * are for reading the page now: an hour, not `api.linkTtl`'s days, since a saved or forwarded
 * page would otherwise open the run's traces and captures for a week.
 */
const PAGE_LINK_TTL_MS = 3_600_000;

/** A check's attempts per slot: the first and up to 5 retries (`retries` in check-base.ts). */
const MAX_ATTEMPTS = 6;
/** Largest capture analysis read for the flow table; a bigger one shows the diagnosis only. */
const MAX_ANALYSIS_BYTES = 4 * 1024 * 1024;

const pageQuery = linkQuery.extend({
  lang: z.enum(['en', 'ja'], { error: 'must be "en" or "ja"' }).optional(),
  tz: textParam(64)
    .refine(isKnownTimeZone, { error: 'must be an IANA time zone such as "Asia/Tokyo" or "UTC"' })
    .optional(),
});

export interface RunPageRoutesOptions {
  items: MonitoredItem[];
  recorder: ResultsRecorder;
  artifacts?: ArtifactStore;
  /** Runs kept per check and location: a check's whole history is this times its locations. */
  runsPerSeries: number;
  /** Which side (inside, outside) each location is on, for the slot's verdict. */
  sides: Record<string, LocationSide>;
  /** The key of signed links, loaded on first use; without it signed links are refused. */
  linkKey?: () => Promise<Buffer>;
  /** How long signed links stay open (`api.linkTtl`); an operator's page signs for at most PAGE_LINK_TTL_MS. */
  linkTtlMs: number;
  /** The API's token check (authorizeRequest), run before the page; the stylesheet is open. */
  authorize: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
}

/** `runId`'s attempt-1 id: `<base>-<n>` is attempt n of run `<base>` (run-with-confirmation). */
function baseRunId(run: RunResult): string {
  const suffix = `-${run.attempt}`;
  return run.attempt > 1 && run.runId.endsWith(suffix) ? run.runId.slice(0, -suffix.length) : run.runId;
}

/** Every attempt of `run`'s run, first to last. */
async function attemptsOf(recorder: ResultsRecorder, run: RunResult): Promise<RunResult[]> {
  const base = baseRunId(run);
  const ids = Array.from({ length: MAX_ATTEMPTS }, (_, index) =>
    index === 0 ? base : `${base}-${index + 1}`,
  );
  const found = await recorder.runs.getRuns(ids);
  const attempts = found.filter(
    (other, index): other is RunResult =>
      other !== undefined &&
      other.runId !== run.runId &&
      other.checkId === run.checkId &&
      other.location === run.location &&
      other.attempt === index + 1,
  );
  return [...attempts, run].sort((a, b) => a.attempt - b.attempt);
}

/** The stored capture analyses of `runs` (their flow tables), by run id. */
async function analysesOf(artifacts: ArtifactStore | undefined, runs: RunResult[]) {
  const analyses = new Map<string, CaptureFlows>();
  if (!artifacts) return analyses;
  await Promise.all(
    runs.map(async (run) => {
      const ref = run.artifacts?.find((artifact) => artifact.key.endsWith('-analysis.json'));
      const text = ref
        ? await readArtifactCapped(artifacts, ref.key, MAX_ANALYSIS_BYTES)
            .then((bytes) => bytes?.toString('utf8'))
            .catch(() => undefined)
        : undefined;
      const parsed = text === undefined ? undefined : parseCaptureFlows(text);
      if (parsed) analyses.set(run.runId, parsed);
    }),
  );
  return analyses;
}

/** `url` (a path and query) with `lang` set to each language, for a refusal page's switch. */
function languageLinksOf(url: string, current: PageLanguage) {
  const parsed = new URL(url, 'http://page.invalid');
  return (['en', 'ja'] as const).map((language) => {
    parsed.searchParams.set('lang', language);
    return {
      href: `${parsed.pathname}?${parsed.searchParams}`,
      label: language === 'en' ? 'English' : '日本語',
      current: language === current,
      language,
    };
  });
}

/** `lang` as asked in a query not yet parsed (a refusal may come before the query is read). */
function askedLanguage(query: unknown): string | undefined {
  const lang = (query as { lang?: unknown } | undefined)?.lang;
  return typeof lang === 'string' ? lang : undefined;
}

/**
 * GET /runs/:runId: a run's page for people (HTML, English or Japanese), with every attempt
 * of its slot, the slot's verdict across locations and links to its evidence; opened with a
 * token or through a signed link to that run. GET /assets/run-page.css: its stylesheet.
 */
export const runPageRoutes: FastifyPluginAsync<RunPageRoutesOptions> = async (app, options) => {
  const { items, recorder, artifacts, runsPerSeries, sides, linkKey, linkTtlMs } = options;
  const css = await readFile(RUN_PAGE_CSS_FILE, 'utf8');
  app.get('/assets/run-page.css', async (_request, reply) =>
    reply.header('content-type', 'text/css; charset=utf-8').header('cache-control', 'max-age=3600').send(css),
  );

  await app.register(async (pages) => {
    pages.addHook('onRequest', options.authorize);
    // A person opens this page in a browser: every refusal (no token, a changed or expired
    // link, a malformed id, a run gone) is a page in their language, not the API's JSON.
    pages.addHook('onSend', async (request, reply, payload) => {
      if (reply.statusCode < 400 || typeof payload !== 'string') return payload;
      if (!String(reply.getHeader('content-type') ?? '').startsWith('application/json')) return payload;
      let error: { code?: unknown; message?: unknown } | undefined;
      try {
        error = (JSON.parse(payload) as { error?: typeof error }).error;
      } catch {
        return payload;
      }
      const language = pageLanguage(askedLanguage(request.query), request.headers['accept-language']);
      reply.header('content-type', 'text/html; charset=utf-8');
      return renderRefusalPage({
        language,
        status: reply.statusCode,
        code: String(error?.code ?? 'INTERNAL'),
        message: String(error?.message ?? ''),
        languageLinks: languageLinksOf(request.url, language),
      });
    });

    pages.get<{ Params: { runId: string }; Querystring: z.output<typeof pageQuery> }>(
      '/runs/:runId',
      { config: { role: 'viewer', signedLink: true, query: pageQuery } },
      async (request, reply) => {
        const runId = pathSegment('runId', request.params.runId);
        const { exp, sig, tz } = request.query;
        const language = pageLanguage(request.query.lang, request.headers['accept-language']);
        const signed = sig !== undefined;
        if (signed && (await refuseInvalidLink(reply, linkKey, runId, request.query))) return reply;
        const found = await runInHistory(recorder, items, runsPerSeries, runId);
        if (!found) return reply.code(404).send(runNotFound(runId));
        const { run, item, history } = found;
        const locations = item?.locations ?? [run.location];
        const attempts = await attemptsOf(recorder, run);
        // Attempts fill their run's slot even when stored without `scheduledAt` (run now).
        const slot = [
          ...new Map(
            [...slotRunsOf(run, history), ...attempts].map((other) => [other.runId, other]),
          ).values(),
        ];
        // A signed link opens all of its run's evidence, and a run is all its attempts; an
        // open API (no token) shows everything; with a token, the role decides.
        const token = request.apiToken;
        const operator = signed || token === undefined || roleAllows(token.role, 'operator');
        const expiresAt = signed
          ? Number(exp) * 1000
          : token && operator && linkKey
            ? Date.now() + Math.min(linkTtlMs, PAGE_LINK_TTL_MS)
            : undefined;
        // Links the page's evidence opens with: the trace viewer's service worker and an
        // <img> carry no token, so an operator's page signs them (a viewer's does not: a
        // link opens every file of the run, traces included).
        const key = expiresAt !== undefined && linkKey ? await linkKey() : undefined;
        const attemptIds = new Set(attempts.map((attempt) => attempt.runId));
        const evidenceQuery = (id: string) => {
          if (!key || expiresAt === undefined || !attemptIds.has(id)) return '';
          const link = signLink(key, { runId: id, expiresAt });
          return `?exp=${link.exp}&sig=${link.sig}`;
        };
        const view = runPageView({
          run,
          checkName: item?.name ?? run.checkId,
          attempts,
          slot,
          locations,
          sides,
          analyses: operator ? await analysesOf(artifacts, attempts) : new Map(),
          language,
          timeZone: tz,
          operator,
          evidenceQuery,
          linkOtherRuns: !signed,
          signedUntil: signed ? Number(exp) * 1000 : undefined,
          keptQuery: { exp, sig, tz },
        });
        return reply
          .header('content-type', 'text/html; charset=utf-8')
          .header('content-language', language)
          .header('cache-control', 'no-store')
          .send(renderRunPage(view));
      },
    );
  });
};
