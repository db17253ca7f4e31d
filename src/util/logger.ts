import { type Logger, pino } from 'pino';
import { processSecretMasker } from '../config/secret-masker.ts';

export type { Logger };

/**
 * JSON lines, one per event (Fastify's own logger). Credentials never reach a log line:
 * authorization headers are redacted by path, and every finished line passes through the
 * process's secret masker, so a secret (or its JSON-, URL- or base64-encoded form) is
 * masked whatever field or message carries it.
 */
export function createLogger(component: string, level = process.env.PATHWATCH_LOG_LEVEL ?? 'info'): Logger {
  return pino({
    level,
    base: { component },
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', '*.password'], censor: '***' },
    hooks: { streamWrite: (line) => processSecretMasker.mask(line) },
  });
}
