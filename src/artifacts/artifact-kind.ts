/** The kinds of evidence retention keeps apart: each has its own age and size limits. */
export const ARTIFACT_KINDS = ['captures', 'traces', 'screenshots', 'har', 'bundles', 'other'] as const;

export type ArtifactKind = (typeof ARTIFACT_KINDS)[number];

/**
 * The kind of an artifact, by its key: a run's slice and its analysis and the periodic
 * collections (`captures/…`) are captures; `trace.zip` a trace; images screenshots;
 * `.har` files HAR; `bundle*.zip` escalation bundles.
 */
export function artifactKindOf(key: string): ArtifactKind {
  const name = key.slice(key.lastIndexOf('/') + 1);
  if (key.startsWith('captures/') || name.endsWith('.pcap') || name.startsWith('capture-')) return 'captures';
  if (name === 'trace.zip' || name.endsWith('.trace.zip')) return 'traces';
  if (/\.(png|jpe?g|webp)$/.test(name)) return 'screenshots';
  if (name.endsWith('.har')) return 'har';
  if (name.startsWith('bundle') && name.endsWith('.zip')) return 'bundles';
  return 'other';
}
