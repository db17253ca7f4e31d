import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ARTIFACT_KINDS, artifactKindOf } from '../../src/artifacts/artifact-kind.ts';
import { ArtifactRetention, type RetentionLimits } from '../../src/artifacts/artifact-retention.ts';
import { FilesystemArtifactStore } from '../../src/artifacts/filesystem-artifact-store.ts';

const root = mkdtempSync(join(tmpdir(), 'pw-retention-'));
after(() => rmSync(root, { recursive: true, force: true }));

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NOW = Date.UTC(2026, 11, 7, 12);

/** Stores an artifact as if written `ageMs` ago (its sidecar holds the creation time). */
async function putAged(
  store: FilesystemArtifactStore,
  dir: string,
  key: string,
  bytes: number,
  ageMs: number,
) {
  await store.put(key, Buffer.alloc(bytes, 'x'), 'application/octet-stream');
  const path = join(dir, key);
  const createdAt = NOW - ageMs;
  writeFileSync(
    `${path}.meta.json`,
    JSON.stringify({ key, bytes, contentType: 'application/octet-stream', createdAt }),
  );
  utimesSync(path, createdAt / 1000, createdAt / 1000);
}

function limits(overrides: Partial<RetentionLimits> = {}): RetentionLimits {
  const roomy = { maxAge: 30 * DAY, maxBytes: 1e12 };
  return {
    ...Object.fromEntries(ARTIFACT_KINDS.map((kind) => [kind, roomy])),
    ...overrides,
  } as RetentionLimits;
}

test('artifact kinds by key', () => {
  assert.deepEqual(
    [
      'runs/a/capture.pcap',
      'runs/a/capture-analysis.json',
      'captures/hourly/20261207T120000.000Z.pcap',
      'runs/a/trace.zip',
      'runs/a/failure.png',
      'runs/a/network.har',
      'runs/a/bundle.zip',
      'runs/a/notes.txt',
    ].map(artifactKindOf),
    ['captures', 'captures', 'captures', 'traces', 'screenshots', 'har', 'bundles', 'other'],
  );
});

test('retention deletes what is older than its kind allows and nothing else', async () => {
  const dir = join(root, 'age');
  const store = new FilesystemArtifactStore(dir);
  await putAged(store, dir, 'runs/old/trace.zip', 100, 8 * DAY);
  await putAged(store, dir, 'runs/old/capture.pcap', 100, 8 * DAY);
  await putAged(store, dir, 'runs/new/trace.zip', 100, 1 * DAY);
  await putAged(store, dir, 'runs/new/failure.png', 100, 6 * DAY);
  const retention = new ArtifactRetention(store, limits({ traces: { maxAge: 7 * DAY, maxBytes: 1e12 } }));
  const pass = await retention.enforce(NOW);
  assert.deepEqual(
    (await store.list('')).map((artifact) => artifact.key),
    ['runs/new/failure.png', 'runs/new/trace.zip', 'runs/old/capture.pcap'],
    'only the old trace went: captures and screenshots keep 30 days here',
  );
  assert.deepEqual(pass.kinds.traces, { files: 1, bytes: 100, deletedByAge: 1, deletedBySize: 0 });
  assert.equal(retention.deleted.traces.age, 1);
  assert.equal(existsSync(join(dir, 'runs/old/trace.zip.meta.json')), false, 'its sidecar went with it');
});

test('retention deletes the oldest of a kind over its size, down to the limit; other kinds untouched', async () => {
  const dir = join(root, 'size');
  const store = new FilesystemArtifactStore(dir);
  for (let index = 0; index < 5; index++)
    await putAged(store, dir, `runs/r${index}/capture.pcap`, 1000, (10 - index) * HOUR);
  await putAged(store, dir, 'runs/r0/trace.zip', 5000, 10 * HOUR);
  const retention = new ArtifactRetention(store, limits({ captures: { maxAge: 30 * DAY, maxBytes: 2500 } }));
  const pass = await retention.enforce(NOW);
  assert.deepEqual(
    (await store.list('')).map((artifact) => artifact.key),
    ['runs/r0/trace.zip', 'runs/r3/capture.pcap', 'runs/r4/capture.pcap'],
  );
  assert.deepEqual(pass.kinds.captures, { files: 2, bytes: 2000, deletedByAge: 0, deletedBySize: 3 });
  assert.equal(existsSync(join(dir, 'runs/r1')), false, "a run's emptied directory is removed");
  assert.equal(existsSync(join(dir, 'runs/r0')), true, 'a directory still holding a trace stays');
  // A second pass finds nothing more to do.
  const again = await retention.enforce(NOW);
  assert.equal(again.kinds.captures.deletedBySize + again.kinds.captures.deletedByAge, 0);
});
