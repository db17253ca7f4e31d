/** Longest thrown message repeated in a problem line. */
const MAX_LENGTH = 200;

/**
 * One line for whatever a config or journey threw: an Error's first message line, or the
 * thrown value itself (`throw 42` → "42"), never a stack. Safe on values whose own
 * `message` or `toString` throws.
 */
export function describeThrown(thrown: unknown): string {
  let text: string;
  try {
    if (thrown instanceof Error) {
      text = `${thrown.name && thrown.name !== 'Error' ? `${thrown.name}: ` : ''}${String(thrown.message)}`;
    } else if (typeof thrown === 'string') {
      text = `the string ${JSON.stringify(thrown)}`;
    } else {
      text = `the value ${typeof thrown === 'bigint' ? `${thrown}n` : String(thrown)}`;
    }
  } catch {
    text = 'a value that cannot be shown';
  }
  const line = text.split('\n')[0].trim() || '(no message)';
  return line.length > MAX_LENGTH ? `${line.slice(0, MAX_LENGTH)}…` : line;
}
