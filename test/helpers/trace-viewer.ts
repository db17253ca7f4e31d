import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import { dirname, extname, join, normalize } from 'node:path';
import { launchLoopbackChromium } from './loopback-browser.ts';

const VIEWER_DIR = join(
  dirname(createRequire(import.meta.url).resolve('playwright-core/package.json')),
  'lib/vite/traceViewer',
);
const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
  '.ttf': 'font/ttf',
  '.webmanifest': 'application/json',
};

/**
 * Opens a trace in Playwright's own trace viewer (served as static files on loopback, as
 * `show-trace` does), selects the network request whose name is `requestName` and returns
 * the text of the viewer once `bodyPart` of that request's response body shows: proof that
 * the viewer loads the trace and finds the body through the trace's references.
 */
export async function viewTraceResponse(zip: Buffer, requestName: string, bodyPart: string): Promise<string> {
  const server = http.createServer((request, response) => {
    const path = normalize(new URL(request.url ?? '/', 'http://localhost').pathname);
    if (path === '/trace.zip') {
      response.writeHead(200, { 'content-type': 'application/zip' });
      response.end(zip);
      return;
    }
    try {
      const body = readFileSync(join(VIEWER_DIR, path === '/' ? 'index.html' : path));
      response.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream' });
      response.end(body);
    } catch {
      response.writeHead(404);
      response.end();
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const browser = await launchLoopbackChromium();
  try {
    const page = await browser.newPage();
    await page.goto(`${base}/index.html?trace=${base}/trace.zip`);
    await page.getByText('Network', { exact: true }).first().click({ timeout: 15_000 });
    await page.getByText(requestName, { exact: true }).first().click();
    await page.getByText('Response', { exact: true }).first().click();
    await page.getByText(bodyPart).first().waitFor({ timeout: 10_000 });
    // biome-ignore lint/performance/useDomNodeTextContent: the viewer's text as a person reads it
    return await page.locator('body').innerText();
  } finally {
    await browser.close();
    server.close();
  }
}
