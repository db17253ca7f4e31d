/** A Prometheus label value escaped as the text format requires (backslash, quote, newline). */
export function metricLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
