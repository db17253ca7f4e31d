import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface JourneyOptionsServer {
  url: string;
  /** A loopback port nothing listens on: connections to it are refused. */
  closedPort: number;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/**
 * A loopback server for journey tests: an API that wants a token header (`/api/<region>`),
 * a page behind basic auth that shows the user and cookies (`/whoami`), and a page whose Pay
 * button posts to another origin (`/pay-page?api=…`).
 */
export async function startJourneyOptionsServer(options: {
  apiToken: string;
  basicPassword: string;
}): Promise<JourneyOptionsServer> {
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const api = /^\/api\/(\w+)$/.exec(url.pathname);
    if (api) {
      const ok = request.headers['x-api-token'] === options.apiToken;
      response.writeHead(ok ? 200 : 403, { 'content-type': 'application/json' });
      response.end(JSON.stringify(ok ? { region: api[1], token: 'seen' } : { error: 'no token' }));
      return;
    }
    if (url.pathname === '/whoami') {
      const [user, password] = Buffer.from(
        (request.headers.authorization ?? '').replace(/^Basic /, ''),
        'base64',
      )
        .toString()
        .split(':');
      if (password !== options.basicPassword) {
        response.writeHead(401, { 'www-authenticate': 'Basic realm="shop"' });
        response.end('who are you?');
        return;
      }
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end(
        `<p data-testid="auth">${user}</p><p data-testid="cookie">${request.headers.cookie ?? ''}</p>`,
      );
      return;
    }
    if (url.pathname === '/pay-page') {
      const target = JSON.stringify(`${url.searchParams.get('api')}/api/pay`);
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end(`<button onclick="fetch(${target.replace(/"/g, '&quot;')}, { method: 'POST' })
        .then(() => { document.querySelector('[data-testid=result]').textContent = 'paid'; })
        .catch(() => {})">Pay</button><p data-testid="result">waiting</p>`);
      return;
    }
    response.writeHead(404);
    response.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    closedPort: await freePort(),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
