import { runEvidenceLinks } from '../api/run-links.ts';
import { artifactKindOf } from '../artifacts/artifact-kind.ts';
import type { ArtifactStore } from '../artifacts/artifact-store.ts';
import { readArtifactCapped } from '../artifacts/read-artifact-capped.ts';
import { signLink } from '../auth/signed-link.ts';
import type { AlertLanguage } from '../config/alerting-schema.ts';
import type { LoadedConfig } from '../config/load-config.ts';
import { parseCaptureFlows } from '../evidence/run-page/capture-flows.ts';
import { JA_ACTIONS } from '../evidence/run-page/messages.ts';
import { ERROR_CODES, type ErrorCode } from '../results/error-codes.ts';
import type { ResultsRecorder } from '../results/results-recorder.ts';
import type { ArtifactRef, RunResult } from '../results/run-result.ts';
import type { Logger } from '../util/logger.ts';
import {
  type AlertContext,
  type AlertLinks,
  type AlertLocationRow,
  type AlertTiming,
  EMPTY_ALERT_CONTEXT,
} from './alert-context.ts';
import { type AlertEvent, CHECK_ALERT_KINDS } from './alert-event.ts';

/** Where the evidence behind an alert is read from. */
export interface AlertContextSources {
  recorder: ResultsRecorder;
  config: LoadedConfig;
  /** Screenshots are read from it; without it a mail has no inline screenshot. */
  artifacts?: ArtifactStore;
  /** Signs the links; without it a mail has no links. */
  linkKey?: Buffer;
  logger?: Logger;
}

/** Newest runs of the check looked through for the failing one (all locations, all attempts). */
const FAILING_RUN_SCAN = 30;
/** Runs of the check at the failing run's location that make "the usual": at most this many, of the last day. */
const USUAL_RUNS = 300;
const USUAL_WINDOW_MS = 86_400_000;
/** A bigger screenshot is not sent inline: a mail that large is refused or clipped by many servers. */
export const MAX_SCREENSHOT_BYTES = 2 * 1024 * 1024;
/** A bigger capture analysis is not read for its one-line diagnosis. */
const MAX_ANALYSIS_BYTES = 1024 * 1024;
/** Phases in the order a request goes through them (the run page's order). */
const PHASES = ['dns', 'connect', 'tls', 'firstByte', 'download'] as const;

/** What to do about an error code, in the mail's language (the run page's tables; English when untranslated). */
export function whatToDoOf(code: string | undefined, language: AlertLanguage): string | undefined {
  if (!code || !(code in ERROR_CODES)) return undefined;
  const known = code as ErrorCode;
  return (language === 'ja' ? JA_ACTIONS[known] : undefined) ?? ERROR_CODES[known].action;
}

/**
 * The evidence behind an alert, read when it is sent: the state of every location the
 * check runs at, the verdict, the newest failed run with its error, timings against the
 * usual, screenshot and capture diagnosis, and signed links to its evidence. Each part is
 * optional: what cannot be read is left out (logged at debug), never an error, so a mail
 * is still sent when Redis lost a run or the artifact store is away.
 */
export async function gatherAlertContext(
  event: AlertEvent,
  sources: AlertContextSources,
): Promise<AlertContext> {
  const about = subjectOf(event, sources.config);
  if (!about) return { ...EMPTY_ALERT_CONTEXT, locations: [], timings: [], links: {} };
  const debug = (what: string, error: unknown) =>
    sources.logger?.debug(
      { alert: event.key, error: (error as Error)?.message ?? String(error) },
      `alert context: ${what}`,
    );
  const context: AlertContext = { locations: [], timings: [], links: {} };
  const [table, run] = await Promise.all([
    stateTable(about, event, sources).catch((error) => {
      debug('state table not read', error);
      return undefined;
    }),
    failingRun(about.checkId, event, sources.recorder).catch((error) => {
      debug('failing run not read', error);
      return undefined;
    }),
  ]);
  if (table) {
    context.locations = table.rows;
    if (table.verdict) context.verdict = table.verdict;
  }
  if (!run || !about.evidence) return context;
  context.run = {
    runId: run.runId,
    location: run.location,
    startedAt: run.startedAt,
    ...(failingStepOf(run) ? { step: failingStepOf(run) } : {}),
    ...(run.error
      ? {
          error: {
            ...(run.error.code ? { code: run.error.code } : {}),
            class: run.error.class,
            message: run.error.message,
          },
        }
      : {}),
  };
  const whatToDo = whatToDoOf(run.error?.code, event.language);
  if (whatToDo) context.run.whatToDo = whatToDo;
  const diagnosisInDetails = (run.details?.capture as { diagnosis?: unknown } | undefined)?.diagnosis;
  const [timings, screenshot, diagnosis] = await Promise.all([
    timingsOf(run, sources.recorder).catch((error) => {
      debug('usual timings not read', error);
      return [];
    }),
    screenshotOf(run, sources.artifacts).catch((error) => {
      debug('screenshot not read', error);
      return undefined;
    }),
    typeof diagnosisInDetails === 'string'
      ? diagnosisInDetails
      : analysisDiagnosisOf(run, sources.artifacts).catch((error) => {
          debug('capture analysis not read', error);
          return undefined;
        }),
  ]);
  context.timings = timings;
  if (screenshot) context.screenshot = screenshot;
  if (diagnosis) context.diagnosis = diagnosis;
  context.links = linksOf(run, event, sources);
  return context;
}

/** The check an alert's evidence is about, and where: its own for check alerts, the control check's for location ones. */
function subjectOf(event: AlertEvent, config: LoadedConfig): AlertSubjectItem | undefined {
  if (CHECK_ALERT_KINDS.includes(event.kind) && event.checkId) {
    const configured = config.checks.find((check) => check.id === event.checkId)?.locations;
    return {
      checkId: event.checkId,
      locations: [...new Set([...(configured ?? []), ...event.locations])],
      inConfig: configured !== undefined,
      evidence: true,
    };
  }
  if ((event.kind === 'location-down' || event.kind === 'location-up') && event.location) {
    const controlCheck = event.checkId ?? config.settings.locations[event.location]?.controlCheck;
    if (!controlCheck) return undefined;
    // A location that is up again needs no failing run: the table says it passes.
    return {
      checkId: controlCheck,
      locations: [event.location],
      inConfig: true,
      evidence: event.kind === 'location-down',
    };
  }
  return undefined;
}

interface AlertSubjectItem {
  checkId: string;
  /** The locations of its state table. */
  locations: string[];
  /** A check of the config (its locations are known); a journey is not. */
  inConfig: boolean;
  /** Its failing run, timings, screenshot and links belong in the mail. */
  evidence: boolean;
}

/** Every location's row, and the verdict across them, from one read of the states and the locations. */
async function stateTable(about: AlertSubjectItem, event: AlertEvent, sources: AlertContextSources) {
  const { recorder, config } = sources;
  const { checkId } = about;
  // A journey is not in config.checks: where it has run (its "latest" per location) says where it runs.
  const latest = about.inConfig ? {} : await recorder.runs.latest(checkId);
  const locations = [...new Set([...about.locations, ...Object.keys(latest)])];
  const [states, views] = await Promise.all([
    recorder.states.forCheck(checkId, locations),
    recorder.describeLocations(locations),
  ]);
  const rows: AlertLocationRow[] = views.map((view) => {
    const state = states[view.id];
    const description = config.settings.locations[view.id]?.description;
    return {
      id: view.id,
      side: view.side,
      ...(description ? { description } : {}),
      state: view.live ? state.state : 'NO WORKER',
      ...(state.since ? { since: state.since } : {}),
      ...(state.lastError ? { lastError: state.lastError } : {}),
      probeHostFault: view.controlDown && view.controlCheck !== checkId,
    };
  });
  const wantsVerdict = CHECK_ALERT_KINDS.includes(event.kind);
  const verdict = wantsVerdict ? await recorder.verdict(checkId, locations, { states, views }) : undefined;
  return { rows, verdict: verdict && { name: verdict.verdict, summary: verdict.summary } };
}

/**
 * The newest failed run of the check among its last few (degraded, for a DEGRADED alert),
 * preferring the locations the alert is about (a DOWN outside is told with the outside's
 * run, even if inside failed once since).
 */
async function failingRun(checkId: string, event: AlertEvent, recorder: ResultsRecorder) {
  const runs = await recorder.runs.listRuns(checkId, { limit: FAILING_RUN_SCAN });
  const status = event.kind === 'degraded' || event.kind === 'degraded-end' ? 'degraded' : 'fail';
  const failed = runs.filter((run) => run.status === status);
  return failed.find((run) => event.locations.includes(run.location)) ?? failed[0];
}

/** The failing step of a journey or multi-step check: the first failed one. */
function failingStepOf(run: RunResult): string | undefined {
  return run.steps?.find((step) => step.status === 'fail')?.name;
}

function median(values: number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * The failing run's phases (and steps, `step:<name>`) beside their median over the check's
 * passing runs at that location in the last day: "usual" is how it is when it works. Bounded
 * by USUAL_RUNS, newest first, so a check running every second is not read for a whole day.
 */
async function timingsOf(run: RunResult, recorder: ResultsRecorder): Promise<AlertTiming[]> {
  const recent = await recorder.runs.listRuns(run.checkId, { location: run.location, limit: USUAL_RUNS });
  const usual = recent.filter(
    (other) =>
      (other.status === 'pass' || other.status === 'degraded') &&
      other.startedAt >= run.startedAt - USUAL_WINDOW_MS &&
      other.runId !== run.runId,
  );
  const medianOf = (pick: (other: RunResult) => number | undefined) =>
    median(usual.map(pick).filter((value): value is number => typeof value === 'number'));
  const timings: AlertTiming[] = [];
  const add = (phase: string, ms: number | undefined, medianMs: number | undefined) => {
    if (typeof ms !== 'number') return;
    timings.push({ phase, ms, ...(medianMs !== undefined ? { medianMs } : {}) });
  };
  for (const phase of PHASES)
    add(
      phase,
      run.phases[phase],
      medianOf((other) => other.phases[phase]),
    );
  for (const step of run.steps ?? []) {
    if (step.status === 'skipped') continue;
    const stepMs = (other: RunResult) =>
      other.steps?.find((candidate) => candidate.name === step.name)?.durationMs;
    add(`step:${step.name}`, step.durationMs, medianOf(stepMs));
  }
  add(
    'total',
    run.phases.total,
    medianOf((other) => other.phases.total),
  );
  return timings;
}

function nameOf(ref: ArtifactRef): string {
  return ref.key.slice(ref.key.lastIndexOf('/') + 1);
}

/** The failing run's screenshot (`failure.png` first, else its last one), unless larger than MAX_SCREENSHOT_BYTES. */
async function screenshotOf(
  run: RunResult,
  artifacts: ArtifactStore | undefined,
): Promise<AlertContext['screenshot']> {
  if (!artifacts) return undefined;
  const images = (run.artifacts ?? []).filter((ref) => artifactKindOf(ref.key) === 'screenshots');
  const ref = images.find((image) => nameOf(image) === 'failure.png') ?? images.at(-1);
  if (!ref || (ref.bytes ?? 0) > MAX_SCREENSHOT_BYTES) return undefined;
  const content = await readArtifactCapped(artifacts, ref.key, MAX_SCREENSHOT_BYTES);
  if (!content) return undefined;
  const name = nameOf(ref);
  const contentType =
    ref.contentType ??
    (/\.jpe?g$/.test(name) ? 'image/jpeg' : name.endsWith('.webp') ? 'image/webp' : 'image/png');
  return { filename: name, contentType, content };
}

/** The capture analysis's one-line diagnosis, when the run's details do not already carry it. */
async function analysisDiagnosisOf(
  run: RunResult,
  artifacts: ArtifactStore | undefined,
): Promise<string | undefined> {
  const ref = run.artifacts?.find((artifact) => artifact.key.endsWith('-analysis.json'));
  if (!ref || !artifacts) return undefined;
  const content = await readArtifactCapped(artifacts, ref.key, MAX_ANALYSIS_BYTES);
  return content ? parseCaptureFlows(content.toString('utf8'))?.diagnosis : undefined;
}

/**
 * Signed links to the run's evidence, as the run page signs them, valid for
 * `alerting.links.ttl`; only to what the run has (a trace, a capture slice), and only when
 * the API's public address and the link key are known.
 */
function linksOf(run: RunResult, event: AlertEvent, sources: AlertContextSources): AlertLinks {
  const base = sources.config.settings.api.publicUrl?.replace(/\/+$/, '');
  if (!base || !sources.linkKey) return {};
  const ttl = sources.config.settings.alerting?.links.ttl ?? 86_400_000;
  const now = Date.now();
  const evidence = runEvidenceLinks(base, run.runId, sources.linkKey, ttl, now);
  const { exp, sig } = signLink(sources.linkKey, { runId: run.runId, expiresAt: now + ttl });
  const id = encodeURIComponent(run.runId);
  const links: AlertLinks = {
    runPage: `${base}/runs/${id}?lang=${event.language}&exp=${exp}&sig=${sig}`,
    bundle: `${base}/api/v1/runs/${id}/bundle?exp=${exp}&sig=${sig}`,
    // The link opens until the second it names (exp is whole seconds).
    expiresAt: Number(exp) * 1000,
  };
  const refs = run.artifacts ?? [];
  const trace = refs.find((ref) => artifactKindOf(ref.key) === 'traces');
  if (trace) {
    links.trace = evidence.artifact(nameOf(trace));
    links.traceViewer = `${base}/trace/?trace=${encodeURIComponent(links.trace)}`;
  }
  const capture = refs.find((ref) => nameOf(ref).endsWith('.pcap'));
  if (capture) links.capture = evidence.artifact(nameOf(capture));
  return links;
}
