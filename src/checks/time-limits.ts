import { duration } from '../config/zod-helpers.ts';
import type { AssertionResult } from '../results/run-result.ts';

/**
 * Two optional limits on one measured time, in ms: over `max` fails the run, over
 * `degraded` only degrades it (dns `maxResponseTime`/`degradedResponseTime`, ping
 * `maxRtt`/`degradedRtt`). Spread into a settings shape; each field keeps its own text.
 */
export function timeLimitFields<const Max extends string, const Degraded extends string>(
  max: { name: Max; description: string },
  degraded: { name: Degraded; description: string },
) {
  const limit = (description: string) => duration({ min: 1 }).optional().describe(description);
  return { [max.name]: limit(max.description), [degraded.name]: limit(degraded.description) } as Record<
    Max | Degraded,
    ReturnType<typeof limit>
  >;
}

/**
 * The assertions for `timeLimitFields`: one for `max` when set, and a degraded one when the
 * time is over `degraded`. `name(limit)` names both (the degraded one adds "(degraded limit)");
 * `shownMs` is the time as the result shows it (rounded or not, as the kind reports it).
 */
export function timeLimitAssertions(
  ms: number,
  shownMs: number,
  limits: { max?: number; degraded?: number },
  name: (limit: number) => string,
): AssertionResult[] {
  const results: AssertionResult[] = [];
  const actual = `${shownMs} ms`;
  if (limits.max !== undefined)
    results.push({ name: name(limits.max), ok: ms <= limits.max, expected: `<= ${limits.max} ms`, actual });
  if (limits.degraded !== undefined && ms > limits.degraded)
    results.push({
      name: `${name(limits.degraded)} (degraded limit)`,
      ok: false,
      degraded: true,
      expected: `<= ${limits.degraded} ms`,
      actual,
    });
  return results;
}
