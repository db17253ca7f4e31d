import type { RunResult } from '../results/run-result.ts';
import { type BundleContext, bothTimes, outcomeOf } from './bundle-context.ts';
import { formatUtc, formatZoned } from './zoned-time.ts';

/** Lines of a table whose columns are as wide as their widest cell (the last is left ragged). */
function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  return rows.map((row) =>
    row
      .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column])))
      .join('  ')
      .trimEnd(),
  );
}

function rowsOf(
  runs: RunResult[],
  context: BundleContext,
  marked: string,
  withLocation: boolean,
): string[][] {
  const zoned = context.timeZone !== 'UTC';
  const header = [
    '',
    ...(withLocation ? ['location'] : []),
    'attempt',
    'started (UTC)',
    ...(zoned ? [`started (${context.timeZone})`] : []),
    'ms',
    'run',
    'outcome',
  ];
  return [
    header,
    ...runs.map((run) => [
      run.runId === marked ? '>' : '',
      ...(withLocation ? [run.location] : []),
      String(run.attempt),
      formatUtc(run.startedAt),
      ...(zoned ? [formatZoned(run.startedAt, context.timeZone)] : []),
      String(Math.round(run.phases.total)),
      run.runId,
      outcomeOf(run),
    ]),
  ];
}

/**
 * timeline.txt: the slot at every location, then the run among its neighbours in its series,
 * each time in UTC and in the operator's zone, so a vendor can lay it beside their own logs.
 */
export function timelineText(context: BundleContext): string {
  const { run, check } = context;
  const slotAt = run.scheduledAt ?? run.startedAt;
  const lines = [
    `Timeline of run ${run.runId}: ${check.kind} check "${check.name}" (${check.id}) at ${run.location}`,
    `Times are in UTC${context.timeZone === 'UTC' ? '' : ` and in ${context.timeZone}`}; ">" marks this run.`,
    '',
    `The slot ${run.scheduledAt === undefined ? 'of' : 'scheduled at'} ${bothTimes(slotAt, context.timeZone)}, at every location:`,
    ...table(rowsOf(context.slot, context, run.runId, true)).map((line) => `  ${line}`),
    '',
    `The series "${check.id}" at ${run.location}: this run and its neighbours, oldest first:`,
    ...table(rowsOf(context.series, context, run.runId, false)).map((line) => `  ${line}`),
    '',
  ];
  return lines.join('\n');
}
