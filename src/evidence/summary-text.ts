import type { RunResult } from '../results/run-result.ts';
import { type BundleContext, bothTimes, outcomeOf } from './bundle-context.ts';

/** A capture slice in the bundle, with its stored analysis text (capture-agent's format). */
export interface SliceInBundle {
  run: RunResult;
  /** Its path in the zip. */
  path: string;
  /** The stored `<name>-analysis.txt`, when there is one. */
  analysis?: string;
}

const indent = (text: string, by = '    ') =>
  text
    .trimEnd()
    .split('\n')
    .map((line) => (line === '' ? '' : by + line));

function vantage(run: RunResult, context: BundleContext, slices: SliceInBundle[]): string {
  const description = context.locationDescriptions[run.location];
  const where = description ? `${run.location} (${description})` : run.location;
  const host = run.host ? `, host ${run.host}` : '';
  const attempt = run.attempt > 1 ? `, attempt ${run.attempt}` : '';
  const own = slices.filter((slice) => slice.run.runId === run.runId).map((slice) => slice.path);
  const evidence = own.length > 0 ? `capture ${own.join(', ')}` : 'no capture';
  return `${where}${host}${attempt}: ${outcomeOf(run)} [${Math.round(run.phases.total)} ms; ${evidence}]`;
}

/**
 * summary.txt: plain text to paste into a vendor's ticket, from stored records only. What
 * failed, when, from which vantage points, and what each capture's analysis says.
 */
export function summaryText(context: BundleContext, slices: SliceInBundle[], missing: string[]): string {
  const { run, check } = context;
  const peers = run.peers.map((peer) =>
    peer.ip.includes(':') ? `[${peer.ip}]:${peer.port}` : `${peer.ip}:${peer.port}`,
  );
  const lines = [
    `pathwatch escalation bundle for run ${run.runId}`,
    '',
    'WHAT',
    `  ${check.kind} check "${check.name}" (${check.id}) at ${run.location}: ${outcomeOf(run)}`,
    ...(run.error?.phase ? [`  It failed in the ${run.error.phase} phase.`] : []),
    ...(peers.length > 0 ? [`  Remote peers: ${peers.join(', ')}`] : []),
    '',
    'WHEN',
    ...(run.scheduledAt !== undefined
      ? [`  Scheduled  ${bothTimes(run.scheduledAt, context.timeZone)}`]
      : []),
    `  Started    ${bothTimes(run.startedAt, context.timeZone)}`,
    `  Finished   ${bothTimes(run.finishedAt, context.timeZone)}`,
    '',
    'FROM WHICH VANTAGE POINTS (the same slot, every location)',
    ...context.slot.map((other) => `  ${vantage(other, context, slices)}`),
    '',
    'WHAT THE CAPTURE SHOWS',
    ...(slices.length === 0
      ? ['  No packet capture was stored for this slot.']
      : slices.flatMap((slice) => [
          `  ${slice.path} (${slice.run.location}):`,
          ...(slice.analysis ? indent(slice.analysis) : ['    (no analysis was stored with it)']),
          '',
        ])),
    ...(missing.length > 0
      ? ['', 'NOT INCLUDED (listed on the run, no longer in the store)', ...missing.map((key) => `  ${key}`)]
      : []),
    '',
    'FILES',
    '  manifest.json lists every file with its size and SHA-256; timeline.txt has the run among',
    '  its neighbours; slices/ holds the packet captures (open with Wireshark or tshark -r).',
    '',
  ];
  return lines.join('\n').replace(/\n{3,}/g, '\n\n');
}
