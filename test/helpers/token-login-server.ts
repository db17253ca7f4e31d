import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startHttpServer, type TestServer } from './test-servers.ts';

/**
 * A site with a login the way modern shops do it, for tests that look for leaked
 * credentials: a classic form post (form-encoded password) that sets a session cookie,
 * then the page's script trades the cookie for a bearer token (a JWT-shaped JSON field),
 * calls an API with `Authorization: Bearer …` and shows the user. `/api/basic-login` hands
 * out the same token and cookie to a Basic-authenticated client (an API check); `/echo-auth`
 * answers with the Authorization header it received, as some health endpoints do.
 */
export interface TokenLoginServer extends TestServer {
  /** The bearer token every login hands out (a JWT-shaped string). */
  token: string;
  /** The session cookie's value. */
  sessionId: string;
  /** Logins seen, for asserting the journey really logged in. */
  logins: number;
  /** Every request and response body exchanged, as sent: what a trace's resources hold. */
  bodies: string[];
}

function base64url(text: string): string {
  return Buffer.from(text).toString('base64url');
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks).toString('utf8');
  exchanged.push(body);
  return body;
}

const exchanged: string[] = [];

function send(res: ServerResponse, status: number, type: string, body: string, headers = {}): void {
  exchanged.push(body);
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...headers });
  res.end(body);
}

const LOGIN_PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>Sign in</title></head><body>
<h1>Sign in</h1>
<form method="post" action="/login">
  <label>Username <input name="username" id="username"></label>
  <label>Password <input name="password" id="password" type="password"></label>
  <button type="submit">Log in</button>
</form></body></html>`;

const APP_PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>Account</title></head><body>
<h1>Account</h1><p id="who">loading</p>
<script>
  fetch('/api/token', { method: 'POST' })
    .then((response) => response.json())
    .then(({ access_token }) => fetch('/api/me', { headers: { authorization: 'Bearer ' + access_token } }))
    .then((response) => response.json())
    .then((me) => { document.getElementById('who').textContent = 'Welcome ' + me.user; });
</script></body></html>`;

export async function startTokenLoginServer(credentials: {
  username: string;
  password: string;
}): Promise<TokenLoginServer> {
  const header = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const claims = base64url(
    JSON.stringify({ sub: credentials.username, exp: Math.floor(Date.now() / 1000) + 3600 }),
  );
  const token = `${header}.${claims}.${randomBytes(32).toString('base64url')}`;
  const sessionId = randomBytes(18).toString('hex');
  const state = { logins: 0 };
  const server = await startHttpServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const cookie = req.headers.cookie ?? '';
    const loggedIn = cookie.includes(`sid=${sessionId}`);
    if (req.method === 'GET' && url.pathname === '/')
      return send(res, 200, 'text/html; charset=utf-8', LOGIN_PAGE);
    if (req.method === 'POST' && url.pathname === '/login') {
      const form = new URLSearchParams(await readBody(req));
      if (form.get('username') !== credentials.username || form.get('password') !== credentials.password)
        return send(res, 401, 'text/html', '<h1>Wrong username or password</h1>');
      state.logins++;
      res.writeHead(303, { location: '/app', 'set-cookie': `sid=${sessionId}; Path=/; HttpOnly` });
      return res.end();
    }
    if (req.method === 'GET' && url.pathname === '/app')
      return send(res, 200, 'text/html; charset=utf-8', APP_PAGE);
    if (req.method === 'POST' && url.pathname === '/api/token') {
      if (!loggedIn) return send(res, 401, 'application/json', '{"error":"no session"}');
      return send(res, 200, 'application/json', JSON.stringify({ access_token: token, expires_in: 3600 }));
    }
    if (req.method === 'GET' && url.pathname === '/api/me') {
      if (req.headers.authorization !== `Bearer ${token}`)
        return send(res, 401, 'application/json', '{"error":"bad token"}');
      return send(res, 200, 'application/json', JSON.stringify({ user: credentials.username }));
    }
    if (url.pathname === '/api/basic-login') {
      const expected = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
      if (req.headers.authorization !== expected)
        return send(res, 401, 'application/json', '{"error":"bad credentials"}');
      state.logins++;
      return send(
        res,
        200,
        'application/json',
        JSON.stringify({ access_token: token, token_type: 'Bearer' }),
        {
          'set-cookie': `sid=${sessionId}; Path=/; HttpOnly`,
        },
      );
    }
    if (url.pathname === '/echo-auth')
      return send(
        res,
        200,
        'application/json',
        JSON.stringify({
          authorization: req.headers.authorization ?? null,
          key: req.headers['x-api-key'] ?? null,
        }),
      );
    if (url.pathname === '/search') return send(res, 200, 'text/html', '<h1>No results</h1>');
    send(res, 404, 'text/plain', 'not found');
  });
  return {
    ...server,
    token,
    sessionId,
    get logins() {
      return state.logins;
    },
    bodies: exchanged,
  };
}
