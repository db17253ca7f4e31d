/**
 * Credentials a run receives or sends that no config names: the session cookie a login
 * sets, the bearer token its API hands out, the Authorization header the page then sends.
 * They are as good as the password for as long as they live (a JWT: an hour), so a run
 * collects them and masks them like secrets in its result and evidence.
 */

/** Shorter values are not worth masking and would shred ordinary text ("ok", "new"). */
const MIN_TOKEN_LENGTH = 8;

/** JSON fields and query parameters that carry a credential. */
const TOKEN_NAME_RE =
  /token|jwt|session|secret|passw(or)?d|api[-_]?key|credential|^sid$|^code$|^auth(orization)?$/i;

/** Headers that carry a credential, besides Authorization, Cookie and Set-Cookie. */
const TOKEN_HEADER_RE = /token|api[-_]?key|secret|session|^x-auth|csrf|xsrf/i;

/** A form-encoded body: `name=value&name=value`, on one line. */
const FORM_BODY_RE = /^[\w.%[\]-]+=[^\s]*$/;

/** A JSON Web Token anywhere in a text: header.payload.signature, the header starting `{"`. */
const JWT_RE = /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g;

/**
 * Numbers, dates and JSON words are not credentials, and masking them in a trace would
 * turn `"t":1732781234567` into invalid JSON.
 */
const NOT_A_CREDENTIAL_RE = /^(?:[\d.:+-]+|true|false|null|undefined)$/i;

function keep(tokens: Set<string>, value: string | undefined): void {
  const trimmed = value?.trim();
  if (trimmed && trimmed.length >= MIN_TOKEN_LENGTH && !NOT_A_CREDENTIAL_RE.test(trimmed))
    tokens.add(trimmed);
}

/** `a=1; b=2` (Cookie) or `a=1; Path=/; HttpOnly` (one Set-Cookie, possibly several lines). */
function cookieValues(header: string, setCookie: boolean): string[] {
  const values: string[] = [];
  for (const line of header.split('\n')) {
    const pairs = setCookie ? [line.split(';')[0]] : line.split(';');
    for (const pair of pairs) {
      const equals = pair.indexOf('=');
      if (equals > 0) values.push(pair.slice(equals + 1).replace(/^"|"$/g, ''));
    }
  }
  return values;
}

/** Credentials in one header, request or response. */
export function tokensInHeader(name: string, value: string, tokens = new Set<string>()): Set<string> {
  const lower = name.toLowerCase();
  if (lower === 'cookie' || lower === 'set-cookie') {
    for (const cookie of cookieValues(value, lower === 'set-cookie')) keep(tokens, cookie);
  } else if (lower === 'authorization' || lower === 'proxy-authorization') {
    keep(tokens, value);
    const [scheme, credentials] = value.trim().split(/\s+/, 2);
    keep(tokens, credentials);
    if (scheme?.toLowerCase() === 'basic' && credentials) {
      const decoded = Buffer.from(credentials, 'base64').toString('utf8');
      keep(tokens, decoded);
      keep(tokens, decoded.slice(decoded.indexOf(':') + 1));
    }
  } else if (TOKEN_HEADER_RE.test(lower)) {
    keep(tokens, value);
  }
  return tokens;
}

/** A named value (a JSON field, a query or form parameter) that holds a credential by its name. */
export function tokensInField(name: string, value: string, tokens = new Set<string>()): Set<string> {
  if (TOKEN_NAME_RE.test(name)) keep(tokens, value);
  return tokens;
}

/** Credentials in a URL's query or fragment (`#access_token=…` of an OAuth redirect). */
export function tokensInUrl(url: string, tokens = new Set<string>()): Set<string> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return tokens;
  }
  keep(tokens, parsed.password ? decodeURIComponent(parsed.password) : undefined);
  for (const params of [parsed.searchParams, new URLSearchParams(parsed.hash.slice(1))]) {
    for (const [name, value] of params) tokensInField(name, value, tokens);
  }
  return tokens;
}

/** Credentials in a response or request body: token-named JSON fields, and any JWT. */
export function tokensInBody(text: string, tokens = new Set<string>()): Set<string> {
  for (const match of text.matchAll(JWT_RE)) keep(tokens, match[0]);
  const trimmed = text.trimStart();
  if (FORM_BODY_RE.test(trimmed)) {
    for (const [name, value] of new URLSearchParams(trimmed)) tokensInField(name, value, tokens);
    return tokens;
  }
  if (!trimmed.startsWith('{') && !trimmed.startsWith('[')) return tokens;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return tokens;
  }
  const walk = (value: unknown, depth: number): void => {
    if (depth > 20 || value === null || typeof value !== 'object') return;
    for (const [key, field] of Object.entries(value)) {
      if (typeof field === 'string') tokensInField(key, field, tokens);
      else walk(field, depth + 1);
    }
  };
  walk(json, 0);
  return tokens;
}
