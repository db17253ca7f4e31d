import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { after, before, test } from 'node:test';
import { ConfigError } from '../../src/config/config-error.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { runCheckFromConfig } from '../helpers/check-fixtures.ts';
import { findLeaks } from '../helpers/secret-encodings.ts';
import { startHttpServer, type TestServer } from '../helpers/test-servers.ts';

const TOKEN = 'tok"en\\ 9%+é-4411';
const API_KEY = 'key-7f3a"9 c+%';
const PASSWORD = 'p"a\\ss w%rd+ü';
const ISSUED = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJib2IifQ.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg';
const env = { TOKEN, API_KEY, PASSWORD };

/** Two servers on loopback: different ports, so different origins. */
let home: TestServer;
let elsewhere: TestServer;
const seenElsewhere: IncomingHttpHeaders[] = [];
const seenHome: IncomingHttpHeaders[] = [];

before(async () => {
  elsewhere = await startHttpServer((request, response) => {
    seenElsewhere.push(request.headers);
    response.end('ok');
  });
  home = await startHttpServer((request, response) => {
    seenHome.push(request.headers);
    if (request.url === '/away') {
      response.writeHead(302, { location: `${elsewhere.url}/landing` });
    } else if (request.url === '/away-307') {
      response.writeHead(307, { location: `${elsewhere.url}/landing` });
    } else if (request.url === '/same') {
      response.writeHead(302, { location: '/landing' });
    } else if (request.url === '/echo') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write(
        JSON.stringify({ authorization: request.headers.authorization, key: request.headers['x-api-key'] }),
      );
    } else if (request.url === '/login') {
      response.writeHead(200, {
        'content-type': 'application/json',
        'set-cookie': 'sid=8c1d0e6f2a4b9c7d; HttpOnly',
      });
      response.write(JSON.stringify({ access_token: ISSUED, expires_in: 3600 }));
    }
    response.end();
  });
});
after(async () => {
  await home.close();
  await elsewhere.close();
});

/** An http check sending every kind of credential; `http` adds to its http block. */
function withCredentials(http: Record<string, unknown>): Record<string, unknown> {
  return {
    kind: 'http',
    auth: { bearer: '${env:TOKEN}' },
    http: {
      headers: {
        'x-api-key': '${env:API_KEY}',
        cookie: 'pref=1',
        'x-request-tag': 'plain',
        'x-auth-token': 'written-inline-7731',
      },
      ...http,
    },
  };
}

test('a redirect to another origin gets no Authorization, Cookie or secret-bearing header', async () => {
  seenElsewhere.length = 0;
  const result = await runCheckFromConfig(withCredentials({ url: `${home.url}/away` }), env);
  assert.equal(result.status, 'pass', result.error?.message);
  assert.equal(result.details?.redirects, 1);
  const [landing] = seenElsewhere;
  assert.equal(landing.authorization, undefined);
  assert.equal(landing['x-api-key'], undefined);
  assert.equal(landing.cookie, undefined);
  assert.equal(landing['x-auth-token'], undefined, 'a credential header by name, even written inline');
  assert.equal(landing['x-request-tag'], 'plain', 'headers without credentials still go');
});

test('a 307 to another origin is not followed when it would resend a body that holds a secret', async () => {
  seenElsewhere.length = 0;
  const post = { url: `${home.url}/away-307`, method: 'POST', body: 'user=bob&password=${env:PASSWORD}' };
  const refused = await runCheckFromConfig(withCredentials(post), env);
  assert.equal(refused.status, 'fail');
  assert.equal(refused.error?.class, 'protocol');
  assert.match(
    refused.error?.message ?? '',
    /307 redirect from .* would resend the request body.*forwardCredentialsOnRedirect/,
  );
  assert.equal(seenElsewhere.length, 0, 'nothing reached the other origin');
  // A body without secrets follows the 307 as before.
  const plain = await runCheckFromConfig(withCredentials({ ...post, body: 'q=shoes' }), env);
  assert.equal(plain.status, 'pass', plain.error?.message);
  assert.equal(seenElsewhere.length, 1);
});

test('a redirect within the origin keeps them, and a check can opt in to forwarding', async () => {
  seenHome.length = 0;
  await runCheckFromConfig(withCredentials({ url: `${home.url}/same` }), env);
  assert.equal(seenHome.at(-1)?.authorization, `Bearer ${TOKEN}`);
  assert.equal(seenHome.at(-1)?.['x-api-key'], API_KEY);

  seenElsewhere.length = 0;
  await runCheckFromConfig(
    withCredentials({ url: `${home.url}/away`, forwardCredentialsOnRedirect: true }),
    env,
  );
  assert.equal(seenElsewhere[0].authorization, `Bearer ${TOKEN}`);
  assert.equal(seenElsewhere[0]['x-api-key'], API_KEY);
});

test("assertions' actual values hold no credential, in any encoding", async () => {
  for (const auth of [{ bearer: '${env:TOKEN}' }, { username: 'bob', password: '${env:PASSWORD}' }]) {
    const result = await runCheckFromConfig(
      {
        kind: 'http',
        auth,
        http: {
          url: `${home.url}/echo`,
          headers: { 'x-api-key': '${env:API_KEY}' },
          expect: {
            json: [
              { path: '$.authorization', equals: 'nobody' },
              { path: '$.key', equals: 'none' },
            ],
          },
        },
      },
      env,
    );
    assert.equal(result.status, 'fail');
    assert.equal(
      result.assertions?.some((assertion) => String(assertion.actual).includes('***')),
      true,
    );
    assert.deepEqual(
      findLeaks(JSON.stringify(result), 'result', { ...env, userPass: `bob:${PASSWORD}` }),
      [],
    );
  }
});

test('a token or session cookie the target hands out is masked in the result', async () => {
  const result = await runCheckFromConfig(
    {
      kind: 'http',
      http: {
        url: `${home.url}/login`,
        expect: {
          json: [{ path: '$.access_token', equals: 'x' }],
          headers: { 'set-cookie': 'none' },
        },
      },
    },
    env,
  );
  assert.equal(result.status, 'fail');
  assert.deepEqual(findLeaks(JSON.stringify(result), 'result', { ISSUED, sid: '8c1d0e6f2a4b9c7d' }), []);
});

test('credentials written into a check URL are refused, pointing to auth and secret references', async () => {
  for (const kind of ['http', 'crawl']) {
    await assert.rejects(
      parseConfig(
        {
          locations: { local: {} },
          checks: [{ id: 'c', kind, [kind]: { url: 'https://bob:hunter2-x@shop.example/health' } }],
        },
        '/tmp/test.yaml',
        {},
      ),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError, String(error));
        assert.match(error.message, /checks\[0\]\.(http|crawl)\.url: must not hold credentials/);
        assert.match(error.message, /"auth"/);
        assert.match(error.message, /\$\{env:NAME\}/);
        assert.doesNotMatch(error.message, /hunter2/);
        return true;
      },
    );
  }
});
