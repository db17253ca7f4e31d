import { z } from 'zod';
import { expected } from '../../config/zod-helpers.ts';

/**
 * A regular expression given as its source text (`^/pricing`), checked at load time so a
 * typo is a config error with the reason, not a crash in every run.
 */
export function regexSource() {
  return z
    .string({ error: expected('a regular expression such as "^/docs/"') })
    .superRefine((source, ctx) => {
      try {
        new RegExp(source);
      } catch (error) {
        ctx.addIssue({
          code: 'custom',
          message: `not a valid regular expression: ${JSON.stringify(source)} (${(error as Error).message})`,
        });
      }
    });
}
