/** One problem in a config file: where (`checks[3].timeout`) and what. */
export interface ConfigIssue {
  path: string;
  message: string;
}

/**
 * Every problem found in a config, reported together so an operator fixes them in one
 * pass. Unrecoverable: a job that hits it must not be retried.
 */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  readonly issues: ConfigIssue[];

  constructor(
    readonly file: string,
    issues: ConfigIssue[],
  ) {
    // Every problem stays one readable line, whatever key or value it quotes.
    issues = issues.map((issue) => ({
      path: oneLine(issue.path, MAX_PATH_LENGTH),
      message: oneLine(issue.message, MAX_MESSAGE_LENGTH),
    }));
    super(
      `${file}: ${issues.length} problem${issues.length === 1 ? '' : 's'}\n${issues
        .map((issue) => `  ${issue.path ? `${issue.path}: ` : ''}${issue.message}`)
        .join('\n')}`,
    );
    this.issues = issues;
  }
}

/** Longest path and message kept in a problem line (600 with the ": " between them); a 100 KB key or value is cut, not printed. */
const MAX_PATH_LENGTH = 200;
const MAX_MESSAGE_LENGTH = 398;

/** Control characters escaped (a newline in a key must not start a new line), then cut to `max`. */
function oneLine(text: string, max: number): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: escaping them is the point
  const escaped = text.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (char) =>
    char === '\n' ? '\\n' : `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return escaped.length > max ? `${escaped.slice(0, max - 1)}…` : escaped;
}

/** `['checks', 3, 'timeout']` → `checks[3].timeout`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (typeof segment === 'string' && /^[A-Za-z_$][\w$-]*$/.test(segment))
      text += text ? `.${segment}` : segment;
    else text += `[${JSON.stringify(String(segment))}]`;
  }
  return text;
}
