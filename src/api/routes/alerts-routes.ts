import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { ALERT_EVENT_KINDS } from '../../alerts/alert-event.ts';
import { ALERT_DELIVERY_STATES, type AlertStatusStore } from '../../alerts/alert-status-store.ts';
import { integerParam, textParam } from '../query-params.ts';
import { API_V1_ERRORS, errorResponses } from '../schemas/api-error-schema.ts';

const alertsQuery = z.object({
  check: textParam(100).optional().describe("Only this check's or journey's alerts"),
  limit: integerParam(1, 500).optional().describe('At most this many (default 50)'),
});

/** What GET /api/v1/alerts answers. */
export const alertsListSchema = z.strictObject({
  alerts: z.array(
    z.strictObject({
      key: z
        .string()
        .describe(
          'Idempotency key: `<incidentId>.<kind>[.<n>].<list>.<channel>`, `report.<YYYY-MM>.<list>.<channel>`…',
        ),
      kind: z.enum(ALERT_EVENT_KINDS),
      checkId: z
        .string()
        .optional()
        .describe('The check or journey (none for a maintenance notice, digest or report)'),
      incidentId: z.string().optional(),
      list: z.string().describe('The recipient list'),
      channel: z.enum(['email', 'webhook']),
      state: z.enum(ALERT_DELIVERY_STATES),
      reason: z.string().optional().describe('Why it was held, skipped or folded'),
      attempts: z.number().int().describe('Delivery attempts made so far'),
      lastError: z.string().optional().describe('Why the last attempt failed'),
      response: z.string().optional().describe("The mail server's reply once it accepted the alert"),
      messageId: z.string().optional(),
      queuedAt: z.number().describe('Epoch ms'),
      updatedAt: z.number().describe('Epoch ms'),
      sentAt: z.number().optional().describe('Epoch ms'),
      nextAttemptAt: z.number().optional().describe('When the next attempt is due (retrying), epoch ms'),
    }),
  ),
});

export interface AlertsRoutesOptions {
  statuses: AlertStatusStore;
}

/** Each alert's delivery status, newest first: did the DOWN mail go out, and what did the server say. */
export const alertsRoutes: FastifyPluginAsync<AlertsRoutesOptions> = async (app, { statuses }) => {
  app.get<{ Querystring: z.output<typeof alertsQuery> }>(
    '/api/v1/alerts',
    {
      config: { role: 'operator' },
      schema: {
        tags: ['alerts'],
        summary: 'Alerts and their delivery status (queued, retrying, sent, failed), newest first (operator)',
        querystring: alertsQuery,
        response: { 200: alertsListSchema, ...errorResponses(API_V1_ERRORS) },
      },
    },
    async (request) => ({ alerts: await statuses.list(request.query.limit ?? 50, request.query.check) }),
  );
};
