import { signLink } from '../auth/signed-link.ts';

/**
 * Links to one run's evidence that open without a token until they expire: an artifact
 * (`trace.zip`, `failure.png`, `capture.pcap`…) and the trace viewer on that run's trace.
 * `baseUrl` is where people reach the API (`api.publicUrl`).
 */
export function runEvidenceLinks(
  baseUrl: string,
  runId: string,
  key: Buffer,
  ttlMs: number,
  now = Date.now(),
): { artifact: (name: string) => string; traceViewer: string } {
  const base = baseUrl.replace(/\/+$/, '');
  const { exp, sig } = signLink(key, { runId, expiresAt: now + ttlMs });
  const artifact = (name: string) =>
    `${base}/api/v1/runs/${encodeURIComponent(runId)}/artifacts/${encodeURIComponent(name)}?exp=${exp}&sig=${sig}`;
  return { artifact, traceViewer: `${base}/trace/?trace=${encodeURIComponent(artifact('trace.zip'))}` };
}
