import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { buildApp } from '../../src/api/build-app.ts';
import { FilesystemArtifactStore } from '../../src/artifacts/filesystem-artifact-store.ts';
import { createApiToken } from '../../src/auth/api-token.ts';
import { signLink } from '../../src/auth/signed-link.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { createRedisConnection } from '../../src/redis/redis-connection.ts';
import { ResultsRecorder } from '../../src/results/results-recorder.ts';
import type { RunResult } from '../../src/results/run-result.ts';
import { deleteKeysWithPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis-test-prefix.ts';

/**
 * Issue 13, the run page (/runs/:id) through inject(): English and Japanese, escaping of
 * stored text, what a viewer and an operator see, and signed links that open it or do not.
 */
const prefix = uniquePrefix('run-page');
const dir = mkdtempSync(join(tmpdir(), 'pw-run-page-'));
const tokens = { viewer: createApiToken(), operator: createApiToken() };
const LINK_KEY = randomBytes(32);
const SCRIPT = '<script>alert("pwned")</script>';
const SLOT = Date.UTC(2026, 11, 7, 14, 32, 0);
let redis: Redis;
let app: FastifyInstance;
let openApp: FastifyInstance;

const viewer = { authorization: `Bearer ${tokens.viewer.token}` };
const operator = { authorization: `Bearer ${tokens.operator.token}` };
const linkQuery = (runId: string, expiresAt: number, key = LINK_KEY) => {
  const { exp, sig } = signLink(key, { runId, expiresAt });
  return `exp=${exp}&sig=${sig}`;
};

function journeyRun(runId: string, attempt: number, overrides: Partial<RunResult> = {}): RunResult {
  const startedAt = SLOT + 200 + attempt * 10_000;
  return {
    runId,
    checkId: 'checkout',
    kind: 'journey',
    location: 'inside',
    scheduledAt: SLOT,
    intervalMs: 60_000,
    startedAt,
    finishedAt: startedAt + 4321,
    attempt,
    host: 'probe-1',
    status: 'fail',
    phases: { dns: 1.5, connect: 2.25, total: 4321 },
    peers: [{ ip: '127.0.0.1', port: 4601 }],
    error: {
      class: 'assertion',
      code: 'ASSERTION',
      message: `journey "checkout" step 2 "pay": expected the thank-you page ${SCRIPT}`,
      phase: 'pay',
    },
    steps: [
      { name: 'open shop', startedAt: startedAt + 10, durationMs: 812, status: 'pass' },
      {
        name: `pay ${SCRIPT}`,
        startedAt: startedAt + 900,
        durationMs: 3000,
        status: 'fail',
        error: 'not visible',
      },
    ],
    ...overrides,
  };
}

before(async () => {
  redis = createRedisConnection(SHARED_REDIS_URL);
  const raw = {
    locations: { inside: {}, outside: {} },
    checks: [
      { id: 'checkout', name: `Checkout ${SCRIPT}`, kind: 'http', http: { url: 'http://127.0.0.1:4601/' } },
    ],
    redis: { prefix },
    api: {
      tokens: Object.entries(tokens).map(([role, { hash }]) => ({ name: `${role}-holder`, hash, role })),
    },
  };
  const config = await parseConfig(raw, join(dir, 'pathwatch.yaml'));
  const recorder = new ResultsRecorder(redis, config);
  const artifacts = new FilesystemArtifactStore(join(dir, 'artifacts'));
  const put = async (runId: string, name: string, kind: string, body: string, type: string) => {
    const stored = await artifacts.put(`runs/${runId}/${name}`, Buffer.from(body), type);
    return { kind, key: stored.key, bytes: stored.bytes, contentType: type };
  };
  const analysis = {
    diagnosis: 'SYN sent, no SYN-ACK',
    tcpFlows: [
      {
        client: { ip: '10.0.0.9', port: 50_123 },
        server: { ip: '10.0.0.5', port: 443 },
        packets: 3,
        fromClient: { packets: 3 },
        fromServer: { packets: 0 },
        synSeen: true,
        synsSent: 3,
        synAcks: 0,
        bytesFromClient: 0,
        bytesFromServer: 0,
        retransmissions: 2,
        resets: [],
        diagnosis: `no answer to 3 SYNs ${SCRIPT}`,
      },
    ],
    dns: { queries: [] },
  };
  for (const [runId, attempt] of [
    ['slot1', 1],
    ['slot1-2', 2],
  ] as const) {
    await recorder.runs.save(
      journeyRun(runId, attempt, {
        details: { capture: { diagnosis: `SYN sent, no SYN-ACK (attempt ${attempt})` } },
        artifacts: [
          await put(runId, 'failure.png', 'screenshot', 'png', 'image/png'),
          await put(runId, 'trace.zip', 'trace', 'zip', 'application/zip'),
          await put(runId, 'network.har', 'har', '{}', 'application/json'),
          await put(runId, 'capture-1.pcap', 'pcap', 'pcap', 'application/vnd.tcpdump.pcap'),
          await put(
            runId,
            'capture-1-analysis.json',
            'analysis',
            JSON.stringify(analysis),
            'application/json',
          ),
          await put(runId, 'capture-1-analysis.txt', 'analysis', 'diagnosis: …', 'text/plain'),
        ],
      }),
    );
  }
  await recorder.runs.save(
    journeyRun('slot1-out', 1, { location: 'outside', status: 'pass', error: undefined, artifacts: [] }),
  );
  app = await buildApp({ config, recorder, artifacts, linkKey: LINK_KEY });
  const open = await parseConfig({ ...raw, api: {} }, join(dir, 'pathwatch.yaml'));
  openApp = await buildApp({ config: open, recorder, artifacts, linkKey: LINK_KEY });
});

after(async () => {
  await app?.close();
  await openApp?.close();
  await deleteKeysWithPrefix(prefix);
  redis.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

/** The values of `attribute` in `html`, entities of `&` undone. */
function attributes(html: string, attribute: string): string[] {
  return [...html.matchAll(new RegExp(`${attribute}="([^"]*)"`, 'g'))].map((match) =>
    match[1].replaceAll('&amp;', '&'),
  );
}

test('the page in English: the run, every attempt, steps, error with what to do, phases, peers, capture, verdict', async () => {
  const page = await app.inject({ url: '/runs/slot1-2', headers: operator });
  assert.equal(page.statusCode, 200, page.body);
  assert.match(String(page.headers['content-type']), /^text\/html; charset=utf-8/);
  assert.equal(page.headers['content-language'], 'en');
  const html = page.body;
  assert.match(html, /<html lang="en">/);
  assert.match(html, /Verdict across locations for this slot/);
  assert.match(
    html,
    /Failing only from inside \(inside\) while outside passes: the path inside the data centre\./,
  );
  // Both attempts, each with its own evidence.
  assert.match(html, /id="attempt-1" data-run-id="slot1"/);
  assert.match(html, /id="attempt-2" data-run-id="slot1-2"/);
  assert.match(html, /attempt 2 of 2/);
  assert.match(html, /open shop/);
  assert.match(html, /\+0\.010 s/);
  assert.match(html, /<code>ASSERTION<\/code> \(assertion\)/);
  assert.match(html, /the target answered, not as the check expects: expected and actual are in the message/);
  assert.match(html, /DNS lookup<\/th><td class="number">1\.5 ms<\/td>/);
  assert.match(html, /Total<\/th><td class="number">4321 ms<\/td>/);
  assert.match(html, /<code>127\.0\.0\.1:4601<\/code>/);
  assert.match(html, /SYN sent, no SYN-ACK \(attempt 2\)/);
  assert.match(html, /<code>10\.0\.0\.9:50123 → 10\.0\.0\.5:443<\/code>/);
  assert.match(html, /3 SYN, none answered/);
  assert.match(html, /2026-12-07T14:32:00\.000Z/, 'times in UTC, ISO 8601');
  assert.match(html, /Times are UTC/);
  // The operator's links open without a token: the page signs them.
  const hrefs = attributes(html, 'href');
  for (const runId of ['slot1', 'slot1-2']) {
    for (const name of ['trace.zip', 'network.har', 'capture-1.pcap']) {
      const link = hrefs.find((href) => href.startsWith(`/api/v1/runs/${runId}/artifacts/${name}?exp=`));
      assert.ok(link, `a signed link to ${runId}/${name} among ${hrefs.join(' ')}`);
      const file = await app.inject({ url: link });
      assert.equal(file.statusCode, 200, `${link}: ${file.body}`);
    }
  }
  const viewerLink = hrefs.find((href) => href.startsWith('/trace/?trace='));
  assert.ok(viewerLink);
  assert.match(
    decodeURIComponent(viewerLink),
    /^\/trace\/\?trace=\/api\/v1\/runs\/slot1\/artifacts\/trace\.zip\?exp=/,
  );
  assert.ok(hrefs.some((href) => /^\/api\/v1\/runs\/slot1-2\/bundle\?exp=\d+&sig=/.test(href)));
  const images = attributes(html, 'src');
  assert.equal(images.length, 2, 'the failing step of each attempt shows its screenshot');
  assert.match(images[1], /^\/api\/v1\/runs\/slot1-2\/artifacts\/failure\.png\?exp=\d+&sig=/);
  // The other location's run of the slot, linked to its own page.
  assert.ok(hrefs.includes('/runs/slot1-out?lang=en'));
  assert.doesNotMatch(html, /<script/i, 'no script at all');
  assert.match(String(page.headers['content-security-policy']), /script-src 'self'/);
});

test('the page in Japanese, by ?lang=ja or by Accept-Language, with a switch back to English', async () => {
  const byQuery = await app.inject({ url: '/runs/slot1?lang=ja', headers: operator });
  const byHeader = await app.inject({
    url: '/runs/slot1',
    headers: { ...operator, 'accept-language': 'fr-FR;q=0.9, ja-JP, en;q=0.5' },
  });
  for (const page of [byQuery, byHeader]) {
    assert.equal(page.statusCode, 200, page.body);
    assert.equal(page.headers['content-language'], 'ja');
    assert.match(page.body, /<html lang="ja">/);
    assert.match(page.body, /この実行枠のロケーション横断判定/);
    assert.match(page.body, /内部（inside）からのみ失敗し、外部からは成功しています。/);
    assert.match(page.body, /対処方法/);
    assert.match(page.body, /対象は応答しましたが、チェックの期待どおりではありません。/);
    assert.match(page.body, /2 回中 1 回目/);
    assert.match(page.body, /トレースビューアーでトレースを開く/);
    assert.match(page.body, /href="\/runs\/slot1\?lang=en" lang="en" hreflang="en">English<\/a>/);
  }
  const english = await app.inject({
    url: '/runs/slot1?lang=en',
    headers: { ...operator, 'accept-language': 'ja' },
  });
  assert.equal(english.headers['content-language'], 'en', '?lang wins over Accept-Language');
  const zoned = await app.inject({ url: '/runs/slot1?lang=ja&tz=Asia/Tokyo', headers: operator });
  assert.match(zoned.body, /2026-12-07T14:32:00\.000Z \(2026-12-07 23:32:00\.000 \+09:00\)/);
  assert.match(zoned.body, /Asia\/Tokyo の現地時刻/);
});

test('stored text holding markup is escaped, never rendered', async () => {
  const page = await app.inject({ url: '/runs/slot1', headers: operator });
  assert.ok(!page.body.includes(SCRIPT), 'no raw <script> from a check name, message, step or flow');
  const escaped = '&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;';
  assert.ok(page.body.includes(`Checkout ${escaped}`), 'the check name');
  assert.ok(page.body.includes(`expected the thank-you page ${escaped}`), 'the error message');
  assert.ok(page.body.includes(`pay ${escaped}`), 'the step name');
  assert.ok(page.body.includes(`no answer to 3 SYNs ${escaped}`), 'the flow diagnosis');
});

test('a viewer sees the run and its screenshots, but no trace, HAR, capture or bundle link', async () => {
  const page = await app.inject({ url: '/runs/slot1-2', headers: viewer });
  assert.equal(page.statusCode, 200, page.body);
  const hrefs = attributes(page.body, 'href').join(' ');
  assert.doesNotMatch(hrefs, /trace|\.har|\.pcap|bundle|analysis/);
  assert.doesNotMatch(page.body, /10\.0\.0\.5:443/, 'no flow table: it is read from the capture');
  assert.match(
    page.body,
    /SYN sent, no SYN-ACK \(attempt 2\)/,
    'the diagnosis is in the run record a viewer reads',
  );
  assert.match(page.body, /shown to operators only/);
  // A viewer's page signs nothing: a signature would open the run's trace too.
  const images = attributes(page.body, 'src');
  assert.deepEqual(images, [
    '/api/v1/runs/slot1/artifacts/failure.png',
    '/api/v1/runs/slot1-2/artifacts/failure.png',
  ]);
  const image = await app.inject({ url: images[1], headers: viewer });
  assert.equal(image.statusCode, 200);
  // On an open API (no tokens) everything is shown, unsigned.
  const open = await openApp.inject({ url: '/runs/slot1-2' });
  assert.equal(open.statusCode, 200);
  assert.ok(attributes(open.body, 'href').includes('/api/v1/runs/slot1-2/artifacts/trace.zip'));
});

test('a signed link opens the page and its evidence without a token; changed, expired or wrong links get a page saying so', async () => {
  const hour = Date.now() + 3_600_000;
  const page = await app.inject({ url: `/runs/slot1-2?${linkQuery('slot1-2', hour)}` });
  assert.equal(page.statusCode, 200, page.body);
  assert.match(page.body, /Opened through a signed link, valid until/);
  const links = [...attributes(page.body, 'src'), ...attributes(page.body, 'href')].filter((href) =>
    href.startsWith('/api/'),
  );
  assert.ok(links.length >= 9, links.join(' '));
  for (const link of links) {
    if (link.includes('/bundle')) continue; // streamed zip of the whole slot: api-bundle.test.ts
    const file = await app.inject({ url: link });
    assert.equal(file.statusCode, 200, `${link}: ${file.body}`);
  }
  // Every link keeps the expiry it came with, not a fresh one.
  const exp = new URLSearchParams(linkQuery('slot1-2', hour)).get('exp');
  for (const link of links) assert.equal(new URL(link, 'http://x').searchParams.get('exp'), exp, link);
  // Another location's run is shown, not opened: the link is for this run.
  assert.ok(!attributes(page.body, 'href').some((href) => href.startsWith('/runs/slot1-out')));
  const other = await app.inject({ url: `/runs/slot1-out?${linkQuery('slot1-2', hour)}` });
  assert.equal(other.statusCode, 403);

  const changed = linkQuery('slot1-2', hour).replace(/exp=(\d+)/, (_, exp) => `exp=${Number(exp) + 60}`);
  const refused = await app.inject({ url: `/runs/slot1-2?${changed}&lang=ja` });
  assert.equal(refused.statusCode, 403);
  assert.match(String(refused.headers['content-type']), /^text\/html/);
  assert.match(refused.body, /<html lang="ja">/);
  assert.match(refused.body, /このリンクは無効です/);
  assert.match(refused.body, /LINK_INVALID/);

  const expired = await app.inject({
    url: `/runs/slot1-2?${linkQuery('slot1-2', Date.now() - 1000)}`,
    headers: { 'accept-language': 'ja' },
  });
  assert.equal(expired.statusCode, 410);
  assert.match(String(expired.headers['content-type']), /^text\/html/);
  assert.match(expired.body, /このリンクは有効期限が切れています/);
  const expiredEn = await app.inject({ url: `/runs/slot1-2?${linkQuery('slot1-2', Date.now() - 1000)}` });
  assert.match(expiredEn.body, /This link has expired/);
  const otherKey = await app.inject({ url: `/runs/slot1-2?${linkQuery('slot1-2', hour, randomBytes(32))}` });
  assert.equal(otherKey.statusCode, 403);
  assert.match(otherKey.body, /This link is not valid/);
});

test('without a token, with a malformed id or for a run that is gone: HTML pages with the right status', async () => {
  const anonymous = await app.inject({ url: '/runs/slot1' });
  assert.equal(anonymous.statusCode, 401);
  assert.equal(anonymous.headers['www-authenticate'], 'Bearer realm="pathwatch"');
  assert.match(String(anonymous.headers['content-type']), /^text\/html/);
  assert.match(anonymous.body, /Sign-in needed/);
  for (const id of ['..%2f..%2fetc', '.hidden', 'run%00id', 'run%2fid']) {
    const bad = await app.inject({ url: `/runs/${id}?lang=ja`, headers: viewer });
    assert.equal(bad.statusCode, 400, id);
    assert.match(bad.body, /アドレスが正しくありません/);
  }
  const gone = await app.inject({ url: '/runs/no-such-run', headers: viewer });
  assert.equal(gone.statusCode, 404);
  assert.match(gone.body, /No such run/);
  const badLang = await app.inject({ url: '/runs/slot1?lang=fr', headers: viewer });
  assert.equal(badLang.statusCode, 400);
  assert.match(badLang.body, /must be &quot;en&quot; or &quot;ja&quot;/);
});

test('the stylesheet is served from the API itself, open', async () => {
  const css = await app.inject({ url: '/assets/run-page.css' });
  assert.equal(css.statusCode, 200);
  assert.match(String(css.headers['content-type']), /^text\/css/);
  assert.match(css.body, /\.status-fail/);
});
