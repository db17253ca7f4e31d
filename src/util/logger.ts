import { type Logger, pino } from 'pino';
import { processSecretMasker } from '../config/secret-masker.ts';
import { maskDeep } from './mask-deep.ts';

export type { Logger };

const mask = (text: string) => processSecretMasker.mask(text);

/**
 * Masks every string of a finished JSON line, keys included, and nothing else: masking
 * the raw text would also cut into numbers (a secret "123" turned `"ms":1234` into
 * `"ms":***4`, no longer JSON). A line that is not JSON is masked as text.
 */
function maskLine(line: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return mask(line);
  }
  return `${JSON.stringify(maskDeep(parsed, mask))}\n`;
}

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
    hooks: { streamWrite: maskLine },
  });
}
