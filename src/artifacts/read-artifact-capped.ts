import type { ArtifactStore } from './artifact-store.ts';

/**
 * The whole of a stored artifact, or undefined when it is missing or larger than `cap` bytes.
 * The stream is counted as it is read too, so a store whose size was wrong still cannot make
 * a reader hold more than `cap` bytes.
 */
export async function readArtifactCapped(
  artifacts: ArtifactStore,
  key: string,
  cap: number,
): Promise<Buffer | undefined> {
  const read = await artifacts.get(key);
  if (!read) return undefined;
  if (read.info.bytes > cap) {
    read.stream.destroy();
    return undefined;
  }
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of read.stream) {
    bytes += (chunk as Buffer).length;
    if (bytes > cap) {
      read.stream.destroy();
      return undefined;
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
