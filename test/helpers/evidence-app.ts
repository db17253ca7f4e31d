import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { PcapWriter } from '../../capture/pcap-writer.ts';
import { buildApp } from '../../src/api/build-app.ts';
import type { ArtifactStore } from '../../src/artifacts/artifact-store.ts';
import { FilesystemArtifactStore } from '../../src/artifacts/filesystem-artifact-store.ts';
import { createApiToken } from '../../src/auth/api-token.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { createRedisConnection } from '../../src/redis/redis-connection.ts';
import { ResultsRecorder } from '../../src/results/results-recorder.ts';
import type { RunResult } from '../../src/results/run-result.ts';
import { deleteKeysWithPrefix, SHARED_REDIS_URL, uniquePrefix } from './redis-test-prefix.ts';

/**
 * An API with tokens (viewer, operator), a FilesystemArtifactStore in a temp dir and a
 * recorder on a unique Redis prefix: what the captures and bundle tests store runs and
 * artifacts into. `wrapStore` lets a test watch the real store's reads.
 */
export async function startEvidenceApp(
  label: string,
  options: { env?: Record<string, string>; wrapStore?: (store: ArtifactStore) => ArtifactStore } = {},
) {
  const prefix = uniquePrefix(label);
  const dir = mkdtempSync(join(tmpdir(), `pw-${label}-`));
  const redis: Redis = createRedisConnection(SHARED_REDIS_URL);
  const tokens = { viewer: createApiToken(), operator: createApiToken() };
  const linkKey = randomBytes(32);
  const config = await parseConfig(
    {
      locations: {
        inside: { description: 'Frankfurt data centre, rack 4' },
        outside: { description: 'a cloud in Tokyo' },
      },
      checks: [
        {
          id: 'shop',
          name: 'Shop health',
          kind: 'http',
          http: {
            url: 'http://127.0.0.1:4601/health',
            headers: { authorization: 'Bearer ${env:SHOP_TOKEN}' },
          },
        },
        { id: 'api', kind: 'tcp', locations: ['inside'], tcp: { host: '127.0.0.1', port: 4601 } },
      ],
      redis: { prefix },
      api: {
        tokens: Object.entries(tokens).map(([role, { hash }]) => ({ name: `${role}-holder`, hash, role })),
      },
    },
    join(dir, 'pathwatch.yaml'),
    options.env ?? { SHOP_TOKEN: 'unused-secret' },
  );
  const recorder = new ResultsRecorder(redis, config);
  const store = new FilesystemArtifactStore(join(dir, 'artifacts'));
  const app: FastifyInstance = await buildApp({
    config,
    recorder,
    artifacts: options.wrapStore ? options.wrapStore(store) : store,
    linkKey,
  });
  const as = (role: keyof typeof tokens) => ({ authorization: `Bearer ${tokens[role].token}` });
  return {
    app,
    dir,
    store,
    recorder,
    linkKey,
    as,
    async close() {
      await app.close();
      await deleteKeysWithPrefix(prefix);
      redis.disconnect();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A stored run with the fields a test does not care about filled in. */
export function runRecord(fields: Partial<RunResult> & Pick<RunResult, 'runId' | 'startedAt'>): RunResult {
  return {
    checkId: 'shop',
    kind: 'http',
    location: 'inside',
    finishedAt: fields.startedAt + 120,
    attempt: 1,
    status: 'pass',
    phases: { total: 120 },
    peers: [],
    host: 'probe-1',
    ...fields,
  };
}

/**
 * A real pcap of about `bytes` (Ethernet frames of zeros, one per millisecond), written with
 * the capture agent's writer: big enough that reading it whole and reading a range differ.
 */
export async function writeSyntheticPcap(path: string, bytes: number): Promise<void> {
  const writer = await PcapWriter.create(path, { linkType: 1 });
  const frame = Buffer.alloc(1400);
  for (let index = 0; writer.bytes < bytes; index++) {
    frame.writeUInt32BE(index, 60);
    writer.write({ timestampUs: 1_765_000_000_000_000 + index * 1000, data: frame });
  }
  await writer.close();
}
