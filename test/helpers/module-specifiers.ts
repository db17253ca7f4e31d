/**
 * The module specifiers a TypeScript source names: `import … from`, `import type … from`,
 * `export … from`, side-effect `import '…'`, dynamic `import('…')` with a literal, and
 * `new URL('….ts', import.meta.url)` (how a worker thread's module is named).
 *
 * A small lexer rather than one regex over the text: a specifier inside a comment, a string or
 * a template is not an import, and a regex literal holding a quote must not swallow the code
 * after it. esbuild's metafile would be exact but drops type-only imports, which still tie
 * one folder to another.
 */
export interface ModuleSpecifier {
  specifier: string;
  /** 1-based line of the specifier. */
  line: number;
  kind: 'static' | 'dynamic' | 'url';
}

type Token =
  | { type: 'string'; value: string; start: number }
  | { type: 'word'; value: string; start: number }
  | { type: 'punct'; value: string; start: number };

/** After these words a `/` starts a regex literal, not a division. */
const REGEX_AFTER_WORDS = new Set([
  'return',
  'typeof',
  'instanceof',
  'case',
  'do',
  'else',
  'in',
  'of',
  'new',
  'delete',
  'void',
  'throw',
  'yield',
  'await',
]);

export function moduleSpecifiers(source: string): ModuleSpecifier[] {
  const tokens = tokenize(source);
  const found: ModuleSpecifier[] = [];
  const lineOf = (offset: number) => source.slice(0, offset).split('\n').length;
  const at = (index: number) => tokens[index];
  tokens.forEach((token, index) => {
    if (token.type !== 'string') return;
    const previous = at(index - 1);
    const beforePrevious = at(index - 2);
    const add = (kind: ModuleSpecifier['kind']) =>
      found.push({ specifier: token.value, line: lineOf(token.start), kind });
    // `… from '…'` (import and export), and `import '…'` (no bindings).
    if (previous?.type === 'word' && (previous.value === 'from' || previous.value === 'import')) {
      add('static');
      return;
    }
    const next = at(index + 1);
    if (previous?.value !== '(' || beforePrevious?.type !== 'word') return;
    // import('…') with nothing but the literal inside.
    if (beforePrevious.value === 'import' && (next?.value === ')' || next?.value === ',')) {
      add('dynamic');
      return;
    }
    // new URL('….ts', import.meta.url): a module loaded by path (a worker thread).
    if (
      beforePrevious.value === 'URL' &&
      at(index - 3)?.value === 'new' &&
      next?.value === ',' &&
      at(index + 2)?.value === 'import' &&
      /\.[cm]?[jt]s$/.test(token.value)
    ) {
      add('url');
    }
  });
  return found;
}

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  /** Brace depths at which an open template's `${…}` ends, innermost last. */
  const templateDepths: number[] = [];
  let braceDepth = 0;
  let i = 0;
  const regexAllowed = () => {
    const last = tokens.at(-1);
    if (!last) return true;
    if (last.type === 'string') return false;
    if (last.type === 'word') return REGEX_AFTER_WORDS.has(last.value);
    return !/^[)\]}]$/.test(last.value);
  };
  /** Scans a template from just after its opening backtick or a `}` closing a substitution. */
  const scanTemplate = (start: number) => {
    let text = '';
    while (i < source.length) {
      const char = source[i];
      if (char === '\\') {
        text += source.slice(i, i + 2);
        i += 2;
      } else if (char === '`') {
        i++;
        tokens.push({ type: 'string', value: text, start });
        return;
      } else if (char === '$' && source[i + 1] === '{') {
        i += 2;
        // A template with substitutions is no specifier: it still counts as an expression.
        tokens.push({ type: 'punct', value: '`${', start });
        templateDepths.push(braceDepth);
        braceDepth++;
        return;
      } else {
        text += char;
        i++;
      }
    }
  };
  while (i < source.length) {
    const char = source[i];
    const start = i;
    if (/\s/.test(char)) {
      i++;
    } else if (char === '/' && source[i + 1] === '/') {
      while (i < source.length && source[i] !== '\n') i++;
    } else if (char === '/' && source[i + 1] === '*') {
      const end = source.indexOf('*/', i + 2);
      i = end === -1 ? source.length : end + 2;
    } else if (char === "'" || char === '"') {
      let value = '';
      i++;
      while (i < source.length && source[i] !== char && source[i] !== '\n') {
        if (source[i] === '\\') {
          value += source[i + 1];
          i += 2;
        } else value += source[i++];
      }
      i++;
      tokens.push({ type: 'string', value, start });
    } else if (char === '`') {
      i++;
      scanTemplate(start);
    } else if (char === '/' && regexAllowed()) {
      i++;
      let inClass = false;
      while (i < source.length && source[i] !== '\n') {
        const c = source[i];
        if (c === '\\') i += 2;
        else {
          i++;
          if (c === '[') inClass = true;
          else if (c === ']') inClass = false;
          else if (c === '/' && !inClass) break;
        }
      }
      while (/[a-z]/i.test(source[i] ?? '')) i++;
      tokens.push({ type: 'string', value: '', start }); // a regex is a value, never a specifier
    } else if (/[\w$]/.test(char)) {
      while (i < source.length && /[\w$]/.test(source[i])) i++;
      tokens.push({ type: 'word', value: source.slice(start, i), start });
    } else if (char === '}' && templateDepths.at(-1) === braceDepth - 1) {
      braceDepth--;
      templateDepths.pop();
      i++;
      scanTemplate(start);
    } else {
      if (char === '{') braceDepth++;
      else if (char === '}') braceDepth--;
      i++;
      tokens.push({ type: 'punct', value: char, start });
    }
  }
  return tokens;
}
