import { z } from 'zod';
import { closestMatch } from '../util/closest-match.ts';
import { httpCheckSchema, httpProbe } from './http.ts';
import type { Probe } from './probe.ts';

/**
 * The ONLY map from check kind to schema and probe. Adding a protocol is one module,
 * one line here; nothing else in pathwatch branches on `kind`.
 */
const registry = {
  http: { schema: httpCheckSchema, probe: httpProbe },
} as const;

export type CheckKind = keyof typeof registry;
export const CHECK_KINDS = Object.keys(registry) as CheckKind[];

const schemas = Object.values(registry).map((entry) => entry.schema);

/** One discriminated union over every kind; a wrong kind lists the kinds that exist. */
export const checkSchema = z.discriminatedUnion('kind', schemas as unknown as [typeof httpCheckSchema], {
  error: (issue) => {
    if (issue.code !== 'invalid_union') return undefined;
    const given = (issue.input as { kind?: unknown } | undefined)?.kind;
    if (given === undefined) return `missing "kind": expected one of ${CHECK_KINDS.join(', ')}`;
    const suggestion = typeof given === 'string' ? closestMatch(given, CHECK_KINDS) : undefined;
    return `unknown kind ${JSON.stringify(given)}, expected one of ${CHECK_KINDS.join(', ')}${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`;
  },
});

export type CheckConfig = z.output<typeof checkSchema>;

export function probeFor(check: CheckConfig): Probe<CheckConfig> {
  return registry[check.kind as CheckKind].probe as Probe<CheckConfig>;
}
