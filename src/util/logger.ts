import { type Logger, pino } from 'pino';
import { prettyFactory } from 'pino-pretty';
import { processSecretMasker } from '../config/secret-masker.ts';
import { LogFormatError } from './log-format-error.ts';
import { maskDeep } from './mask-deep.ts';

export type { Logger };

/** `json`: one JSON object a line (pipes, files, journald, docker); `pretty`: short lines for a person. */
export type LogFormat = 'json' | 'pretty';

const LOG_FORMATS: readonly LogFormat[] = ['json', 'pretty'];

const mask = (text: string) => processSecretMasker.mask(text);

/**
 * The format asked for by `PATHWATCH_LOG_FORMAT`, or, unset, the one that suits where
 * stdout (pino's destination) goes: a terminal gets pretty lines, anything else JSON, so
 * what a machine reads stays exactly as it was.
 */
export function logFormatFromEnv(
  value = process.env.PATHWATCH_LOG_FORMAT,
  stdoutIsTerminal = process.stdout.isTTY === true,
): LogFormat {
  if (value === undefined || value === '') return stdoutIsTerminal ? 'pretty' : 'json';
  if ((LOG_FORMATS as readonly string[]).includes(value)) return value as LogFormat;
  // The CLI prints it as one line and exits 2 (workers/cli.ts).
  throw new LogFormatError(
    `pathwatch: PATHWATCH_LOG_FORMAT must be "json" or "pretty" (unset: pretty in a terminal, JSON otherwise), got ${JSON.stringify(value)}`,
  );
}

/** The finished line as an object, or undefined when it is not JSON. */
function parseLine(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

/**
 * Masks every string of a finished JSON line, keys included, and nothing else: masking
 * the raw text would also cut into numbers (a secret "123" turned `"ms":1234` into
 * `"ms":***4`, no longer JSON). A line that is not JSON is masked as text.
 */
function maskLine(line: string): string {
  const parsed = parseLine(line);
  if (parsed === undefined) return mask(line);
  return `${JSON.stringify(maskDeep(parsed, mask))}\n`;
}

/** What the line's start already shows, or nobody in a terminal needs. */
const NOT_FIELDS = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'component']);

/** A value bare when it cannot be misread (`status=fail`), else as a JSON string. */
function fieldValue(value: unknown): string {
  if (typeof value === 'string') return /^[\w.:/@+,*?&%#~=-]+$/.test(value) ? value : JSON.stringify(value);
  if (value === null || typeof value !== 'object') return String(value);
  return JSON.stringify(value);
}

/**
 * `key=value` for each field, nested objects as `req.url=…` (two levels, then JSON); an
 * error's message inline and its stack, if any, on the lines below, as in the JSON.
 */
function fieldsOf(log: Record<string, unknown>): { fields: string[]; stacks: string[] } {
  const fields: string[] = [];
  const stacks: string[] = [];
  const add = (prefix: string, value: unknown, depth: number) => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const record = value as Record<string, unknown>;
      if (typeof record.stack === 'string' && typeof record.message === 'string') {
        fields.push(`${prefix}=${fieldValue(record.message)}`);
        stacks.push(record.stack);
        return;
      }
      if (depth < 2) {
        for (const [key, field] of Object.entries(record)) add(`${prefix}.${key}`, field, depth + 1);
        return;
      }
    }
    fields.push(`${prefix}=${fieldValue(value)}`);
  };
  for (const [key, value] of Object.entries(log)) if (!NOT_FIELDS.has(key)) add(key, value, 0);
  return { fields, stacks };
}

/** Control characters (an escape sequence in a served page's title) must not drive the terminal. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: escaping them is the point
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
const escapeControls = (text: string) =>
  text.replace(CONTROL_CHARACTERS, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);

/**
 * The same line for a person: `[12:00:01] INFO: run finished checkId=shop-health status=fail
 * …`, without pid and hostname. It is formatted in the write hook itself, synchronously and in
 * this process (no worker transport), so a line is written when it is logged and the last
 * ones before exit are not lost. The fields are masked before formatting, as for JSON, and
 * the formatted text once more: it re-encodes values, and nothing may slip through that.
 */
function prettyLineFormatter(): (line: string) => string {
  const prettify = prettyFactory({
    translateTime: 'SYS:HH:MM:ss',
    hideObject: true,
    messageFormat: (log, messageKey, _levelLabel, { colors }) => {
      const { fields, stacks } = fieldsOf(log);
      const message = typeof log[messageKey] === 'string' ? escapeControls(log[messageKey] as string) : '';
      const tail = [fields.length > 0 ? ` ${colors.gray(escapeControls(fields.join(' ')))}` : '']
        .concat(stacks.map((stack) => `\n${colors.gray(escapeControls(stack).replace(/^/gm, '    '))}`))
        .join('');
      return `${message}${tail}`;
    },
  });
  return (line) => {
    const parsed = parseLine(line);
    if (parsed === undefined || parsed === null || typeof parsed !== 'object') return mask(line);
    return mask(prettify(maskDeep(parsed, mask)));
  };
}

/**
 * JSON lines, one per event (Fastify's own logger), or pretty lines in a terminal (see
 * logFormatFromEnv). Credentials never reach a log line in either format: authorization
 * headers are redacted by path, and every finished line passes through the process's secret
 * masker, so a secret (or its JSON-, URL- or base64-encoded form) is masked whatever field or
 * message carries it.
 *
 * @param level - @defaultValue `PATHWATCH_LOG_LEVEL`, else `info`
 * @param format - @defaultValue from `PATHWATCH_LOG_FORMAT` and whether stdout is a terminal
 */
export function createLogger(
  component: string,
  level = process.env.PATHWATCH_LOG_LEVEL ?? 'info',
  format: LogFormat = logFormatFromEnv(),
): Logger {
  return pino({
    level,
    base: { component },
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', '*.password'], censor: '***' },
    hooks: { streamWrite: format === 'pretty' ? prettyLineFormatter() : maskLine },
  });
}
