/**
 * Every form a secret takes in what pathwatch could keep, computed here independently of
 * pathwatch's masker, for tests that search stored and printed bytes for leaks.
 */
export function encodingsOf(value: string): string[] {
  const json = JSON.stringify(value).slice(1, -1);
  const asciiJson = json.replace(
    /[\u0080-\uffff]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  const uri = encodeURIComponent(value);
  const form = new URLSearchParams({ v: value }).toString().slice(2);
  const lowerHex = (text: string) => text.replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase());
  const forms = new Set([
    value,
    json,
    JSON.stringify(json).slice(1, -1),
    asciiJson,
    uri,
    lowerHex(uri),
    uri.replace(/%20/g, '+'),
    form,
    lowerHex(form),
    encodeURI(value),
    ...base64Pieces(value),
  ]);
  return [...forms];
}

/**
 * What base64 of the value looks like inside any longer base64 text (`user:pass`): for
 * each of the three byte offsets the value can start at, the groups made of its bytes alone.
 */
export function base64Pieces(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  const pieces: string[] = [];
  for (let offset = 0; offset < 3; offset++) {
    const padded = Buffer.concat([Buffer.alloc(offset), bytes]);
    const groups = Math.floor(padded.length / 3);
    const piece = padded
      .subarray(0, groups * 3)
      .toString('base64')
      .slice(offset === 0 ? 0 : 4);
    if (piece.length >= 8) pieces.push(piece, piece.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return pieces;
}

export interface Leak {
  secret: string;
  form: string;
  where: string;
  context: string;
}

/** Every occurrence of any form of any of the values in `bytes`, named by `where`. */
export function findLeaks(bytes: Buffer | string, where: string, values: Record<string, string>): Leak[] {
  const haystack = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes, 'utf8');
  const leaks: Leak[] = [];
  for (const [secret, value] of Object.entries(values)) {
    for (const form of encodingsOf(value)) {
      const at = haystack.indexOf(form, 0, 'utf8');
      if (at < 0) continue;
      const context = haystack.subarray(Math.max(0, at - 60), at + form.length + 60).toString('utf8');
      leaks.push({ secret, form, where, context });
    }
  }
  return leaks;
}
