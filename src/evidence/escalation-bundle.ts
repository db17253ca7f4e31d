import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { ZipFile } from 'yazl';
import { artifactKindOf } from '../artifacts/artifact-kind.ts';
import type { ArtifactRead, ArtifactStore } from '../artifacts/artifact-store.ts';
import type { RunResult } from '../results/run-result.ts';
import type { BundleContext } from './bundle-context.ts';
import { type Digest, digestStream } from './digest-stream.ts';
import { type SliceInBundle, summaryText } from './summary-text.ts';
import { timelineText } from './timeline-text.ts';

/** Most of an analysis text quoted in summary.txt; the whole file is in the bundle anyway. */
const MAX_ANALYSIS_CHARS = 64 * 1024;

/** Formats that are compressed already: stored as they are, which costs no CPU. */
const STORED_AS_IS = /\.(zip|png|jpe?g|webp|gz)$/;

interface FileInBundle {
  path: string;
  key: string;
  run: RunResult;
}

const digestOf = (data: Buffer): Digest => ({
  bytes: data.length,
  sha256: createHash('sha256').update(data).digest('hex'),
});

const nameOf = (key: string) => key.slice(key.lastIndexOf('/') + 1);

/**
 * Where each artifact goes: every slot run's captures and analyses under
 * `slices/<location>/<runId>/`, the run's own other evidence (trace, HAR, screenshots) under
 * `run/`.
 */
function filesOf(context: BundleContext): FileInBundle[] {
  const files: FileInBundle[] = [];
  for (const run of context.slot) {
    for (const ref of run.artifacts ?? []) {
      if (artifactKindOf(ref.key) === 'captures')
        files.push({ path: `slices/${run.location}/${run.runId}/${nameOf(ref.key)}`, key: ref.key, run });
      else if (run.runId === context.run.runId)
        files.push({ path: `run/${nameOf(ref.key)}`, key: ref.key, run });
    }
  }
  return [...new Map(files.map((file) => [file.path, file])).values()];
}

async function readText(store: ArtifactStore, key: string): Promise<string | undefined> {
  const found = await store.get(key).catch(() => undefined);
  if (!found) return undefined;
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of found.stream as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    length += chunk.length;
    if (length > MAX_ANALYSIS_CHARS) {
      found.stream.destroy();
      break;
    }
  }
  const text = Buffer.concat(chunks).toString('utf8');
  return text.length > MAX_ANALYSIS_CHARS
    ? `${text.slice(0, MAX_ANALYSIS_CHARS)}\n… (cut; see the file)`
    : text;
}

/**
 * The escalation bundle of `context.run` as a zip stream: summary.txt and timeline.txt
 * first, then the slices and the run's evidence as they are read from the store (the first
 * bytes go out before a large slice is read), then manifest.json with the size and SHA-256
 * of every other file, computed as they streamed past. Everything comes from stored records
 * and artifacts, which were masked when they were stored.
 */
export async function escalationBundle(
  store: ArtifactStore,
  context: BundleContext,
  now = Date.now(),
): Promise<Readable> {
  const files = filesOf(context);
  // Opened (not read) up front, so an artifact retention has deleted is left out and named
  // in the summary, instead of breaking the zip half-way through.
  const opened = await Promise.all(files.map((file) => store.get(file.key)));
  const present = files
    .map((file, index) => ({ ...file, read: opened[index] }))
    .filter((file): file is FileInBundle & { read: ArtifactRead } => file.read !== undefined);
  const missing = files.filter((_, index) => !opened[index]).map((file) => file.key);

  const slices: SliceInBundle[] = await Promise.all(
    present
      .filter((file) => file.path.endsWith('.pcap'))
      .map(async (file) => ({
        run: file.run,
        path: file.path,
        analysis: await readText(store, file.key.replace(/\.pcap$/, '-analysis.txt')),
      })),
  );
  const texts: Array<[string, Buffer]> = [
    ['summary.txt', Buffer.from(summaryText(context, slices, missing))],
    ['timeline.txt', Buffer.from(timelineText(context))],
  ];

  const zip = new ZipFile();
  const output = zip.outputStream as Readable;
  const manifest: Array<{ path: string } & Digest> = [];
  const fail = (error: Error) => output.destroy(error);
  zip.on('error', fail);
  // A client that goes away leaves the streams not yet zipped open: close them.
  output.on('close', () => {
    for (const file of present) file.read.stream.destroy();
  });

  const mtime = new Date(now);
  for (const [path, data] of texts) {
    manifest.push({ path, ...digestOf(data) });
    zip.addBuffer(data, path, { mtime });
  }
  for (const file of present) {
    const { stream, info } = file.read;
    stream.on('error', fail);
    zip.addReadStreamLazy(
      file.path,
      { mtime: new Date(info.createdAt), compress: !STORED_AS_IS.test(file.path) },
      (callback) =>
        callback(null, stream.pipe(digestStream((digest) => manifest.push({ path: file.path, ...digest })))),
    );
  }
  // Called when every file before it has streamed, so every digest is known.
  zip.addReadStreamLazy('manifest.json', { mtime }, (callback) => {
    const body = {
      bundle: 'pathwatch escalation bundle',
      runId: context.run.runId,
      checkId: context.check.id,
      location: context.run.location,
      createdAt: new Date(now).toISOString(),
      timeZone: context.timeZone,
      files: manifest,
      missing,
    };
    callback(null, Readable.from([Buffer.from(`${JSON.stringify(body, null, 2)}\n`)]));
  });
  zip.end();
  return output;
}
