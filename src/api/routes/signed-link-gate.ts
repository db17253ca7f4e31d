import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { verifyLink } from '../../auth/signed-link.ts';
import { apiError } from '../api-error.ts';
import { textParam } from '../query-params.ts';

/** A signed link's parameters (signed-link.ts); both or neither. */
export const linkQuery = z.object({ exp: textParam(16).optional(), sig: textParam(64).optional() });

/**
 * For a route that opens through a signed link (`config.signedLink`): 403 for a link that
 * is changed, cut short or for another run, 410 for an expired one. Returns the reply when
 * it refused. A link opens one run's evidence, all of it, and nothing else.
 */
export async function refuseInvalidLink(
  reply: FastifyReply,
  linkKey: (() => Promise<Buffer>) | undefined,
  runId: string,
  link: { exp?: string; sig?: string },
): Promise<FastifyReply | undefined> {
  if (!linkKey)
    return reply.code(403).send(apiError('LINK_INVALID', 'this API does not accept signed links'));
  const check = verifyLink(await linkKey(), runId, link.exp, link.sig);
  if (check.ok) return undefined;
  return check.reason === 'expired'
    ? reply
        .code(410)
        .send(
          apiError(
            'LINK_EXPIRED',
            'this link has expired; open the run again from pathwatch, or ask for a new link',
          ),
        )
    : reply
        .code(403)
        .send(apiError('LINK_INVALID', 'this link is not valid (changed, cut short or for another run)'));
}
