import YAML, { LineCounter } from 'yaml';
import type { ConfigIssue } from './config-error.ts';
import { describeThrown } from './describe-thrown.ts';

/**
 * yaml's own guard against alias bombs ("billion laughs"). A real config needs far fewer, and
 * every expansion is counted again by toPlainConfigValue's cap on values.
 */
const MAX_ALIAS_COUNT = 1000;

/**
 * Parses a YAML (or JSON) file's text into plain JS, turning every way that can fail — syntax
 * errors, undefined aliases, alias bombs, nesting that exhausts the stack — into problems
 * with a line where one is known, instead of exceptions.
 */
export function parseYamlText(text: string): { value: unknown; issues: ConfigIssue[] } {
  const lineCounter = new LineCounter();
  const at = (offset: number | undefined) => {
    if (offset === undefined) return '';
    const { line, col } = lineCounter.linePos(offset);
    return `line ${line}, column ${col}`;
  };
  let document: YAML.Document.Parsed;
  try {
    document = YAML.parseDocument(text, { prettyErrors: true, lineCounter });
  } catch (error) {
    return { value: undefined, issues: [{ path: '', message: `could not parse: ${describeThrown(error)}` }] };
  }
  if (document.errors.length > 0) {
    return {
      value: undefined,
      issues: document.errors.map((error) => ({
        path: error.linePos ? `line ${error.linePos[0].line}, column ${error.linePos[0].col}` : '',
        // yaml repeats the position at the end of its first line; the path already says it.
        message: error.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, ''),
      })),
    };
  }
  try {
    return { value: document.toJS({ maxAliasCount: MAX_ALIAS_COUNT }), issues: [] };
  } catch (error) {
    const message = error instanceof Error ? error.message : '';
    if (message.startsWith('Excessive alias count')) {
      return {
        value: undefined,
        issues: [
          {
            path: '',
            message: `aliases expand to too many values (more than ${MAX_ALIAS_COUNT} alias uses); YAML aliases are limited so that a small file cannot expand into a huge one`,
          },
        ],
      };
    }
    const unresolved = /^Unresolved alias[^:]*: (.+)$/.exec(message);
    if (unresolved) {
      return {
        value: undefined,
        issues: [
          {
            path: at(firstAliasOffset(document, unresolved[1])),
            message: `alias *${unresolved[1]} has no anchor &${unresolved[1]} before it`,
          },
        ],
      };
    }
    if (error instanceof RangeError) {
      return { value: undefined, issues: [{ path: '', message: 'nested too deeply to read' }] };
    }
    return { value: undefined, issues: [{ path: '', message: `could not read: ${describeThrown(error)}` }] };
  }
}

function firstAliasOffset(document: YAML.Document, source: string): number | undefined {
  let offset: number | undefined;
  YAML.visit(document, {
    Alias(_key, node) {
      if (node.source !== source) return undefined;
      offset = node.range?.[0];
      return YAML.visit.BREAK;
    },
  });
  return offset;
}
