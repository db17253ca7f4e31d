/**
 * A small, tolerant scanner over HTML start tags: enough to find links without a DOM
 * library. It never throws on broken markup; what it cannot read it skips.
 */
export interface HtmlTag {
  /** Lower-case tag name. */
  name: string;
  /** Lower-case attribute name → decoded value; the first occurrence wins, as in browsers. */
  attributes: Map<string, string>;
}

/** Elements whose content is text, not markup: a `<a href>` inside a script is not a link. */
const RAW_TEXT_ELEMENTS = new Set(['script', 'style', 'textarea', 'title', 'xmp', 'noembed', 'noframes']);

const NAMED_ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: '\u00a0',
};

/** Decodes the character references that appear in URLs (`&amp;`, `&#47;`, `&#x2F;`); leaves others as they are. */
export function decodeEntities(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&(#[xX][0-9a-fA-F]+|#[0-9]+|[A-Za-z]+);?/g, (whole, body: string) => {
    if (body[0] === '#') {
      const code =
        body[1] === 'x' || body[1] === 'X' ? Number.parseInt(body.slice(2), 16) : Number(body.slice(1));
      return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED_ENTITIES[body.toLowerCase()] ?? whole;
  });
}

const TAG_NAME_RE = /[A-Za-z][A-Za-z0-9:-]*/y;
const ATTRIBUTE_NAME_RE = /[^\s"'>/=]+/y;
const WHITESPACE_RE = /[\s/]*/y;
const UNQUOTED_VALUE_RE = /[^\s>]*/y;

/** Every start tag in document order, skipping comments, doctypes and raw-text content. */
export function* htmlTags(html: string): Generator<HtmlTag> {
  let position = 0;
  while (position < html.length) {
    const open = html.indexOf('<', position);
    if (open === -1) return;
    if (html.startsWith('<!--', open)) {
      const close = html.indexOf('-->', open + 4);
      position = close === -1 ? html.length : close + 3;
      continue;
    }
    const next = html[open + 1];
    if (next === '!' || next === '?' || next === '/') {
      const close = html.indexOf('>', open + 2);
      position = close === -1 ? html.length : close + 1;
      continue;
    }
    TAG_NAME_RE.lastIndex = open + 1;
    const nameMatch = TAG_NAME_RE.exec(html);
    if (!nameMatch) {
      position = open + 1; // a lone "<" in text
      continue;
    }
    const name = nameMatch[0].toLowerCase();
    const { attributes, end } = readAttributes(html, TAG_NAME_RE.lastIndex);
    yield { name, attributes };
    position = end;
    if (RAW_TEXT_ELEMENTS.has(name)) {
      const closing = new RegExp(`</${name}`, 'gi');
      closing.lastIndex = position;
      position = closing.exec(html)?.index ?? html.length;
    }
  }
}

function readAttributes(html: string, start: number): { attributes: Map<string, string>; end: number } {
  const attributes = new Map<string, string>();
  let position = start;
  while (position < html.length) {
    WHITESPACE_RE.lastIndex = position;
    WHITESPACE_RE.exec(html);
    position = WHITESPACE_RE.lastIndex;
    if (position >= html.length) break;
    if (html[position] === '>') return { attributes, end: position + 1 };
    ATTRIBUTE_NAME_RE.lastIndex = position;
    const nameMatch = ATTRIBUTE_NAME_RE.exec(html);
    if (!nameMatch) {
      position++; // a stray quote or "=": skip it rather than give up on the tag
      continue;
    }
    const attributeName = nameMatch[0].toLowerCase();
    position = ATTRIBUTE_NAME_RE.lastIndex;
    while (position < html.length && /\s/.test(html[position])) position++;
    let value = '';
    if (html[position] === '=') {
      position++;
      while (position < html.length && /\s/.test(html[position])) position++;
      const quote = html[position];
      if (quote === '"' || quote === "'") {
        const close = html.indexOf(quote, position + 1);
        const stop = close === -1 ? html.length : close;
        value = html.slice(position + 1, stop);
        position = stop + 1;
      } else {
        UNQUOTED_VALUE_RE.lastIndex = position;
        value = UNQUOTED_VALUE_RE.exec(html)?.[0] ?? '';
        position = UNQUOTED_VALUE_RE.lastIndex;
      }
    }
    if (!attributes.has(attributeName)) attributes.set(attributeName, decodeEntities(value));
  }
  return { attributes, end: html.length };
}
