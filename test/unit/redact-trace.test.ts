import assert from 'node:assert/strict';
import { test } from 'node:test';
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import { SecretResolver } from '../../src/config/secret-resolver.ts';
import { redactTrace } from '../../src/journeys/redact-trace.ts';

function traceZip(): Uint8Array {
  return zipSync({
    'trace.trace': strToU8(`${JSON.stringify({ type: 'after', params: { sha1: 'abc123.json' } })}\n`),
    'resources/abc123.json': strToU8('{"ok":true}'),
    'resources/def456.html': strToU8('<p>hello</p>'),
  });
}

test('a secret inside a resource extension ("json") cannot hang renaming: the trace is still kept', () => {
  const secrets = new SecretResolver({ SHORT: 'json' }).forRun();
  secrets.interpolate('${env:SHORT}');
  const started = Date.now();
  const entries = unzipSync(redactTrace(traceZip(), secrets));
  assert.ok(Date.now() - started < 5000, 'renaming finished in bounded time');
  const names = Object.keys(entries);
  assert.ok(names.includes('trace.trace'));
  const resources = names.filter((name) => name.startsWith('resources/'));
  assert.equal(resources.length, 2, 'both resources kept under fresh names');
  for (const name of resources) {
    assert.ok(!name.includes('abc123') && !name.includes('def456'), `${name} is a fresh name`);
    assert.ok(!name.includes('json'), `${name} holds no secret`);
  }
  // The trace's reference follows the resource to its new name.
  const trace = strFromU8(entries['trace.trace']);
  const renamedJson = resources.find((name) => trace.includes(name.slice('resources/'.length)));
  assert.ok(renamedJson, `the trace references a kept resource: ${trace}`);
});
