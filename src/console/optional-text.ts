import { z } from 'zod';

/**
 * A query parameter of the console's pages: text up to `max` characters, or none. Empty is
 * allowed: a filter form sends every field, "all" as an empty value; the page checks values.
 */
export const optionalText = (max: number) =>
  z
    .string()
    .max(max, { error: `must be at most ${max} characters` })
    .optional();
