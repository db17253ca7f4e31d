import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { createApiToken } from '../../src/auth/api-token.ts';
import { TokenTable } from '../../src/auth/token-table.ts';
import { loadConfig } from '../../src/config/load-config.ts';

interface Service {
  build?: unknown;
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  cap_add?: string[];
  volumes?: string[];
}

const compose = YAML.parse(readFileSync(new URL('../../docker-compose.yml', import.meta.url), 'utf8')) as {
  services: Record<string, Service>;
};

test('docker-compose.yml names redis, the server, a worker per location and the demo shop', () => {
  assert.deepEqual(Object.keys(compose.services).sort(), [
    'demo-shop',
    'pathwatch',
    'redis',
    'worker-inside',
    'worker-outside',
  ]);
});

test('redis is append-only on a volume', () => {
  const redis = compose.services.redis;
  assert.match(redis.image ?? '', /^redis:7/);
  assert.deepEqual(redis.command, ['redis-server', '--appendonly', 'yes']);
  assert.ok(redis.volumes?.some((volume) => volume.endsWith(':/data')));
});

test('the server runs API + scheduler and each worker consumes its own location, all on the same Redis', () => {
  const { pathwatch, 'worker-inside': inside, 'worker-outside': outside } = compose.services;
  assert.equal(pathwatch.command?.[0], 'server');
  assert.deepEqual(inside.command?.slice(0, 3), ['worker', '--location', 'inside']);
  assert.deepEqual(outside.command?.slice(0, 3), ['worker', '--location', 'outside']);
  for (const service of [pathwatch, inside, outside])
    assert.equal(service.environment?.REDIS_URL, 'redis://redis:6379');
});

test('the outside worker has the capabilities packet capture needs; artifacts are shared on the API host only', () => {
  const outside = compose.services['worker-outside'];
  assert.deepEqual(outside.cap_add?.sort(), ['NET_ADMIN', 'NET_RAW']);
  for (const name of ['pathwatch', 'worker-inside']) {
    assert.ok(
      compose.services[name].volumes?.includes('artifacts:/app/.pathwatch'),
      `${name} mounts the artifacts volume`,
    );
  }
  // As in a cloud: its own disk, the spool of what it delivers to the API.
  assert.deepEqual(outside.volumes, ['outside-data:/app/.pathwatch']);
});

test("the outside worker delivers its artifacts to the API's service with a worker token the API knows by its hash", async () => {
  const { pathwatch, 'worker-outside': outside } = compose.services;
  assert.equal(outside.environment?.PATHWATCH_DELIVER_TO, 'http://pathwatch:4600');
  assert.ok(pathwatch.command?.includes('pathwatch.config.ts'));
  // Both halves of the token come from the operator's .env, never from this file.
  assert.match(outside.environment?.PATHWATCH_UPLOAD_TOKEN ?? '', /^\$\{PATHWATCH_UPLOAD_TOKEN:\?.+\}$/);
  assert.match(
    pathwatch.environment?.PATHWATCH_UPLOAD_TOKEN_HASH ?? '',
    /^\$\{PATHWATCH_UPLOAD_TOKEN_HASH:\?.+\}$/,
  );
  // The bundled config turns those variables into artifacts.deliverTo and the API's worker token.
  const { token, hash } = createApiToken();
  const saved = { ...process.env };
  Object.assign(process.env, {
    PATHWATCH_DELIVER_TO: outside.environment?.PATHWATCH_DELIVER_TO,
    PATHWATCH_UPLOAD_TOKEN: token,
    PATHWATCH_UPLOAD_TOKEN_HASH: hash,
  });
  try {
    const config = await loadConfig(fileURLToPath(new URL('../../pathwatch.config.ts', import.meta.url)));
    assert.equal(config.settings.artifacts.deliverTo?.url, 'http://pathwatch:4600');
    assert.equal(config.secrets.interpolate(config.settings.artifacts.deliverTo?.token ?? ''), token);
    assert.equal(new TokenTable(config.settings.api.tokens).identify(token)?.role, 'worker');
    assert.equal(config.settings.api.port, 4600);
  } finally {
    for (const name of ['PATHWATCH_DELIVER_TO', 'PATHWATCH_UPLOAD_TOKEN', 'PATHWATCH_UPLOAD_TOKEN_HASH'])
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
  }
});

test('every role is a real pathwatch command', () => {
  // One file per command under workers/commands/, each registering it with program.command().
  const commandsDir = new URL('../../workers/commands/', import.meta.url);
  const help = readdirSync(commandsDir)
    .map((name) => readFileSync(new URL(name, commandsDir), 'utf8'))
    .join('\n');
  for (const [name, service] of Object.entries(compose.services)) {
    if (!service.build) continue;
    assert.match(
      help,
      new RegExp(`\\.command\\('${service.command?.[0]}'\\)`),
      `${name} runs a command the CLI has`,
    );
  }
});
