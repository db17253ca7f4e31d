import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright';
import { classifyJourneyError, journeyErrorCode } from '../../src/journeys/classify-journey-error.ts';
import { launchLoopbackChromium } from '../helpers/loopback-browser.ts';
import { closedPort, startHttpServer, type TestServer } from '../helpers/test-servers.ts';

let browser: Browser;
let server: TestServer;

before(async () => {
  browser = await launchLoopbackChromium();
  server = await startHttpServer((request, response) => {
    // A → B → A, as the http probe's REDIRECT_LOOP test serves it.
    response.statusCode = 302;
    response.setHeader('location', request.url === '/loop-a' ? '/loop-b' : '/loop-a');
    response.end();
  });
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/** What Chromium makes of navigating to `url`, as a journey's page.goto would throw it. */
async function navigationError(url: string): Promise<unknown> {
  const page = await browser.newPage();
  try {
    await page.goto(url);
    return undefined;
  } catch (error) {
    return error;
  } finally {
    await page.close();
  }
}

test('a redirect loop in a journey is class protocol, as in an http check, not an assertion', async () => {
  const error = await navigationError(`${server.url}/loop-a`);
  assert.match((error as Error)?.message ?? '', /net::ERR_TOO_MANY_REDIRECTS/);
  assert.equal(classifyJourneyError(error), 'protocol');
  assert.equal(journeyErrorCode(error), 'TOO_MANY_REDIRECTS');
});

test('a refused connection in a journey is class refused', async () => {
  const error = await navigationError(`http://127.0.0.1:${await closedPort()}/`);
  assert.equal(classifyJourneyError(error), 'refused', (error as Error)?.message);
  assert.equal(journeyErrorCode(error), 'CONNECT_REFUSED');
});

test('an expectation that fails, or a thrown error, is ASSERTION; a Playwright timeout is TIMEOUT', () => {
  assert.equal(journeyErrorCode(new Error('expect(locator).toHaveText(expected) failed')), 'ASSERTION');
  const timeout = new Error('locator.click: Timeout 5000ms exceeded.');
  timeout.name = 'TimeoutError';
  assert.equal(journeyErrorCode(timeout), 'TIMEOUT');
});
