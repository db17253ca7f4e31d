import { z } from 'zod';
import { expected } from '../../config/zod-helpers.ts';

/**
 * An address for MAIL FROM / RCPT TO: `local@domain`, no spaces, brackets or line
 * breaks, since it is written into the SMTP command as is.
 */
export function mailbox() {
  return z
    .string({ error: expected('an email address such as "probe@shop.example"') })
    .regex(/^[^\s<>@"]+@[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/, {
      error: (issue) =>
        `expected an email address such as "probe@shop.example", got ${JSON.stringify(issue.input)}`,
    });
}
