import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { after, before, beforeEach, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { extractLinks } from '../../src/checks/crawl/extract-links.ts';
import { LinkExtractor } from '../../src/checks/crawl/link-extractor.ts';
import { PageBody } from '../../src/checks/crawl/page-body.ts';
import { srcsetUrls } from '../../src/checks/crawl/srcset-urls.ts';
import { runCheckFromConfig } from '../helpers/check-fixtures.ts';
import { startHttpServer, type TestServer } from '../helpers/test-servers.ts';

/**
 * Which URLs a crawl fetches, against a real server on 127.0.0.1: srcset, entities in
 * hrefs, `<base>`, links hidden in comments, scripts and templates, bodies that arrive in
 * pieces, and the body read limit. Each test asserts the exact set of requested paths.
 */

let site: TestServer;
/** Request paths (as sent, percent-encoded) since the last reset. */
const requested: string[] = [];

const LEAF = '<!doctype html><title>leaf</title><p>no links here</p>';

const ENTITIES_AND_BASE = `<!doctype html><html><head><title>Entities</title>
<base href="/site/">
</head><body>
<a href="guide">relative, against the base</a>
<a href="/site/caf&eacute;">named entity</a>
<a href="&#x2F;site&#x2F;hex">hex references</a>
<a href="/site/query?a=1&amp;b=2&lang=fr&copy=3">ampersands; "&copy=" in an attribute is not an entity</a>
<a href="/site/dash&mdash;end">another named entity</a>
</body></html>`;

const HIDDEN = `<!doctype html><html><head><title>Hidden</title>
<script>document.write('<a href="/hidden/scripted">x</a>')</script>
<style>/* <a href="/hidden/styled"> */</style>
</head><body>
<!-- <a href="/hidden/commented">old link</a> -->
<template id="row"><a href="/hidden/templated">a row not yet rendered</a><img src="/hidden/template.png"></template>
<textarea><a href="/hidden/in-textarea"></a></textarea>
<a href="/hidden/visible">the one real link</a>
</body></html>`;

const SRCSET = `<!doctype html><html><head><title>Images</title></head><body>
<img src="/img/a.png" srcset="/img/a-1x.png 1x, /img/a-2x.png 2x" alt="a">
<picture>
  <source type="image/webp" srcset="/img/b.webp 480w,/img/b-wide.webp 800w">
  <img src="/img/b.png" alt="b">
</picture>
<img alt="c" srcset="data:image/gif;base64,R0lGODlhAQABAAAAACw= 1x, /img/c,1.png 2x,
     /img/c-3x.png 3x">
</body></html>`;

/** Pieces of one page, sent with a pause between them so each arrives as its own chunk. */
const STREAMED_PIECES = [
  Buffer.from('<!doctype html><html><body><a hr'),
  Buffer.from('ef="/stream/split-tag">tag split between chunks</a> <a href="/stream/q?a=1&am'),
  Buffer.concat([
    Buffer.from('p;b=2">entity split</a> <a href="/stream/na'),
    Buffer.from('ï').subarray(0, 1),
  ]),
  Buffer.concat([Buffer.from('ï').subarray(1), Buffer.from('ve">UTF-8 character split</a></body></html>')]),
];

/** Past the crawl's 4 MiB body read limit: a link beyond it is never seen. */
const BIG_PADDING = 'x'.repeat(5 * 1024 * 1024);

function html(response: ServerResponse, body: string): void {
  response.setHeader('content-type', 'text/html; charset=utf-8');
  response.end(body);
}

before(async () => {
  site = await startHttpServer(async (request, response) => {
    const path = request.url ?? '/';
    requested.push(path);
    if (path === '/entities') return html(response, ENTITIES_AND_BASE);
    if (path === '/hidden') return html(response, HIDDEN);
    if (path === '/srcset') return html(response, SRCSET);
    if (path === '/big')
      return html(response, `<a href="/big/before">b</a>${BIG_PADDING}<a href="/big/after">a</a>`);
    if (path === '/stream/') {
      response.setHeader('content-type', 'text/html; charset=utf-8');
      for (const [index, piece] of STREAMED_PIECES.entries()) {
        if (index > 0) await sleep(40);
        response.write(piece);
      }
      response.end();
      return;
    }
    if (path.startsWith('/img/')) {
      response.setHeader('content-type', 'image/png');
      response.end(Buffer.alloc(16));
      return;
    }
    html(response, LEAF); // every other path is a page, so no crawl fails on a 404
  });
});

after(async () => {
  await site.close();
});

beforeEach(() => {
  requested.length = 0;
});

function requestedPaths(): string[] {
  return [...requested].sort();
}

test('hrefs are decoded with the full entity table and resolved against <base href>', async () => {
  const result = await runCheckFromConfig({
    kind: 'crawl',
    crawl: { url: `${site.url}/entities`, maxDepth: 1 },
  });
  assert.equal(result.status, 'pass', result.error?.message);
  assert.deepEqual(
    requestedPaths(),
    [
      '/entities',
      '/site/caf%C3%A9',
      '/site/dash%E2%80%94end',
      '/site/guide',
      '/site/hex',
      '/site/query?a=1&b=2&lang=fr&copy=3',
    ].sort(),
  );
});

test('links inside comments, scripts, styles, textareas and templates are not followed', async () => {
  const result = await runCheckFromConfig({
    kind: 'crawl',
    crawl: { url: `${site.url}/hidden`, maxDepth: 1, includeAssets: true },
  });
  assert.equal(result.status, 'pass', result.error?.message);
  assert.deepEqual(requestedPaths(), ['/hidden', '/hidden/visible']);
});

test('with includeAssets every srcset candidate of <img> and <source> is checked', async () => {
  const result = await runCheckFromConfig({
    kind: 'crawl',
    crawl: { url: `${site.url}/srcset`, maxDepth: 0, includeAssets: true },
  });
  assert.equal(result.status, 'pass', result.error?.message);
  assert.deepEqual(
    requestedPaths(),
    [
      '/srcset',
      '/img/a.png',
      '/img/a-1x.png',
      '/img/a-2x.png',
      '/img/b.webp',
      '/img/b-wide.webp',
      '/img/b.png',
      '/img/c,1.png',
      '/img/c-3x.png',
    ].sort(),
  );

  requested.length = 0;
  const without = await runCheckFromConfig({
    kind: 'crawl',
    crawl: { url: `${site.url}/srcset`, maxDepth: 0 },
  });
  assert.equal(without.status, 'pass', without.error?.message);
  assert.deepEqual(requestedPaths(), ['/srcset'], 'srcset is an asset: not fetched without includeAssets');
});

test('a tag, an entity and a UTF-8 character split between chunks of a streamed body are read whole', async () => {
  const result = await runCheckFromConfig({
    kind: 'crawl',
    crawl: { url: `${site.url}/stream/`, maxDepth: 1 },
  });
  assert.equal(result.status, 'pass', result.error?.message);
  assert.deepEqual(
    requestedPaths(),
    ['/stream/', '/stream/na%C3%AFve', '/stream/q?a=1&b=2', '/stream/split-tag'].sort(),
  );
});

test('only the first 4 MiB of a page are read for links', async () => {
  const result = await runCheckFromConfig({ kind: 'crawl', crawl: { url: `${site.url}/big`, maxDepth: 1 } });
  assert.equal(result.status, 'pass', result.error?.message);
  assert.deepEqual(requestedPaths(), ['/big', '/big/before']);
});

test('the streaming extractor gives the same links wherever the body is cut in two', () => {
  const pageUrl = 'http://127.0.0.1/page';
  const bytes = Buffer.from(SRCSET + ENTITIES_AND_BASE.replace('caf&eacute;', 'café'), 'utf8');
  const expected = extractLinks(bytes.toString('utf8'), pageUrl, true);
  assert.ok(
    expected.some((link) => link.url === 'http://127.0.0.1/site/caf%C3%A9'),
    'the page holds a non-ASCII link to split',
  );
  for (let cut = 0; cut <= bytes.length; cut++) {
    const body = new PageBody(new LinkExtractor(pageUrl, true), false);
    body.write(bytes.subarray(0, cut));
    body.write(bytes.subarray(cut));
    body.end();
    assert.deepEqual(body.extractor?.links(), expected, `cut at byte ${cut}`);
  }
});

test('srcset candidates are split as the HTML spec says', () => {
  assert.deepEqual(srcsetUrls('a.png'), ['a.png']);
  assert.deepEqual(srcsetUrls(' a.png 1x ,b.png 2x,, c.png'), ['a.png', 'b.png', 'c.png']);
  assert.deepEqual(srcsetUrls('a.png, b.png 2x'), ['a.png', 'b.png'], 'a trailing comma ends a URL');
  assert.deepEqual(
    srcsetUrls('a.png,b.png 2x'),
    ['a.png,b.png'],
    'a comma before no space is part of the URL',
  );
  assert.deepEqual(srcsetUrls('x,1.png 1x, y.png 2x'), ['x,1.png', 'y.png'], 'a comma inside a URL stays');
  assert.deepEqual(srcsetUrls('a.png 100w (odd, descriptor), b.png'), ['a.png', 'b.png']);
  assert.deepEqual(srcsetUrls('data:image/png;base64,AAAA 1x, b.png 2x'), [
    'data:image/png;base64,AAAA',
    'b.png',
  ]);
  assert.deepEqual(srcsetUrls('  ,  '), []);
});
