import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { test } from 'node:test';
import { parseRangeHeader } from '../../src/api/routes/range-header.ts';
import { ArtifactRangeError, resolveByteRange } from '../../src/artifacts/artifact-store.ts';
import { FilesystemArtifactStore } from '../../src/artifacts/filesystem-artifact-store.ts';

test('Range headers: one byte range is taken, anything else means the whole file', () => {
  assert.deepEqual(parseRangeHeader('bytes=0-99'), { start: 0, end: 99 });
  assert.deepEqual(parseRangeHeader('bytes=100-'), { start: 100 });
  assert.deepEqual(parseRangeHeader('bytes=-500'), { suffix: 500 });
  assert.deepEqual(parseRangeHeader('Bytes = 5-5 '), { start: 5, end: 5 });
  for (const ignored of [
    undefined,
    '',
    'bytes=',
    'bytes=-',
    'bytes=5-4',
    'bytes=a-b',
    'bytes=1.5-2',
    'bytes=0-1,4-5',
    'items=0-1',
    'bytes=99999999999999999-',
  ])
    assert.equal(parseRangeHeader(ignored), undefined, String(ignored));
});

test('a range resolves against the size: the end is cut to the last byte, past the end holds nothing', () => {
  assert.deepEqual(resolveByteRange({ start: 0, end: 99 }, 50), { start: 0, end: 49 });
  assert.deepEqual(resolveByteRange({ start: 10 }, 50), { start: 10, end: 49 });
  assert.deepEqual(resolveByteRange({ suffix: 5 }, 50), { start: 45, end: 49 });
  assert.deepEqual(resolveByteRange({ suffix: 500 }, 50), { start: 0, end: 49 });
  assert.equal(resolveByteRange({ start: 50 }, 50), undefined);
  assert.equal(resolveByteRange({ suffix: 0 }, 50), undefined);
  assert.equal(resolveByteRange({ suffix: 1 }, 0), undefined);
});

async function bytesOf(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

test('FilesystemArtifactStore reads only the range asked for, and refuses one past the end', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pw-range-'));
  try {
    const store = new FilesystemArtifactStore(dir);
    const data = Buffer.from(Array.from({ length: 1000 }, (_, index) => index % 251));
    await store.put('runs/r/capture.pcap', data, 'application/vnd.tcpdump.pcap');
    const part = await store.get('runs/r/capture.pcap', { start: 100, end: 199 });
    assert.deepEqual(part?.range, { start: 100, end: 199 });
    assert.equal(part?.info.bytes, 1000);
    assert.ok((await bytesOf(part!.stream)).equals(data.subarray(100, 200)));
    const tail = await store.get('runs/r/capture.pcap', { suffix: 10 });
    assert.ok((await bytesOf(tail!.stream)).equals(data.subarray(990)));
    const whole = await store.get('runs/r/capture.pcap');
    assert.equal(whole?.range, undefined);
    assert.ok((await bytesOf(whole!.stream)).equals(data));
    await assert.rejects(store.get('runs/r/capture.pcap', { start: 1000 }), (error: ArtifactRangeError) => {
      assert.ok(error instanceof ArtifactRangeError);
      assert.equal(error.bytes, 1000);
      return true;
    });
    assert.equal(await store.get('runs/r/none.pcap', { start: 0 }), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
