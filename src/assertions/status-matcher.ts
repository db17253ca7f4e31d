import { z } from 'zod';

/**
 * Which HTTP statuses count as success: a number (200), a range string ("200-299"), a
 * class ("2xx"), or a list of any of these.
 */
export const statusSpecSchema = z.union([
  z.number().int().min(100).max(599),
  z.string().regex(/^([1-5]xx|\d{3}(-\d{3})?)$/, {
    error: (issue) => `expected a status such as 200, "200-299" or "2xx", got ${JSON.stringify(issue.input)}`,
  }),
  z
    .array(z.union([z.number().int().min(100).max(599), z.string().regex(/^([1-5]xx|\d{3}(-\d{3})?)$/)]))
    .min(1),
]);
export type StatusSpec = z.infer<typeof statusSpecSchema>;

function matchesOne(status: number, spec: number | string): boolean {
  if (typeof spec === 'number') return status === spec;
  if (spec.endsWith('xx')) return Math.floor(status / 100) === Number(spec[0]);
  const [low, high = low] = spec.split('-').map(Number);
  return status >= low && status <= high;
}

export function statusMatches(status: number, spec: StatusSpec): boolean {
  return Array.isArray(spec) ? spec.some((one) => matchesOne(status, one)) : matchesOne(status, spec);
}

export function describeStatusSpec(spec: StatusSpec): string {
  return Array.isArray(spec) ? spec.join(', ') : String(spec);
}
