/** What a masked value becomes. */
export const MASK = '***';

/** Shorter values are not masked: masking "a" or "12" would shred every text. */
export const MIN_SECRET_LENGTH = 3;

/**
 * A base64 fragment shorter than this would match by chance (4 characters: once in 16 M
 * positions). 8 covers values of 9 bytes or more at every offset, shorter ones when aligned.
 */
const MIN_BASE64_FRAGMENT = 8;

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/** `%c3` and `%C3` alike: browsers, curl and servers differ in the case of their hex. */
function hexPattern(hex: string): string {
  return [...hex]
    .map((digit) => (/[a-f]/i.test(digit) ? `[${digit.toLowerCase()}${digit.toUpperCase()}]` : digit))
    .join('');
}

function percentPattern(bytes: Uint8Array): string {
  return [...bytes].map((byte) => `%${hexPattern(byte.toString(16).padStart(2, '0'))}`).join('');
}

/** `\u00e9` (with the escape itself escaped once more when JSON sits inside JSON). */
function unicodeEscapePatterns(char: string): string[] {
  const units: string[] = [];
  for (let index = 0; index < char.length; index++)
    units.push(hexPattern(char.charCodeAt(index).toString(16).padStart(4, '0')));
  return [units.map((unit) => `\\\\u${unit}`).join(''), units.map((unit) => `\\\\\\\\u${unit}`).join('')];
}

const HTML_ENTITIES: Record<string, string[]> = {
  '"': ['&quot;', '&#34;', '&#x22;'],
  "'": ['&#39;', '&#x27;', '&apos;'],
  '&': ['&amp;', '&#38;', '&#x26;'],
  '<': ['&lt;', '&#60;', '&#x3c;'],
  '>': ['&gt;', '&#62;', '&#x3e;'],
};

/**
 * Every way one character of a secret shows up in what pathwatch keeps: as is; JSON-escaped
 * once (`\"` in a trace's fill value) or twice (a JSON body logged inside JSON); as a
 * `\uXXXX` escape; percent-encoded as UTF-8 (either hex case) or, for Latin-1 letters, as
 * a single byte (a form on a page without a charset); `+` for a space (form encoding);
 * percent-encoded after JSON escaping; an HTML entity. Longest alternatives come first so a
 * match takes the whole escape.
 */
function charPattern(char: string): string {
  const alternatives: string[] = [];
  const json = JSON.stringify(char).slice(1, -1);
  if (json !== char) {
    alternatives.push(escapeRegex(JSON.stringify(json).slice(1, -1)), escapeRegex(json));
    alternatives.push(percentPattern(Buffer.from(json, 'utf8')));
  }
  if (!/[A-Za-z0-9]/.test(char)) alternatives.push(...unicodeEscapePatterns(char));
  for (const entity of HTML_ENTITIES[char] ?? []) alternatives.push(hexPattern(entity));
  alternatives.push(percentPattern(Buffer.from(char, 'utf8')));
  const code = char.codePointAt(0) ?? 0;
  if (code >= 0x80 && code <= 0xff) alternatives.push(percentPattern(Uint8Array.of(code)));
  if (char === ' ') alternatives.push('\\+');
  alternatives.push(escapeRegex(char));
  return `(?:${alternatives.join('|')})`;
}

/**
 * Pieces of the value's base64 that appear whatever bytes surround it: base64 works on
 * 3-byte groups, so for each of the three offsets the value can start at, the groups made of
 * the value's bytes alone encode the same way inside any longer text (`user:pass` in a Basic
 * header). Masking those pieces leaves nothing that decodes back to the value.
 */
function base64Fragments(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  const fragments = new Set<string>();
  for (let offset = 0; offset < 3; offset++) {
    const padded = Buffer.concat([Buffer.alloc(offset), bytes]);
    const wholeGroups = Math.floor(padded.length / 3);
    const encoded = padded.subarray(0, wholeGroups * 3).toString('base64');
    // The first group mixes in bytes from before the value when it starts mid-group.
    const fragment = encoded.slice(offset === 0 ? 0 : 4);
    if (fragment.length < MIN_BASE64_FRAGMENT) continue;
    fragments.add(fragment);
    fragments.add(fragment.replace(/\+/g, '-').replace(/\//g, '_')); // base64url
  }
  return [...fragments];
}

function patternFor(value: string): string {
  const encoded = [...value].map(charPattern).join('');
  return [encoded, ...base64Fragments(value).map(escapeRegex)].join('|');
}

/**
 * Masks secret values in every encoding they take (see charPattern and base64Fragments).
 * The pattern of a value is built once, when it is added; the combined expression is
 * compiled again only when the set of values changes, never per call.
 *
 * `extend()` gives a masker that masks its parent's values and its own: a run adds the
 * tokens it received (session cookies, bearer tokens) to its own masker, which is dropped
 * with the run, so a long-lived worker does not accumulate every token it ever saw.
 */
export class SecretMasker {
  private readonly patterns = new Map<string, string>();
  private version = 0;
  private compiled?: { regex: RegExp | undefined; version: number; parentVersion: number };

  constructor(private readonly parent?: SecretMasker) {}

  /** Masks `value` from now on; values shorter than 3 characters are ignored. */
  add(value: string): void {
    if (value.length < MIN_SECRET_LENGTH || this.patterns.has(value) || this.parent?.knows(value)) return;
    this.patterns.set(value, patternFor(value));
    this.version++;
  }

  /** A masker for one run: the parent's values plus the run's own. */
  extend(): SecretMasker {
    return new SecretMasker(this);
  }

  mask(text: string): string {
    const regex = this.regex();
    return regex && text.length >= MIN_SECRET_LENGTH ? text.replace(regex, MASK) : text;
  }

  private knows(value: string): boolean {
    return this.patterns.has(value) || (this.parent?.knows(value) ?? false);
  }

  private get totalVersion(): number {
    return this.version + (this.parent?.totalVersion ?? 0);
  }

  private entries(): Array<[string, string]> {
    return [...(this.parent?.entries() ?? []), ...this.patterns];
  }

  private regex(): RegExp | undefined {
    const parentVersion = this.parent?.totalVersion ?? 0;
    if (this.compiled?.version === this.version && this.compiled.parentVersion === parentVersion)
      return this.compiled.regex;
    // Longest values first, so a secret that contains another is masked whole.
    const sources = this.entries()
      .sort(([a], [b]) => b.length - a.length)
      .map(([, pattern]) => pattern);
    const regex = sources.length > 0 ? new RegExp(sources.join('|'), 'g') : undefined;
    this.compiled = { regex, version: this.version, parentVersion };
    return regex;
  }
}

/**
 * The secrets this process has resolved. Log lines are masked with it (the logger is built
 * before any config is read), and every SecretResolver records into it by default.
 */
export const processSecretMasker = new SecretMasker();
