import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import YAML from 'yaml';

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

test('the outside worker has the capabilities packet capture needs, and artifacts are shared', () => {
  const outside = compose.services['worker-outside'];
  assert.deepEqual(outside.cap_add?.sort(), ['NET_ADMIN', 'NET_RAW']);
  for (const name of ['pathwatch', 'worker-inside', 'worker-outside']) {
    assert.ok(
      compose.services[name].volumes?.includes('artifacts:/app/.pathwatch'),
      `${name} mounts the artifacts volume`,
    );
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
