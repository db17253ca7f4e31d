import { z } from 'zod';
import { closestMatch } from '../util/closest-match.ts';
import { expected, showValue } from './zod-helpers.ts';

/** Why `zone` is not an IANA time zone this Node knows, or undefined when it is one. */
export function timezoneProblem(zone: string): string | undefined {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return undefined;
  } catch {
    const suggestion = closestMatch(zone, Intl.supportedValuesOf('timeZone'));
    return `expected an IANA time zone such as "UTC", "Europe/Berlin" or "Asia/Tokyo", got ${showValue(zone)}${suggestion ? `, did you mean "${suggestion}"?` : ''}`;
  }
}

/** A `timezone` setting: an IANA zone Node knows (a near miss is suggested), UTC by default. */
export function timeZoneSetting(description: string) {
  return z
    .string({ error: expected('an IANA time zone such as "Asia/Tokyo"') })
    .superRefine((zone, ctx) => {
      const problem = timezoneProblem(zone);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .default('UTC')
    .describe(description);
}
