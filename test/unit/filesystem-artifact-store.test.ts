import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, test } from 'node:test';
import { FilesystemArtifactStore } from '../../src/artifacts/filesystem-artifact-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'pw-fs-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/**
 * A remote worker's spool deletes each artifact once delivered while the next run writes its
 * own: a delete that removed `runs/` (left empty for an instant) under a put making
 * `runs/<id>/` failed that put with ENOENT, and the journey run was stored as crashed (seen in
 * clean-clone CI). A delete removes the run's own directory, never a top-level one.
 */
test("deleting a run's last artifact removes the run's directory and keeps the top-level one", async () => {
  const root = join(dir, 'tidy');
  const store = new FilesystemArtifactStore(root);
  await store.put('runs/run-1/failure.png', Buffer.from('png'), 'image/png');
  await store.put('runs/run-1/trace.zip', Readable.from([Buffer.from('zip')]), 'application/zip');
  await store.put('captures/hourly/slice.pcap', Buffer.from('pcap'), 'application/vnd.tcpdump.pcap');
  await store.delete('runs/run-1/failure.png');
  assert.ok(existsSync(join(root, 'runs', 'run-1')), 'the run still has its trace');
  await store.delete('runs/run-1/trace.zip');
  await store.delete('captures/hourly/slice.pcap');
  assert.ok(!existsSync(join(root, 'runs', 'run-1')), "the run's own directory goes with its last file");
  assert.ok(!existsSync(join(root, 'captures', 'hourly')));
  assert.ok(existsSync(join(root, 'runs')), 'runs/ stays: every put goes through it');
  assert.ok(existsSync(join(root, 'captures')));
  assert.deepEqual(await store.list(''), []);
});

test('many runs written, delivered and deleted at once: every put lands and reads back', async () => {
  const store = new FilesystemArtifactStore(join(dir, 'spool'));
  const failures: string[] = [];
  await Promise.all(
    Array.from({ length: 8 }, async (_, loop) => {
      for (let round = 0; round < 60; round++) {
        const key = `runs/run-${loop}-${round}/trace.zip`;
        const body = `run ${loop}/${round}`;
        try {
          await store.put(
            key,
            round % 2 ? Buffer.from(body) : Readable.from([Buffer.from(body)]),
            'application/zip',
          );
          const read = await store.get(key);
          const chunks: Buffer[] = [];
          for await (const chunk of read!.stream) chunks.push(chunk as Buffer);
          if (Buffer.concat(chunks).toString() !== body) failures.push(`${key}: wrong content`);
          await store.delete(key);
        } catch (error) {
          failures.push(`${key}: ${(error as Error).message}`);
        }
      }
    }),
  );
  assert.deepEqual(failures.slice(0, 5), []);
  assert.deepEqual(await store.list('runs/'), []);
});
