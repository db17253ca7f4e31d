import { describeThrown } from './describe-thrown.ts';

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * One line for a TypeScript file (config or journey) that failed to import. esbuild says
 * "Transform failed with 1 error:\n/abs/x.ts:3:9: ERROR: Expected ..."; a throw while
 * loading is located by the file's frame in the stack, when there is one.
 */
export function describeImportError(error: unknown, file: string): string {
  const message = error instanceof Error ? String(error.message) : '';
  const located = new RegExp(`${escapeRegExp(file)}:(\\d+):(\\d+): ERROR: (.*)`).exec(message);
  if (located) return `line ${located[1]}, column ${located[2]}: does not compile: ${located[3]}`;
  let stack = '';
  try {
    stack = error instanceof Error ? String(error.stack ?? '') : '';
  } catch {
    stack = '';
  }
  const frame = stack
    .split('\n')
    .map((line) => new RegExp(`${escapeRegExp(file)}:(\\d+):(\\d+)`).exec(line))
    .find(Boolean);
  if (frame) return `line ${frame[1]}: threw while loading: ${describeThrown(error)}`;
  if (!(error instanceof Error)) return `threw while loading: ${describeThrown(error)}`;
  return `could not load: ${describeThrown(error)}`;
}
