/** A `--param` that is not `key=value`: one line for the usage error (exit 2). */
export class RunParamError extends Error {}

/**
 * `--param k=v` values, repeatable, as a journey's `params` overrides. A value is JSON when it
 * parses as JSON (`--param retries=3`, `--param tags='["a"]'`), else the string as given
 * (`--param region=eu`), so a URL or a plain word needs no quoting.
 */
export function parseRunParams(values: readonly string[]): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const raw of values) {
    const equals = raw.indexOf('=');
    const key = equals > 0 ? raw.slice(0, equals).trim() : '';
    if (!key || !/^[A-Za-z_$][\w$.-]*$/.test(key)) {
      throw new RunParamError(
        `--param "${raw}": expected key=value, e.g. --param shopUrl=http://127.0.0.1:4601`,
      );
    }
    const text = raw.slice(equals + 1);
    let value: unknown = text;
    try {
      value = JSON.parse(text);
    } catch {
      // not JSON: the string as given
    }
    params[key] = value;
  }
  return params;
}
