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

  constructor(
    readonly file: string,
    readonly issues: ConfigIssue[],
  ) {
    super(
      `${file}: ${issues.length} problem${issues.length === 1 ? '' : 's'}\n${issues
        .map((issue) => `  ${issue.path ? `${issue.path}: ` : ''}${issue.message}`)
        .join('\n')}`,
    );
  }
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
