import { type Logger, pino } from 'pino';

export type { Logger };

/**
 * JSON lines, one per event (Fastify's own logger). Credentials never reach a log line:
 * authorization headers are redacted here, secret values are masked where they arise.
 */
export function createLogger(component: string, level = process.env.PATHWATCH_LOG_LEVEL ?? 'info'): Logger {
  return pino({
    level,
    base: { component },
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', '*.password'], censor: '***' },
  });
}
