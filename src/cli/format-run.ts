import { ERROR_CODES } from '../results/error-codes.ts';
import type { RunResult } from '../results/run-result.ts';

const PHASES: Array<[string, string]> = [
  ['dns', 'dns'],
  ['connect', 'connect'],
  ['tls', 'tls'],
  ['firstByte', 'first byte'],
  ['download', 'download'],
];

function ms(value: number | undefined): string {
  return value === undefined ? '-' : `${value.toFixed(1)} ms`;
}

/** The run as a person reads it in a terminal: verdict and reason first, timings next. */
export function formatRun(result: RunResult): string {
  const verdict = result.status.toUpperCase();
  const reason = result.error ? ` (${result.error.class}) ${result.error.message}` : '';
  const lines = [`${result.checkId} (${result.kind}) at ${result.location}: ${verdict}${reason}`];
  // The stable code and what to do about it, as README's error code table says.
  const code = result.error?.code;
  if (code && code in ERROR_CODES) lines.push(`  code ${code}: ${ERROR_CODES[code].action}`);
  const known = new Set(PHASES.map(([key]) => key).concat('total'));
  const phases = PHASES.map(([key, label]) => `${label} ${ms(result.phases[key])}`);
  for (const [key, value] of Object.entries(result.phases)) {
    if (!known.has(key)) phases.push(`${key} ${ms(value)}`);
  }
  phases.push(`total ${ms(result.phases.total)}`);
  lines.push(`  ${phases.join(' | ')}`);
  const statusCode = result.details?.statusCode;
  const url = result.details?.url;
  if (statusCode !== undefined || url !== undefined) {
    lines.push(
      `  ${[statusCode !== undefined ? `status ${statusCode}` : '', url ?? ''].filter(Boolean).join(' · ')}`,
    );
  }
  if (result.peers.length > 0)
    lines.push(`  peers ${result.peers.map((peer) => `${peer.ip}:${peer.port}`).join(', ')}`);
  for (const assertion of result.assertions ?? []) {
    if (!assertion.ok)
      lines.push(
        `  ${assertion.degraded ? 'slow' : 'failed'}: ${assertion.name} (got ${JSON.stringify(assertion.actual)})`,
      );
  }
  return lines.join('\n');
}
