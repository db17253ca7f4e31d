import { artifactKindOf } from '../../artifacts/artifact-kind.ts';
import { ERROR_CODES, type ErrorCode } from '../../results/error-codes.ts';
import type { ArtifactRef, RunResult } from '../../results/run-result.ts';
import type { CheckState } from '../../results/state-store.ts';
import { computeVerdict, type LocationSide } from '../../results/verdict.ts';
import { formatZoned } from '../zoned-time.ts';
import { type CaptureFlows, endpointText } from './capture-flows.ts';
import { JA_ACTIONS, type MessageKey, type PageLanguage, type Translate, translatorFor } from './messages.ts';

/** What the run page is made from: stored records, and what the caller may see of them. */
export interface RunPageInput {
  /** The run the page is for. */
  run: RunResult;
  checkName: string;
  /** The run's attempts (`<base>`, `<base>-2`…), first to last; the run among them. */
  attempts: RunResult[];
  /** Every location's runs of the run's schedule slot (slotRunsOf). */
  slot: RunResult[];
  /** The locations the check runs at, and which side each is on. */
  locations: string[];
  sides: Record<string, LocationSide>;
  /** Stored capture analyses, by run id. */
  analyses: Map<string, CaptureFlows>;
  language: PageLanguage;
  /** An IANA time zone whose local times are written beside UTC. */
  timeZone?: string;
  /** Whether operator-only evidence (trace, HAR, capture, bundle) is linked. */
  operator: boolean;
  /** The query (`?exp=…&sig=…`, or '') that opens a run's evidence for whoever has the page. */
  evidenceQuery: (runId: string) => string;
  /** Whether other runs' pages are linked (not through a signed link: it opens this run only). */
  linkOtherRuns: boolean;
  /** The signed link's expiry, when the page was opened through one. */
  signedUntil?: number;
  /** Query parameters a language switch keeps (the link's exp and sig, tz). */
  keptQuery: Record<string, string | undefined>;
}

export interface LinkView {
  href: string;
  label: string;
}

export interface ImageView {
  src: string;
  alt: string;
  name: string;
}

export interface StepView {
  number: number;
  name: string;
  status: string;
  statusText: string;
  offset: string;
  duration: string;
  error?: string;
  screenshots: ImageView[];
}

export interface AttemptView {
  runId: string;
  anchor: string;
  heading: string;
  current: boolean;
  status: string;
  statusText: string;
  facts: Array<{ label: string; value: string }>;
  steps: StepView[];
  /** Screenshots not shown beside a failing step. */
  screenshots: ImageView[];
  error?: { code: string; className: string; phase?: string; message: string; action?: string };
  phases: Array<{ label: string; value: string }>;
  peers: string[];
  assertions: Array<{ name: string; outcome: string; ok: boolean; expected: string; actual: string }>;
  capture?: {
    diagnosis?: string;
    flows: Array<{
      endpoints: string;
      packets: string;
      handshake: string;
      bytes: string;
      notes: string;
      diagnosis: string;
    }>;
    queries: string[];
  };
  evidence: LinkView[];
}

export interface RunPageView {
  language: PageLanguage;
  t: Translate;
  title: string;
  heading: string;
  status: string;
  statusText: string;
  languageLinks: Array<{ href: string; label: string; current: boolean; language: PageLanguage }>;
  notes: string[];
  facts: Array<{ label: string; value: string }>;
  verdict: {
    name: string;
    text: string;
    rows: Array<{
      location: string;
      attempts: number;
      outcome: string;
      status: string;
      href?: string;
      current: boolean;
    }>;
  };
  attempts: AttemptView[];
  bundle?: LinkView;
}

const LANGUAGE_NAMES: Record<PageLanguage, string> = { en: 'English', ja: '日本語' };
const PHASES = ['dns', 'connect', 'tls', 'firstByte', 'download', 'total'] as const;

/** `14.2 ms` under 100 ms, else whole milliseconds: phase timings vary over four decades. */
function millis(ms: number, t: Translate): string {
  return t('msUnit', { ms: ms < 100 ? ms.toFixed(1) : String(Math.round(ms)) });
}

function statusKey(status: string): MessageKey {
  return `status.${status}` as MessageKey;
}

function plainValue(value: unknown): string {
  if (value === undefined) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The run page's content, every string already in the page's language. */
export function runPageView(input: RunPageInput): RunPageView {
  const t = translatorFor(input.language);
  const { run } = input;
  const time = (ms: number) => {
    const utc = new Date(ms).toISOString();
    return input.timeZone ? `${utc} (${formatZoned(ms, input.timeZone)})` : utc;
  };
  const statusText = (status: string) => t(statusKey(status));
  const artifactHref = (runId: string, name: string) =>
    `/api/v1/runs/${encodeURIComponent(runId)}/artifacts/${encodeURIComponent(name)}${input.evidenceQuery(runId)}`;
  const pageHref = (runId: string, language = input.language, keep = false) => {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(keep ? input.keptQuery : { tz: input.keptQuery.tz }))
      if (value !== undefined) params.set(name, value);
    params.set('lang', language);
    return `/runs/${encodeURIComponent(runId)}?${params}`;
  };

  const attempts = input.attempts.map((attempt) => attemptView(attempt));
  function attemptView(attempt: RunResult): AttemptView {
    const nameOf = (ref: ArtifactRef) => ref.key.slice(ref.key.lastIndexOf('/') + 1);
    const refs = attempt.artifacts ?? [];
    const images = refs
      .filter((ref) => artifactKindOf(ref.key) === 'screenshots')
      .map((ref) => ({
        src: artifactHref(attempt.runId, nameOf(ref)),
        alt: t('failingScreenshot'),
        name: nameOf(ref),
      }));
    const steps = (attempt.steps ?? []).map((step, index) => ({
      number: index + 1,
      name: step.name,
      status: step.status,
      statusText: statusText(step.status),
      offset: `+${((step.startedAt - attempt.startedAt) / 1000).toFixed(3)} s`,
      duration: millis(step.durationMs, t),
      error: step.error,
      screenshots: [] as ImageView[],
    }));
    // The screenshot a failed journey keeps is of the page as its failing step left it.
    const failing = steps.find((step) => step.status === 'fail');
    if (failing) failing.screenshots = images;
    const code = attempt.error?.code as ErrorCode | undefined;
    const analysis = input.analyses.get(attempt.runId);
    const diagnosis = (attempt.details?.capture as { diagnosis?: unknown } | undefined)?.diagnosis;
    const evidence: LinkView[] = [];
    if (input.operator) {
      for (const ref of refs) {
        const name = nameOf(ref);
        const kind = artifactKindOf(ref.key);
        if (kind === 'screenshots' || name.endsWith('-analysis.json')) continue;
        if (kind === 'traces') {
          evidence.push({
            href: `/trace/?trace=${encodeURIComponent(artifactHref(attempt.runId, name))}`,
            label: t('traceViewer'),
          });
          evidence.push({ href: artifactHref(attempt.runId, name), label: t('traceDownload') });
        } else if (kind === 'har')
          evidence.push({ href: artifactHref(attempt.runId, name), label: t('har') });
        else if (name.endsWith('.pcap'))
          evidence.push({ href: artifactHref(attempt.runId, name), label: t('pcap') });
        else if (name.endsWith('-analysis.txt'))
          evidence.push({ href: artifactHref(attempt.runId, name), label: t('analysisText') });
        else evidence.push({ href: artifactHref(attempt.runId, name), label: t('otherArtifact', { name }) });
      }
    }
    return {
      runId: attempt.runId,
      anchor: `attempt-${attempt.attempt}`,
      heading: `${t('attempt')} ${attempt.attempt} · ${attempt.runId}`,
      current: attempt.runId === run.runId,
      status: attempt.status,
      statusText: statusText(attempt.status),
      facts: [
        ...(attempt.scheduledAt !== undefined
          ? [{ label: t('scheduledAt'), value: time(attempt.scheduledAt) }]
          : []),
        { label: t('startedAt'), value: time(attempt.startedAt) },
        { label: t('finishedAt'), value: time(attempt.finishedAt) },
        { label: t('duration'), value: millis(attempt.finishedAt - attempt.startedAt, t) },
        ...(attempt.host ? [{ label: t('host'), value: attempt.host }] : []),
      ],
      steps,
      screenshots: failing ? [] : images,
      error: attempt.error && {
        code: attempt.error.code ?? attempt.error.class,
        className: attempt.error.class,
        phase: attempt.error.phase,
        message: attempt.error.message,
        action: code
          ? input.language === 'ja'
            ? (JA_ACTIONS[code] ?? ERROR_CODES[code]?.action)
            : ERROR_CODES[code]?.action
          : undefined,
      },
      phases: PHASES.filter((phase) => attempt.phases[phase] !== undefined).map((phase) => ({
        label: t(`phase.${phase}`),
        value: millis(attempt.phases[phase]!, t),
      })),
      peers: attempt.peers.map(endpointText),
      assertions: (attempt.assertions ?? []).map((assertion) => ({
        name: assertion.name,
        ok: assertion.ok,
        outcome: assertion.ok
          ? t(assertion.degraded ? 'assertionDegraded' : 'assertionOk')
          : t('assertionFailed'),
        expected: plainValue(assertion.expected),
        actual: plainValue(assertion.actual),
      })),
      capture:
        analysis || typeof diagnosis === 'string'
          ? {
              diagnosis: typeof diagnosis === 'string' ? diagnosis : analysis?.diagnosis,
              flows: (analysis?.tcpFlows ?? []).map((flow) => ({
                endpoints: `${endpointText(flow.client)} → ${endpointText(flow.server)}`,
                packets: `${flow.packets} (${flow.fromClient.packets} / ${flow.fromServer.packets})`,
                handshake: !flow.synSeen
                  ? t('flowMidConnection')
                  : flow.synAcks > 0
                    ? t('flowHandshakeMs', { ms: (flow.handshakeMs ?? 0).toFixed(1) })
                    : t('flowNoAnswer', { syns: flow.synsSent }),
                bytes: `${flow.bytesFromClient} / ${flow.bytesFromServer}`,
                notes: [
                  ...(flow.retransmissions > 0
                    ? [t('flowRetransmissions', { count: flow.retransmissions })]
                    : []),
                  ...flow.resets.map((reset) => t('flowReset', { side: reset.from })),
                  ...(flow.ownRun === false ? [t('flowOtherRun')] : []),
                ].join(', '),
                diagnosis: flow.diagnosis,
              })),
              queries: (analysis?.dns.queries ?? []).map(
                (query) =>
                  `${t('dnsQuery', { type: query.type, name: query.name, server: endpointText(query.server) })}: ${
                    query.answered
                      ? [
                          query.rcode,
                          query.answers.join(', '),
                          query.responseMs !== undefined ? millis(query.responseMs, t) : '',
                        ]
                          .filter(Boolean)
                          .join(' ')
                      : t('dnsNoAnswer')
                  }`,
              ),
            }
          : undefined,
      evidence,
    };
  }

  const current = input.attempts.find((attempt) => attempt.runId === run.runId) ?? run;
  const notes = [
    input.timeZone ? t('timesNoteZoned', { zone: input.timeZone }) : t('timesNote'),
    ...(input.timeZone ? [] : [t('timesNoteHint')]),
    ...(input.signedUntil !== undefined ? [t('signedLinkNote', { until: time(input.signedUntil) })] : []),
    ...(input.operator ? [] : [t('operatorOnlyNote')]),
  ];
  return {
    language: input.language,
    t,
    title: t('htmlTitle', { runId: run.runId, check: input.checkName }),
    heading: t('heading', { check: input.checkName, location: run.location }),
    status: run.status,
    statusText: statusText(run.status),
    languageLinks: (['en', 'ja'] as const).map((language) => ({
      href: pageHref(run.runId, language, true),
      label: LANGUAGE_NAMES[language],
      current: language === input.language,
      language,
    })),
    notes,
    facts: [
      { label: t('check'), value: `${input.checkName} (${run.checkId})` },
      { label: t('kind'), value: run.kind },
      { label: t('location'), value: run.location },
      { label: t('runId'), value: run.runId },
      {
        label: t('attempt'),
        value: t('attemptOf', { attempt: current.attempt, count: input.attempts.length }),
      },
      ...(run.scheduledAt !== undefined ? [{ label: t('scheduledAt'), value: time(run.scheduledAt) }] : []),
      { label: t('startedAt'), value: time(run.startedAt) },
    ],
    verdict: slotVerdict(input, t, (runId) => (input.linkOtherRuns ? pageHref(runId) : undefined)),
    attempts,
    bundle: input.operator
      ? {
          href: `/api/v1/runs/${encodeURIComponent(run.runId)}/bundle${input.evidenceQuery(run.runId)}`,
          label: t('bundle'),
        }
      : undefined,
  };
}

/** A stand-in state for the verdict: what a location's last attempt in the slot counts as. */
function stateOf(run: RunResult | undefined): CheckState | undefined {
  // An `error` is pathwatch's own failure: it says nothing about the target, as in the states.
  if (!run || run.status === 'error') return undefined;
  const state = run.status === 'fail' ? 'DOWN' : 'UP';
  return { state, since: run.finishedAt, consecutiveFailures: 0, consecutivePasses: 0, flapping: false };
}

/** The verdict of the slot alone: each location counted by its last attempt in it. */
function slotVerdict(input: RunPageInput, t: Translate, pageHref: (runId: string) => string | undefined) {
  const locations = [...new Set([...input.locations, ...input.slot.map((run) => run.location)])];
  const lastByLocation = new Map<string, RunResult>();
  const attemptsByLocation = new Map<string, number>();
  for (const run of input.slot) {
    attemptsByLocation.set(run.location, (attemptsByLocation.get(run.location) ?? 0) + 1);
    const known = lastByLocation.get(run.location);
    if (!known || run.attempt > known.attempt) lastByLocation.set(run.location, run);
  }
  const verdict = computeVerdict(
    locations.map((id) => ({
      id,
      side: input.sides[id] ?? (id.startsWith('outside') ? 'outside' : 'inside'),
      live: lastByLocation.has(id),
      controlDown: false,
    })),
    Object.fromEntries(locations.map((id) => [id, stateOf(lastByLocation.get(id))])),
  );
  return {
    name: verdict.verdict,
    text: t(`verdict.${verdict.verdict}` as MessageKey, { down: verdict.down.join(', ') }),
    rows: locations.map((location) => {
      const last = lastByLocation.get(location);
      return {
        location,
        attempts: attemptsByLocation.get(location) ?? 0,
        status: last?.status ?? 'none',
        outcome: last
          ? `${t(statusKey(last.status))}${last.error ? ` · ${last.error.code ?? last.error.class}: ${last.error.message}` : ''}`
          : t('slotNoRun'),
        href: last && last.runId !== input.run.runId ? pageHref(last.runId) : undefined,
        current: last?.runId === input.run.runId || input.attempts.some((a) => a.runId === last?.runId),
      };
    }),
  };
}
