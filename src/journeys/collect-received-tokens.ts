import type { BrowserContext } from 'playwright';
import { tokensInBody, tokensInHeader, tokensInUrl } from '../checks/received-tokens.ts';
import type { SecretResolver } from '../config/secret-resolver.ts';

/** Longest response body read for the tokens it may hand out (a login answer is small). */
const TOKEN_BODY_LIMIT = 256 * 1024;
const MAX_TOKEN_BODY_READS = 200;

/**
 * Collects, as the journey runs, the credentials the page sends (Authorization, token
 * headers, tokens in URLs) and the tokens JSON answers hand it (`access_token`, a JWT),
 * so that they are masked like secrets. Cookies are read from the context at the end.
 */
export function collectReceivedTokens(
  context: BrowserContext,
  secrets: SecretResolver,
  pending: Array<Promise<void>>,
): void {
  const note = (tokens: Set<string>) => {
    for (const token of tokens) secrets.maskAlso(token);
  };
  context.on('request', (request) => {
    const tokens = tokensInUrl(request.url());
    for (const [name, value] of Object.entries(request.headers())) tokensInHeader(name, value, tokens);
    const body = request.postData();
    if (body && body.length <= TOKEN_BODY_LIMIT) tokensInBody(body, tokens);
    note(tokens);
  });
  context.on('response', (response) => {
    const headers = response.headers();
    const tokens = tokensInUrl(response.url());
    for (const [name, value] of Object.entries(headers)) tokensInHeader(name, value, tokens);
    note(tokens);
    const type = headers['content-type'] ?? '';
    const length = Number(headers['content-length'] ?? 0);
    if (!/json|text\/plain/.test(type) || length > TOKEN_BODY_LIMIT || pending.length >= MAX_TOKEN_BODY_READS)
      return;
    pending.push(
      response
        .text()
        .then((text) => note(tokensInBody(text.slice(0, TOKEN_BODY_LIMIT))))
        .catch(() => {}),
    );
  });
}
