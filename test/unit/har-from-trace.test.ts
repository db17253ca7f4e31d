import assert from 'node:assert/strict';
import { test } from 'node:test';
import { harFromTraceNetwork } from '../../src/journeys/har-from-trace.ts';

const entry = (url: string, startedDateTime: string, pageref = 'page@1') =>
  JSON.stringify({
    type: 'resource-snapshot',
    snapshot: {
      pageref,
      startedDateTime,
      request: { method: 'GET', url, headers: [], cookies: [] },
      response: { status: 200, headers: [], cookies: [], content: { size: 5, _file: 'resources/ab.html' } },
      _monotonicTime: 12.5,
    },
  });

test('a trace network log becomes a HAR 1.2 with pages and without pointers into the trace', () => {
  const network = [
    entry('http://127.0.0.1:1/cart', '2026-01-01T00:00:01.000Z'),
    entry('http://127.0.0.1:1/', '2026-01-01T00:00:00.000Z'),
    '{"type":"resource-snapshot","snapshot":{"pageref":"page@1","startedDat', // cut by a crash
    '',
  ].join('\n');
  const har = JSON.parse(harFromTraceNetwork(network, '156.0'));
  assert.equal(har.log.version, '1.2');
  assert.equal(har.log.browser.version, '156.0');
  assert.deepEqual(
    har.log.entries.map((item: { request: { url: string } }) => item.request.url),
    ['http://127.0.0.1:1/', 'http://127.0.0.1:1/cart'],
    'in start order, the cut line left out',
  );
  assert.deepEqual(har.log.pages, [
    {
      startedDateTime: '2026-01-01T00:00:00.000Z',
      id: 'page@1',
      title: 'http://127.0.0.1:1/',
      pageTimings: {},
    },
  ]);
  assert.deepEqual(har.log.entries[0].response.content, { size: 5 });
  assert.equal('_monotonicTime' in har.log.entries[0], false);
});
