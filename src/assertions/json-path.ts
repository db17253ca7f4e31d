/**
 * A small JSONPath subset (`$.a.b[0].c`, `$['key with space']`) — enough to point at one
 * value in an API answer, which is all an assertion needs.
 */
export function readJsonPath(document: unknown, path: string): { found: boolean; value?: unknown } {
  const tokens = tokenize(path);
  if (!tokens) return { found: false };
  let current: unknown = document;
  for (const token of tokens) {
    if (current === null || typeof current !== 'object') return { found: false };
    const container = current as Record<string | number, unknown>;
    if (!(token in container)) return { found: false };
    current = container[token];
  }
  return { found: true, value: current };
}

export function isValidJsonPath(path: string): boolean {
  return tokenize(path) !== undefined;
}

function tokenize(path: string): Array<string | number> | undefined {
  if (!path.startsWith('$')) return undefined;
  const tokens: Array<string | number> = [];
  const tokenRe = /\.([A-Za-z_$][\w$-]*)|\[(\d+)\]|\['([^']*)'\]|\["([^"]*)"\]/y;
  let offset = 1;
  while (offset < path.length) {
    tokenRe.lastIndex = offset;
    const match = tokenRe.exec(path);
    if (!match) return undefined;
    if (match[1] !== undefined) tokens.push(match[1]);
    else if (match[2] !== undefined) tokens.push(Number(match[2]));
    else tokens.push(match[3] ?? match[4]);
    offset = tokenRe.lastIndex;
  }
  return tokens;
}
