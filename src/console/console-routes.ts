import { createHash } from 'node:crypto';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { MonitoredItem } from '../api/routes/checks-routes.ts';
import type { ArtifactStore } from '../artifacts/artifact-store.ts';
import { READ_ROLES } from '../auth/api-role.ts';
import { bearerTokenOf } from '../auth/bearer-token.ts';
import type { TokenTable } from '../auth/token-table.ts';
import type { LoadedConfig } from '../config/load-config.ts';
import type { PageLanguage } from '../evidence/run-page/messages.ts';
import { pageLanguage } from '../evidence/run-page/page-language.ts';
import { type MapItem, targetOf } from '../map/map-target.ts';
import { readMapGraph } from '../map/read-map-graph.ts';
import { renderMapSvg } from '../map/render-map-svg.ts';
import type { Report } from '../reports/compute-report.ts';
import { REPORT_PERIODS, type ReportPeriod } from '../reports/report-window.ts';
import type { RollupReader } from '../reports/rollup-reader.ts';
import type { ResultsRecorder } from '../results/results-recorder.ts';
import type { RunResult } from '../results/run-result.ts';
import { mayOpenCaptures, registerCapturesPage } from './captures-page-routes.ts';
import { parseCheckRange } from './check-range.ts';
import { buildCheckView, type CheckRangeView, checkRangeView } from './check-view.ts';
import { consoleTranslator } from './console-messages.ts';
import {
  type ConsoleSession,
  SESSION_COOKIE,
  SESSION_TTL_MS,
  sessionTokenEntry,
  signSession,
  tokenTagOf,
} from './console-session.ts';
import { optionalText } from './optional-text.ts';
import { CONSOLE_ASSETS, registerConsoleViews, renderConsolePage, renderFragment } from './render-console.ts';
import { buildStatusView, type StatusFilters } from './status-view.ts';
import { utcMinute } from './utc-minute.ts';

/** Every query parameter the console's pages read, with the longest value each takes. */
const QUERY_PARAMETERS = z.object({
  lang: optionalText(5),
  next: optionalText(2000),
  hours: optionalText(4),
  // A custom range: ISO 8601, UTC unless a zone is named (what datetime-local inputs send).
  from: optionalText(40),
  to: optionalText(40),
  location: optionalText(100),
  status: optionalText(20),
  period: optionalText(10),
  path: optionalText(600),
  tag: optionalText(200),
  kind: optionalText(50),
  state: optionalText(20),
  page: optionalText(10),
});
type QueryParameter = keyof typeof QUERY_PARAMETERS.shape;
/** The query of one page: the parameters it reads, as QUERY_PARAMETERS bounds them. */
const queryOf = <Name extends QueryParameter>(...names: Name[]) =>
  QUERY_PARAMETERS.pick(
    Object.fromEntries(names.map((name) => [name, true])) as Partial<Record<QueryParameter, true>>,
  );
const LANG_QUERY = queryOf('lang');
const SIGNIN_QUERY = queryOf('lang', 'next');
const CHECK_QUERY = queryOf('lang', 'hours', 'from', 'to', 'location', 'status');
const REPORTS_QUERY = queryOf('lang', 'period');
const STATUS_QUERY = queryOf('lang', 'path', 'tag', 'kind', 'state', 'location', 'page');

/** How often the status page asks whether its table changed. */
const REFRESH_MS = 5000;

export interface ConsoleRoutesOptions {
  items: MonitoredItem[];
  /** What the map draws: every check and journey with its target. */
  mapItems: MapItem[];
  config: LoadedConfig;
  locations: string[];
  recorder: ResultsRecorder;
  tokens: TokenTable;
  /** Signs console sessions (the link key: one secret, another purpose in the MAC). */
  linkKey: () => Promise<Buffer>;
  activeMaintenance?: (now: number) => Promise<Array<{ name: string; reason?: string; end: number }>>;
  /** The report of a period ending now (the reports API's own computation); absent without Redis. */
  report?: (period: ReportPeriod) => Promise<Report>;
  /** The reports' reader of hourly rollups: a check page's range percentiles; absent without Redis. */
  rollups?: Pick<RollupReader, 'sums'>;
  /** The Captures page: the store its files are served from, and each check's history depth. */
  artifacts?: ArtifactStore;
  runsPerSeries: number;
  /** The API's own capture request (an unfiltered capture of a slice's run); absent: not offered. */
  requestCapture?: (run: RunResult, unfiltered: boolean) => Promise<string>;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Who a console page is for, when the API has tokens. */
    consoleSession?: ConsoleSession;
  }
}

const LANGUAGE_LABELS: Record<PageLanguage, string> = { en: 'English', ja: '日本語' };

/** A `next` address to go back to after signing in: a path on this server, nothing else. */
function safeNext(next: unknown): string {
  return typeof next === 'string' && next.startsWith('/') && !next.startsWith('//') && next.length < 2000
    ? next
    : '/';
}

function textField(value: unknown, max = 200): string | undefined {
  return typeof value === 'string' && value.length <= max ? value : undefined;
}

/** Whether the page's own refresh asks (console.js): it wants the live part alone. */
function isRefresh(request: FastifyRequest): boolean {
  return request.headers['x-pathwatch-fragment'] === 'status-table';
}

/** The live part of a page for its refresh: 304 when nothing a person would see changed. */
function sendRefresh(request: FastifyRequest, reply: FastifyReply, html: string): FastifyReply {
  const etag = `"${createHash('sha1').update(html).digest('base64url')}"`;
  reply.header('etag', etag).header('vary', 'x-pathwatch-fragment');
  if (request.headers['if-none-match'] === etag) return reply.code(304).send();
  return reply.type('text/html; charset=utf-8').send(html);
}

/**
 * The operator console's pages, served by the API process (no front-end server, no CDN):
 * `/` the status of every check and journey at every location. Sign-in takes an API token
 * once and keeps a signed session cookie (who, role, expiry; never the token).
 */
export const consoleRoutes: FastifyPluginAsync<ConsoleRoutesOptions> = async (app, options) => {
  const { tokens } = options;
  await registerConsoleViews(app);
  const targets = new Map(options.mapItems.map((item) => [item.id, targetOf(item).id]));
  const languageOf = (request: FastifyRequest) =>
    pageLanguage(
      textField((request.query as { lang?: unknown })?.lang, 5),
      request.headers['accept-language'],
    );

  // Forms post urlencoded bodies; nothing else is taken here.
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 10_000 },
    (_request, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(String(body))));
    },
  );

  /**
   * The session a page request carries (a signed cookie, or a bearer token for scripts); on
   * an API with tokens, without one the page answers 401 with the sign-in form in its place
   * (403 for a token that cannot read), and the form brings the person back here.
   */
  const signedIn = async (request: FastifyRequest, reply: FastifyReply): Promise<boolean> => {
    if (tokens.readers === 0) return true;
    const session = sessionTokenEntry(await options.linkKey(), tokens, request.headers.cookie)?.session;
    const bearer = bearerTokenOf(request.headers.authorization);
    const entry = bearer === undefined ? undefined : tokens.identify(bearer);
    if (session) request.consoleSession = session;
    else if (entry && (READ_ROLES as readonly string[]).includes(entry.role)) {
      request.consoleSession = {
        name: entry.name,
        role: entry.role,
        expiresAt: Date.now() + SESSION_TTL_MS,
        tokenTag: tokenTagOf(entry),
      };
    } else {
      if (!entry) reply.header('www-authenticate', 'Bearer realm="pathwatch"');
      await reply
        .code(entry ? 403 : 401)
        .header('cache-control', 'no-store')
        .type('text/html; charset=utf-8')
        .send(
          await signInPage(
            request,
            entry !== undefined,
            request.url,
            // The API's own words, as its JSON refusals say them.
            entry
              ? `this needs the viewer role; the token "${entry.name}" has the ${entry.role} role`
              : undefined,
          ),
        );
      return false;
    }
    return true;
  };

  const page = (
    request: FastifyRequest,
    language: PageLanguage,
    pageTitleKey: 'statusTitle' | 'signInTitle' | 'mapTitle' | 'reportsTitle',
    nav: string,
  ) => {
    const t = consoleTranslator(language);
    const url = new URL(request.url, 'http://console.invalid');
    return {
      language,
      t,
      pageTitle: t(pageTitleKey),
      nav,
      session: request.consoleSession,
      // The nav links to Captures only for whom the page opens (operators, or an open API).
      showCaptures: mayOpenCaptures(request, tokens),
      languageLinks: (['en', 'ja'] as const).map((other) => {
        url.searchParams.set('lang', other);
        return {
          href: `${url.pathname}${url.search}`,
          label: LANGUAGE_LABELS[other],
          current: other === language,
          language: other,
        };
      }),
    };
  };

  app.get('/', { config: { role: 'viewer', query: STATUS_QUERY } }, async (request, reply) => {
    if (!(await signedIn(request, reply))) return reply;
    const language = languageOf(request);
    const query = request.query as Record<string, unknown>;
    const filters: StatusFilters = {
      path: textField(query.path) || undefined,
      tag: textField(query.tag) || undefined,
      kind: textField(query.kind) || undefined,
      state: textField(query.state) || undefined,
      location: textField(query.location) || undefined,
    };
    const pageText = textField(query.page, 10) ?? '';
    const pageNumber = pageText === '' ? 1 : /^\d+$/.test(pageText) ? Number(pageText) : 0;
    const view = await buildStatusView(
      {
        recorder: options.recorder,
        items: options.items,
        locations: options.locations,
        targetOf: (id) => targets.get(id),
        activeMaintenance: options.activeMaintenance,
      },
      filters,
      language,
      Date.now(),
      { page: Math.max(1, pageNumber) },
    );
    const t = consoleTranslator(language);
    if (pageNumber < 1) {
      // One line naming the field and what it takes, in place of the table (never a stack).
      return reply
        .code(400)
        .header('cache-control', 'no-store')
        .type('text/html; charset=utf-8')
        .send(
          await renderConsolePage(app, page(request, language, 'statusTitle', 'status'), 'status', {
            view,
            error: `page: ${t('badPage', { value: pageText })}`,
          }),
        );
    }
    const fragment = await renderFragment(app, 'status-table', { view, t });
    reply.header('cache-control', 'no-store');
    if (isRefresh(request)) return sendRefresh(request, reply, fragment);
    return reply.type('text/html; charset=utf-8').send(
      await renderConsolePage(app, page(request, language, 'statusTitle', 'status'), 'status', {
        view,
        fragment,
        refreshMs: REFRESH_MS,
      }),
    );
  });

  // One check or journey: availability and latency over a range, phases, incidents, runs, gaps.
  app.get<{ Params: { id: string } }>(
    '/checks/:id',
    { config: { role: 'viewer', query: CHECK_QUERY } },
    async (request, reply) => {
      if (!(await signedIn(request, reply))) return reply;
      const language = languageOf(request);
      const item = options.items.find((candidate) => candidate.id === request.params.id);
      const t = consoleTranslator(language);
      if (!item) {
        return reply
          .code(404)
          .type('text/html; charset=utf-8')
          .send(
            await renderConsolePage(app, page(request, language, 'statusTitle', 'status'), 'not-found', {
              what: request.params.id,
            }),
          );
      }
      const query = request.query as {
        hours?: string;
        from?: string;
        to?: string;
        location?: string;
        status?: string;
      };
      const filters = { location: query.location || undefined, status: query.status || undefined };
      const chosen = parseCheckRange(query, options.config.settings.rollupDays);
      // The check's page: its head (the range form), then what it shows (or why not).
      const send = async (range: CheckRangeView, content: object) =>
        reply
          .header('cache-control', 'no-store')
          .type('text/html; charset=utf-8')
          .send(
            await renderConsolePage(
              app,
              { ...page(request, language, 'statusTitle', 'status'), pageTitle: item.name ?? item.id },
              'check',
              { head: { item, language, filters, range }, ...content, t },
            ),
          );
      if ('error' in chosen) {
        // The range form as typed, and one line saying what is wrong.
        const { field, key, values } = chosen.error;
        reply.code(400);
        return send(checkRangeView(undefined, query, language), {
          error: { field, line: `${field}: ${t(key, values)}` },
        });
      }
      const view = await buildCheckView(
        { recorder: options.recorder, rollups: options.rollups, runsPerSeries: options.runsPerSeries },
        item,
        { range: chosen.range, ...filters },
        language,
      );
      // Embedded as data (never run): `<` escaped so no text in it can close the script element.
      const chartJson = JSON.stringify(view.chart).replaceAll('<', '\\u003c');
      return send(view.range, {
        view,
        chartJson,
        scripts: ['/assets/uplot.iife.min.js', '/assets/console-check.js'],
        styles: ['/assets/uplot.min.css'],
      });
    },
  );

  // Reports: availability and latency per check and location for a day, week or month, against
  // the target, with the error budget left; the same numbers as GET /api/v1/reports, and its CSV.
  app.get('/reports', { config: { role: 'viewer', query: REPORTS_QUERY } }, async (request, reply) => {
    if (!(await signedIn(request, reply))) return reply;
    const language = languageOf(request);
    const asked = (request.query as { period?: string }).period;
    const period: ReportPeriod = (REPORT_PERIODS as string[]).includes(asked ?? '')
      ? (asked as ReportPeriod)
      : 'day';
    const report = options.report ? await options.report(period) : undefined;
    return reply
      .header('cache-control', 'no-store')
      .type('text/html; charset=utf-8')
      .send(
        await renderConsolePage(app, page(request, language, 'reportsTitle', 'reports'), 'reports', {
          report,
          period,
          periods: REPORT_PERIODS,
          from: report ? utcMinute(report.from) : '',
          to: report ? utcMinute(report.to) : '',
        }),
      );
  });

  // The map of paths, drawn on the server (an SVG in the page: its paths are links, and it
  // needs no script); refreshed by the same in-place refresh as the status table.
  app.get('/map', { config: { role: 'viewer', query: LANG_QUERY } }, async (request, reply) => {
    if (!(await signedIn(request, reply))) return reply;
    const language = languageOf(request);
    const svg = renderMapSvg(await readMapGraph(options.recorder, options.config, options.mapItems), {
      language,
    });
    const t = consoleTranslator(language);
    reply.header('cache-control', 'no-store');
    if (isRefresh(request)) return sendRefresh(request, reply, svg);
    return reply.type('text/html; charset=utf-8').send(
      await renderConsolePage(app, page(request, language, 'mapTitle', 'map'), 'map', {
        svg,
        help: t('mapHelp'),
        refreshMs: REFRESH_MS,
      }),
    );
  });

  // Captures (operators): slices and collections, signed one-file downloads, unfiltered requests.
  registerCapturesPage(app, {
    items: options.items,
    locations: options.locations,
    recorder: options.recorder,
    artifacts: options.artifacts,
    runsPerSeries: options.runsPerSeries,
    tokens,
    linkKey: options.linkKey,
    requestCapture: options.requestCapture,
    signedIn,
    page: (request, language) => page(request, language, 'statusTitle', 'captures'),
    languageOf,
  });

  const signInPage = (request: FastifyRequest, refused: boolean, next?: string, detail?: string) => {
    const language = languageOf(request);
    const asked =
      next ??
      (request.query as { next?: unknown })?.next ??
      (request.body as { next?: unknown } | undefined)?.next;
    return renderConsolePage(app, page(request, language, 'signInTitle', 'signin'), 'signin', {
      refused,
      detail,
      next: safeNext(asked),
      hours: SESSION_TTL_MS / 3_600_000,
    });
  };

  app.get('/signin', { config: { query: SIGNIN_QUERY } }, async (request, reply) =>
    reply
      .header('cache-control', 'no-store')
      .type('text/html; charset=utf-8')
      .send(await signInPage(request, false)),
  );

  app.post('/signin', { config: { query: LANG_QUERY } }, async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    const token = textField(body.token, 500)?.trim();
    const entry = token ? tokens.identify(token) : undefined;
    if (!entry || !(READ_ROLES as readonly string[]).includes(entry.role)) {
      request.log.info({ token: entry?.name }, 'console sign-in refused');
      // 422, not 401: the form was understood and its token refused; the page says so.
      return reply
        .code(422)
        .header('cache-control', 'no-store')
        .type('text/html; charset=utf-8')
        .send(await signInPage(request, true));
    }
    const session: ConsoleSession = {
      name: entry.name,
      role: entry.role,
      expiresAt: Date.now() + SESSION_TTL_MS,
      tokenTag: tokenTagOf(entry),
    };
    const secure = request.protocol === 'https' ? '; Secure' : '';
    request.log.info({ token: entry.name, role: entry.role }, 'console sign-in');
    return reply
      .header(
        'set-cookie',
        `${SESSION_COOKIE}=${signSession(await options.linkKey(), session)}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${SESSION_TTL_MS / 1000}${secure}`,
      )
      .redirect(safeNext(body.next), 303);
  });

  app.get('/signout', async (_request, reply) =>
    reply
      .header('set-cookie', `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`)
      .redirect('/signin', 303),
  );

  // The stylesheet and scripts, and uPlot from its package (no CDN), sent by @fastify/static
  // (ETag, Last-Modified, 304s) from one route per file of the allow-list (CONSOLE_ASSETS):
  // no wildcard, so nothing else under those folders answers but 404. Its own scope: the
  // `sendFile` it adds is seen by these routes alone (one already there is used instead).
  await app.register(async (assets) => {
    const typeOf = new Map(CONSOLE_ASSETS.map((asset) => [join(asset.root, asset.file), asset.type]));
    await assets.register(fastifyStatic, {
      root: CONSOLE_ASSETS[0].root,
      serve: false,
      decorateReply: !assets.hasReplyDecorator('sendFile'),
      maxAge: 300_000,
      // The type as the pages have always had it, whatever the mime table says of .js.
      setHeaders: (response, path) => {
        const type = typeOf.get(path);
        if (type) response.header('content-type', type);
      },
    });
    for (const { url, root, file } of CONSOLE_ASSETS)
      assets.get(url, (_request, reply) => reply.sendFile(file, root));
  });
};
