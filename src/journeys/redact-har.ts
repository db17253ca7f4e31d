import { tokensInBody, tokensInField, tokensInHeader, tokensInUrl } from '../checks/received-tokens.ts';
import { MASK } from '../config/secret-resolver.ts';

/** Headers whose values are credentials, whatever the site. */
const SENSITIVE_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
]);

interface HarHeader {
  name: string;
  value: string;
}
interface HarCookie {
  value: string;
}
interface HarBody {
  text?: string;
  encoding?: string;
  /** Where a trace keeps the body (`resources/…`); `_sha1` in older traces. */
  _file?: string;
  _sha1?: string;
}
interface HarMessage {
  url?: string;
  headers?: HarHeader[];
  cookies?: HarCookie[];
  queryString?: Array<{ name: string; value: string }>;
  postData?: HarBody & { params?: Array<{ name: string; value?: string }> };
  content?: HarBody;
}
export interface HarEntry {
  request?: HarMessage;
  response?: HarMessage;
}

/** Masks credential headers and cookie values of one HAR entry, in place. */
export function redactHarEntry(entry: HarEntry): void {
  for (const message of [entry.request, entry.response]) {
    if (!message) continue;
    for (const header of message.headers ?? []) {
      if (SENSITIVE_HEADERS.has(header.name.toLowerCase())) header.value = MASK;
    }
    for (const cookie of message.cookies ?? []) cookie.value = MASK;
  }
}

/**
 * The credentials one HAR entry carries (cookies, Authorization, token headers, tokens in
 * the URL or in a body), so they can be masked wherever else they show up: a DOM snapshot,
 * a later request's URL, a script's body. `readBody` reads a body the entry points to (a
 * trace's `resources/…` file) when it is not inline.
 */
export function tokensInHarEntry(
  entry: HarEntry,
  tokens: Set<string>,
  readBody?: (file: string) => string | undefined,
): Set<string> {
  for (const message of [entry.request, entry.response]) {
    if (!message) continue;
    if (message.url) tokensInUrl(message.url, tokens);
    for (const header of message.headers ?? []) tokensInHeader(header.name, header.value, tokens);
    for (const cookie of message.cookies ?? []) tokensInHeader('cookie', `c=${cookie.value}`, tokens);
    for (const body of [message.postData, message.content]) {
      if (!body) continue;
      const file = body._file ?? (body._sha1 ? `resources/${body._sha1}` : undefined);
      const text = body.text && body.encoding !== 'base64' ? body.text : file ? readBody?.(file) : undefined;
      if (text) tokensInBody(text, tokens);
    }
    for (const param of message.postData?.params ?? []) tokensInField(param.name, param.value ?? '', tokens);
  }
  return tokens;
}

/**
 * A HAR as evidence that can be attached to a ticket: credential headers and cookie values
 * become `***`, and then every secret value the run used, and every token it received, is
 * masked wherever it appears (URLs, form posts, bodies). `secrets` is the run's resolver:
 * the HAR's own tokens are added to it first.
 */
export function redactHar(
  harText: string,
  secrets: { mask(text: string): string; maskAlso(value: string): void },
): string {
  const har = JSON.parse(harText) as { log?: { entries?: HarEntry[] } };
  const tokens = new Set<string>();
  for (const entry of har.log?.entries ?? []) tokensInHarEntry(entry, tokens);
  for (const token of tokens) secrets.maskAlso(token);
  for (const entry of har.log?.entries ?? []) redactHarEntry(entry);
  return secrets.mask(JSON.stringify(har, null, 2));
}
