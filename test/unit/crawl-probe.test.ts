import assert from 'node:assert/strict';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { after, before, beforeEach, test } from 'node:test';
import { extractLinks } from '../../src/checks/crawl/extract-links.ts';
import { ConfigError } from '../../src/config/config-error.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { runCheckFromConfig } from '../helpers/check-fixtures.ts';
import { createTestPki } from '../helpers/test-certificates.ts';
import { closedPort, startHttpServer, startSilentServer, type TestServer } from '../helpers/test-servers.ts';

let site: TestServer;
let otherOrigin: TestServer;
/** Requests per path on the site, reset before each test. */
const hits = new Map<string, number>();
let otherOriginHits = 0;
/** Sockets the site saw, and the most requests it had in flight at once. */
const siteSockets = new Set<Socket>();
let inFlight = 0;
let maxInFlight = 0;
/** Requests to hanging pages, so a test can await their abort instead of sleeping. */
const hanging: IncomingMessage[] = [];

function page(title: string, links: string[], extra = ''): string {
  const anchors = links.map((href) => `<a href="${href}">${href}</a>`).join('\n');
  return `<!doctype html><html><head><title>${title}</title>${extra}</head><body><h1>${title}</h1>\n${anchors}\n</body></html>`;
}

/** Path → what the site serves there; built once the ports are known. */
function routes(): Record<string, (response: ServerResponse) => void> {
  const html = (body: string) => (response: ServerResponse) => {
    response.setHeader('content-type', 'text/html; charset=utf-8');
    response.end(body);
  };
  const status =
    (code: number, headers: Record<string, string> = {}) =>
    (response: ServerResponse) => {
      response.writeHead(code, headers);
      response.end();
    };
  const chain = Object.fromEntries(
    Array.from({ length: 10 }, (_, index) => [
      `/chain/${index}`,
      html(page(`chain ${index}`, [`/chain/${index + 1}`])),
    ]),
  );
  const wide = Object.fromEntries(
    Array.from({ length: 50 }, (_, index) => [`/wide/${index}`, html(page(`wide ${index}`, ['/wide']))]),
  );
  return {
    '/': html(
      page('Home', [
        '/about',
        '/about#team',
        '/docs/',
        '/old',
        '#top',
        'mailto:sales@127.0.0.1',
        'javascript:void(0)',
        'tel:+100',
        'http://127.0.0.2:1/',
        `${otherOrigin.url}/`,
        `http://localhost:${site.port}/`,
      ]),
    ),
    '/about': html(page('About', ['/', '/missing', 'docs/a'])),
    '/docs/': html(page('Docs index', ['a', 'b'])),
    '/docs/a': html(page('Docs page A', ['b', '../about'])),
    '/docs/b': html(page('Docs page B', ['a', '/docs/a#top'])),
    '/old': status(301, { location: '/docs/a' }),
    ...chain,
    '/wide': html(
      page(
        'Wide',
        Array.from({ length: 50 }, (_, index) => `/wide/${index}`),
      ),
    ),
    ...wide,
    '/slow-a/': html(page('Slow A', ['fast', 'hang'])),
    '/slow-a/fast': html(page('Fast', [])),
    '/reuse/': html(page('Reuse', ['flaky'])),
    '/reuse/flaky': html(page('Flaky', [])),
    '/slow-b/': html(page('Slow B', ['gone', 'hang'])),
    '/slow-c/': html(page('Slow C', ['hang'])),
    '/assets-page': html(
      page(
        'Assets',
        [],
        '<link rel="stylesheet" href="/css/site.css"><link rel="preconnect" href="http://127.0.0.2:1">' +
          '<script src="/js/missing.js"></script><img src="/img/ok.png">',
      ),
    ),
    '/css/site.css': (response) => {
      response.setHeader('content-type', 'text/css');
      response.end('body{}');
    },
    '/img/ok.png': (response) => {
      response.setHeader('content-type', 'image/png');
      response.end(Buffer.alloc(64));
    },
    '/leaves': status(302, { location: `${otherOrigin.url}/` }),
  };
}

before(async () => {
  otherOrigin = await startHttpServer((_request, response) => {
    otherOriginHits++;
    response.end('other origin');
  });
  let table: ReturnType<typeof routes> | undefined;
  site = await startHttpServer((request, response) => {
    const path = request.url ?? '/';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    siteSockets.add(request.socket);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    response.on('close', () => inFlight--);
    if (path === '/reuse/flaky' && hits.get(path) === 1) {
      request.socket.destroy(); // as if the keep-alive timeout closed it just now
      return;
    }
    if (path.endsWith('/hang')) {
      hanging.push(request);
      return; // never answers
    }
    const handler = table?.[path];
    if (handler) handler(response);
    else {
      response.statusCode = 404;
      response.end('not found');
    }
  });
  table = routes();
});

after(async () => {
  await site.close();
  await otherOrigin.close();
});

beforeEach(() => {
  hits.clear();
  otherOriginHits = 0;
  siteSockets.clear();
  maxInFlight = 0;
});

function hitsOf(path: string): number {
  return hits.get(path) ?? 0;
}

/** Resolves when every socket the site saw has closed; rejects after `ms` naming how many stayed open. */
async function socketsClosed(sockets: Iterable<Socket>, ms: number): Promise<void> {
  const open = [...sockets].filter((socket) => !socket.destroyed);
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const still = open.filter((socket) => !socket.destroyed).length;
      reject(new Error(`expected every connection closed after the run, ${still} still open after ${ms} ms`));
    }, ms);
  });
  try {
    await Promise.race([
      Promise.all(open.map((socket) => new Promise((resolve) => socket.once('close', resolve)))),
      bound,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

test('a dead link fails naming it and the page linking to it; every page is fetched once', async () => {
  const result = await runCheckFromConfig({ kind: 'crawl', crawl: { url: `${site.url}/` } });
  assert.equal(result.status, 'fail');
  assert.equal(result.error?.class, 'assertion');
  assert.equal(result.error?.code, 'BROKEN_LINKS');
  assert.equal(
    result.error?.message,
    `1 broken link: ${site.url}/missing (404) linked from ${site.url}/about`,
  );
  assert.deepEqual(result.details?.broken, [
    { url: `${site.url}/missing`, status: 404, linkedFrom: [`${site.url}/about`] },
  ]);
  const fetched = ['/', '/about', '/docs/', '/old', '/docs/a', '/docs/b', '/missing'];
  for (const path of fetched)
    assert.equal(hitsOf(path), 1, `${path}: expected 1 request, got ${hitsOf(path)}`);
  assert.equal(
    [...hits.keys()].sort().join(' '),
    [...fetched].sort().join(' '),
    'nothing else on the site was requested',
  );
  assert.equal(result.details?.pages, 7);
  assert.equal(result.details?.maxDepthReached, 2);
  assert.deepEqual(result.peers, [{ ip: '127.0.0.1', port: site.port }]);
  for (const phase of ['connect', 'firstByte', 'download', 'crawl', 'total'] as const) {
    assert.equal(
      typeof result.phases[phase],
      'number',
      `phase ${phase}: expected a number, got ${result.phases[phase]}`,
    );
  }
  const visited = result.details?.visited as Array<{ url: string; status?: number; ms: number }>;
  assert.deepEqual(
    visited.find((entry) => entry.url === `${site.url}/old`)?.status,
    301,
    'the redirect is listed with its own status',
  );
});

test('links to other origins, mailto:, javascript: and tel: are never fetched', async () => {
  const result = await runCheckFromConfig({
    kind: 'crawl',
    crawl: { url: `${site.url}/`, exclude: ['/missing$'] },
  });
  assert.equal(result.status, 'pass', result.error?.message);
  assert.equal(otherOriginHits, 0, `other origin: expected 0 requests, got ${otherOriginHits}`);
  assert.ok(
    !result.peers.some((peer) => peer.ip === '127.0.0.2'),
    `127.0.0.2 must not be contacted, peers were ${JSON.stringify(result.peers)}`,
  );
  assert.deepEqual(result.details?.notFetched, {
    outOfScope: 3,
    excluded: 1,
    beyondDepth: 0,
    beyondPageLimit: 0,
  });
  assert.equal(hitsOf('/missing'), 0, 'an excluded URL is not requested');
});

test('samePathPrefix stays under the root directory', async () => {
  const result = await runCheckFromConfig({
    kind: 'crawl',
    crawl: { url: `${site.url}/docs/`, scope: 'samePathPrefix' },
  });
  assert.equal(result.status, 'pass', result.error?.message);
  assert.equal(result.details?.pages, 3);
  assert.equal(hitsOf('/about'), 0, `/about is outside /docs/: expected 0 requests, got ${hitsOf('/about')}`);
});

test('pages deeper than maxDepth are not fetched', async () => {
  const result = await runCheckFromConfig({
    kind: 'crawl',
    crawl: { url: `${site.url}/chain/0`, maxDepth: 2 },
  });
  assert.equal(result.status, 'pass', result.error?.message);
  assert.deepEqual([...hits.keys()].sort(), ['/chain/0', '/chain/1', '/chain/2']);
  assert.equal(result.details?.maxDepthReached, 2);
  assert.deepEqual(result.details?.notFetched, {
    outOfScope: 0,
    excluded: 0,
    beyondDepth: 1,
    beyondPageLimit: 0,
  });
});

test('maxPages caps the fetches and concurrency caps connections and requests in flight', async () => {
  const result = await runCheckFromConfig({
    kind: 'crawl',
    crawl: { url: `${site.url}/wide`, maxPages: 10, concurrency: 2 },
  });
  assert.equal(result.status, 'pass', result.error?.message);
  const requests = [...hits.values()].reduce((sum, count) => sum + count, 0);
  assert.equal(requests, 10, `expected 10 requests, got ${requests}`);
  assert.equal(result.details?.pages, 10);
  assert.equal(result.details?.pageLimitReached, true);
  assert.ok(siteSockets.size <= 2, `expected at most 2 connections, got ${siteSockets.size}`);
  assert.ok(maxInFlight <= 2, `expected at most 2 requests in flight, got ${maxInFlight}`);
});

test('keep-alive connections are closed when the crawl ends', async () => {
  const result = await runCheckFromConfig({
    kind: 'crawl',
    crawl: { url: `${site.url}/docs/`, scope: 'samePathPrefix' },
  });
  assert.equal(result.status, 'pass', result.error?.message);
  assert.ok(siteSockets.size >= 1);
  await socketsClosed(siteSockets, 2000);
});

test('a kept-alive socket the server has just closed is retried once, not reported broken', async () => {
  const result = await runCheckFromConfig({
    kind: 'crawl',
    crawl: { url: `${site.url}/reuse/`, concurrency: 1 },
  });
  assert.equal(result.status, 'pass', result.error?.message);
  assert.equal(
    hitsOf('/reuse/flaky'),
    2,
    `expected 2 requests (closed, retried), got ${hitsOf('/reuse/flaky')}`,
  );
});

test('keywords pass when present, fail naming the page when missing or never matched', async () => {
  const passed = await runCheckFromConfig({
    kind: 'crawl',
    crawl: {
      url: `${site.url}/docs/`,
      scope: 'samePathPrefix',
      keywords: [{ pathPattern: '^/docs/[ab]$', contains: 'Docs page' }],
    },
  });
  assert.equal(passed.status, 'pass', passed.error?.message);
  assert.equal(
    passed.assertions?.find((entry) => entry.name.startsWith('pages matching'))?.actual,
    'found on 2 pages',
  );

  const missing = await runCheckFromConfig({
    kind: 'crawl',
    crawl: {
      url: `${site.url}/docs/`,
      scope: 'samePathPrefix',
      keywords: [{ pathPattern: '^/docs/b$', contains: 'Buy now' }],
    },
  });
  assert.equal(missing.status, 'fail');
  assert.equal(missing.error?.class, 'assertion');
  assert.equal(missing.error?.code, 'ASSERTION');
  assert.equal(missing.error?.message, `${site.url}/docs/b does not contain "Buy now"`);

  const unmatched = await runCheckFromConfig({
    kind: 'crawl',
    crawl: {
      url: `${site.url}/docs/`,
      scope: 'samePathPrefix',
      keywords: [{ pathPattern: '^/pricing', contains: 'Buy now' }],
    },
  });
  assert.equal(unmatched.status, 'fail');
  assert.equal(
    unmatched.error?.message,
    'no crawled page matched keyword pathPattern /^/pricing/ (expected one containing "Buy now"; 3 pages crawled)',
  );
});

test('the deadline stops the crawl: the page in flight is abandoned and the result says so', async () => {
  const waitingBefore = hanging.length;
  const result = await runCheckFromConfig({
    kind: 'crawl',
    timeout: '500ms',
    crawl: { url: `${site.url}/slow-a/` },
  });
  assert.equal(result.status, 'fail');
  assert.equal(result.error?.class, 'timeout');
  assert.equal(result.error?.code, 'TIMEOUT');
  assert.equal(
    result.error?.message,
    `crawl stopped at the deadline after 2 pages (timeout 500 ms), still waiting for ${site.url}/slow-a/hang`,
  );
  assert.ok(
    result.phases.total >= 490 && result.phases.total < 1500,
    `total: expected ~500 ms, got ${result.phases.total}`,
  );
  const abandoned = hanging.slice(waitingBefore);
  assert.equal(abandoned.length, 1, `expected 1 hanging request, got ${abandoned.length}`);
  await socketsClosed(
    abandoned.map((request) => request.socket),
    2000,
  );
});

test('broken links found before the deadline win over the timeout', async () => {
  const result = await runCheckFromConfig({
    kind: 'crawl',
    timeout: '500ms',
    crawl: { url: `${site.url}/slow-b/` },
  });
  assert.equal(result.status, 'fail');
  assert.equal(result.error?.class, 'assertion');
  assert.equal(result.error?.code, 'BROKEN_LINKS');
  assert.equal(
    result.error?.message,
    `1 broken link: ${site.url}/slow-b/gone (404) linked from ${site.url}/slow-b/; crawl stopped at the deadline after 2 pages`,
  );
});

test('a page slower than pageTimeout is a broken link saying which phase ran out', async () => {
  const result = await runCheckFromConfig({
    kind: 'crawl',
    timeout: '5s',
    crawl: { url: `${site.url}/slow-c/`, pageTimeout: '200ms' },
  });
  assert.equal(result.status, 'fail');
  assert.equal(result.error?.class, 'assertion');
  assert.equal(result.error?.code, 'BROKEN_LINKS');
  assert.equal(
    result.error?.message,
    `1 broken link: ${site.url}/slow-c/hang (127.0.0.1:${site.port} accepted the connection but sent no response within 200 ms) linked from ${site.url}/slow-c/`,
  );
  assert.ok(result.phases.total < 2000, `total: expected ~200 ms, got ${result.phases.total}`);
});

test('assets are checked only with includeAssets, even on the last level', async () => {
  const without = await runCheckFromConfig({
    kind: 'crawl',
    crawl: { url: `${site.url}/assets-page`, maxDepth: 0 },
  });
  assert.equal(without.status, 'pass', without.error?.message);
  assert.equal(hitsOf('/js/missing.js'), 0, 'assets are not fetched by default');

  const withAssets = await runCheckFromConfig({
    kind: 'crawl',
    crawl: { url: `${site.url}/assets-page`, maxDepth: 0, includeAssets: true },
  });
  assert.equal(withAssets.status, 'fail');
  assert.equal(
    withAssets.error?.message,
    `1 broken link: ${site.url}/js/missing.js (404) linked from ${site.url}/assets-page`,
  );
  assert.equal(hitsOf('/css/site.css'), 1);
  assert.equal(hitsOf('/img/ok.png'), 1);
  assert.equal(withAssets.details?.pages, 4);
});

test('a refused root fails like an http check, with the peer', async () => {
  const port = await closedPort();
  const result = await runCheckFromConfig({ kind: 'crawl', crawl: { url: `http://127.0.0.1:${port}/` } });
  assert.equal(result.status, 'fail');
  assert.equal(result.error?.class, 'refused');
  assert.equal(result.error?.code, 'CONNECT_REFUSED');
  assert.equal(result.error?.message, `connect to 127.0.0.1:${port} refused`);
  assert.deepEqual(result.peers, [{ ip: '127.0.0.1', port }]);
});

test('a root that never answers times out in the first-byte phase, like an http check', async () => {
  const silent = await startSilentServer();
  try {
    const result = await runCheckFromConfig({
      kind: 'crawl',
      timeout: '300ms',
      crawl: { url: `${silent.url}/` },
    });
    assert.equal(result.status, 'fail');
    assert.equal(result.error?.class, 'timeout');
    assert.equal(result.error?.code, 'TIMEOUT');
    assert.equal(result.error?.phase, 'firstByte');
    assert.equal(
      result.error?.message,
      `127.0.0.1:${silent.port} accepted the connection but sent no response within 300 ms`,
    );
    assert.equal(typeof result.phases.connect, 'number');
  } finally {
    await silent.close();
  }
});

test('a root that answers 404 or redirects off-site says so', async () => {
  const missing = await runCheckFromConfig({ kind: 'crawl', crawl: { url: `${site.url}/nope` } });
  assert.equal(missing.error?.class, 'assertion');
  assert.equal(missing.error?.code, 'HTTP_STATUS');
  assert.equal(missing.error?.message, `crawl root ${site.url}/nope answered 404`);

  const leaves = await runCheckFromConfig({ kind: 'crawl', crawl: { url: `${site.url}/leaves` } });
  assert.equal(leaves.error?.class, 'assertion');
  assert.equal(leaves.error?.code, 'ASSERTION');
  assert.equal(
    leaves.error?.message,
    `crawl root ${site.url}/leaves redirects to ${otherOrigin.url}/, outside the crawl scope: start the crawl there`,
  );
  assert.equal(otherOriginHits, 0);
});

test('an https site is crawled over one trusted keep-alive pool; an untrusted one fails as tls', async () => {
  const pki = createTestPki();
  const server = https.createServer({ key: pki.valid.key, cert: pki.valid.cert }, (request, response) => {
    response.setHeader('content-type', 'text/html');
    response.end(request.url === '/' ? page('Secure', ['/a', '/b']) : page('Leaf', ['/']));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  try {
    const trusted = await runCheckFromConfig({
      kind: 'crawl',
      tls: { caRoots: 'replace', ca: pki.ca.certFile },
      crawl: { url: `https://127.0.0.1:${port}/` },
    });
    assert.equal(trusted.status, 'pass', trusted.error?.message);
    assert.equal(trusted.details?.pages, 3);
    assert.equal(
      typeof trusted.phases.tls,
      'number',
      `tls phase: expected a number, got ${trusted.phases.tls}`,
    );
    assert.deepEqual(trusted.peers, [{ ip: '127.0.0.1', port }]);

    const untrusted = await runCheckFromConfig({
      kind: 'crawl',
      crawl: { url: `https://127.0.0.1:${port}/` },
    });
    assert.equal(untrusted.status, 'fail');
    assert.equal(untrusted.error?.class, 'tls', untrusted.error?.message);
    assert.equal(untrusted.error?.code, 'TLS_UNTRUSTED');
    assert.match(untrusted.error?.message ?? '', new RegExp(`^TLS with 127\\.0\\.0\\.1:${port} failed: `));
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    rmSync(pki.dir, { recursive: true, force: true });
  }
});

test('config mistakes are reported with their path and reason', async () => {
  const lines = await configProblems({
    kind: 'crawl',
    crawl: {
      maxDepht: 2,
      url: 'ftp://127.0.0.1/',
      exclude: ['(unclosed'],
      keywords: [{ pathPattern: '^/x', contain: 'y' }],
    },
  });
  assert.equal(lines.length, 5, lines.join('\n'));
  const text = lines.join('\n');
  assert.match(
    text,
    /checks\[0\]\.crawl\.url: expected an http:\/\/ or https:\/\/ URL, got "ftp:\/\/127\.0\.0\.1\/"/,
  );
  assert.match(text, /checks\[0\]\.crawl\.exclude\[0\]: not a valid regular expression: "\(unclosed" \(.+\)/);
  assert.match(text, /checks\[0\]\.crawl\.keywords\[0\].*unknown key "contain", did you mean "contains"\?/);
  assert.match(text, /checks\[0\]\.crawl\.keywords\[0\]\.contains: required, expected string/);
  assert.match(text, /checks\[0\]\.crawl\.maxDepht: unknown key "maxDepht", did you mean "maxDepth"\?/);
});

async function configProblems(check: Record<string, unknown>): Promise<string[]> {
  try {
    await parseConfig({ locations: { local: {} }, checks: [{ id: 'c', ...check }] }, '/tmp/test.yaml', {});
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${error}`);
    return error.issues.map((issue) => `${issue.path}: ${issue.message}`);
  }
  return [];
}

test('link extraction resolves against <base href>, decodes entities and skips what is not a link', () => {
  const html = `<!doctype html><HTML><HEAD>
    <BASE HREF="https://site.test/docs/">
    <!-- <a href="/commented-out"> -->
    <script>document.write('<a href="/in-script">')</script>
    <link rel="stylesheet" href="/site.css"><link rel="dns-prefetch" href="//cdn.test">
  </HEAD><BODY>
    <a href="guide?a=1&amp;b=2#part">guide</a>
    <A HREF=/unquoted class=x>unquoted</A>
    <a href='  /spaced  '>spaced</a>
    <a href="#top">top</a> <a href="">self</a> <a name="anchor">no href</a>
    <a href="mailto:a@site.test">m</a> <a href="JavaScript:go()">j</a> <a href="tel:1">t</a>
    <a href="ftp://site.test/file">ftp</a>
    <a href="http://[broken">bad</a>
    <area href="/map-area">
    <a href="guide?a=1&b=2">duplicate</a>
    <img src="/logo.png" alt="a > b"><script src="app.js"></script>
  </BODY></HTML>`;
  assert.deepEqual(extractLinks(html, 'https://site.test/start', false), [
    { url: 'https://site.test/docs/guide?a=1&b=2', kind: 'page' },
    { url: 'https://site.test/unquoted', kind: 'page' },
    { url: 'https://site.test/spaced', kind: 'page' },
    { url: 'https://site.test/map-area', kind: 'page' },
  ]);
  assert.deepEqual(
    extractLinks(html, 'https://site.test/start', true).filter((link) => link.kind === 'asset'),
    [
      { url: 'https://site.test/site.css', kind: 'asset' },
      { url: 'https://site.test/logo.png', kind: 'asset' },
      { url: 'https://site.test/docs/app.js', kind: 'asset' },
    ],
  );
});

test('link extraction survives broken markup; a tag cut off by the end of the body is dropped, as in browsers', () => {
  const html = '<a href="/ok">x</a> < not a tag <a href="/unterminated <p a=\'1\' "b"> <a href=/last';
  assert.deepEqual(
    extractLinks(html, 'http://127.0.0.1/', false).map((link) => link.url),
    ['http://127.0.0.1/ok', "http://127.0.0.1/unterminated%20%3Cp%20a='1'"],
  );
});
