/** `template` with each `{name}` replaced by `values[name]` (left as is when not given). */
export function fillIn(template: string, values: Record<string, string | number> = {}): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    values[name] === undefined ? whole : String(values[name]),
  );
}
