import { existsSync } from 'node:fs';
import { relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { checkSettings } from '../checks/check-base.ts';
import { type ConfigIssue, formatPath } from '../config/config-error.ts';
import { describeImportError } from '../config/describe-import-error.ts';
import { describeThrown } from '../config/describe-thrown.ts';
import { secretRef } from '../config/secret-resolver.ts';
import { duration, identifier, strictObject } from '../config/zod-helpers.ts';
import type { JourneyDefinition } from './journey.ts';

/** Longest a journey may run: a checkout is minutes, not hours. */
export const MAX_JOURNEY_TIMEOUT_MS = 600_000;
export const DEFAULT_JOURNEY_TIMEOUT_MS = 60_000;
/**
 * Longest a journey file may take to import. A journey holds functions, so it is imported
 * here rather than in a disposable thread; a top-level await that never settles is still
 * reported instead of hanging start-up or `validate`.
 */
export const JOURNEY_IMPORT_DEADLINE_MS = 20_000;

const journeySchema = strictObject({
  id: identifier('journey'),
  name: z.string().min(1).optional(),
  interval: duration({ min: 10_000, max: 86_400_000 }).optional(),
  locations: z.array(identifier('location')).min(1).optional(),
  timeout: duration({ min: 1000, max: MAX_JOURNEY_TIMEOUT_MS }).optional(),
  tags: z.array(z.string()).optional(),
  // The same settings, with the same limits and messages, as a check's (check-base.ts).
  enabled: z.boolean().optional(),
  retries: checkSettings.retries().optional(),
  retryDelay: checkSettings.retryDelay().optional(),
  downAfter: checkSettings.downAfter().optional(),
  upAfter: checkSettings.upAfter().optional(),
  params: z.record(z.string(), z.unknown()).optional(),
  secrets: z.record(z.string(), secretRef()).optional(),
  run: z.custom<JourneyDefinition['run']>((value) => typeof value === 'function', {
    error: 'required, expected an async function run({ page, step, expect, … })',
  }),
});

/**
 * A journey file, validated: durations in ms, the body as written. Settings left unset
 * (interval, locations, retries, …) come from the config's `defaults` (load-journeys.ts).
 */
export interface LoadedJourney {
  file: string;
  id: string;
  name: string;
  interval?: number;
  locations?: string[];
  timeout: number;
  enabled?: boolean;
  retries?: number;
  retryDelay?: number;
  downAfter?: number;
  upAfter?: number;
  tags: string[];
  params: Record<string, unknown>;
  secretRefs: Record<string, string>;
  run: JourneyDefinition['run'];
}

/**
 * A journey file that cannot be used: does not compile, throws on import, exports no
 * journey, or exports an invalid one. The message names the file and, where known, the line.
 */
export class JourneyLoadError extends Error {
  readonly code = 'JOURNEY_INVALID';

  constructor(
    readonly file: string,
    readonly issues: ConfigIssue[],
  ) {
    super(
      issues.length === 1
        ? `${file}: ${issues[0].path ? `${issues[0].path}: ` : ''}${issues[0].message}`
        : `${file}: ${issues.length} problem${issues.length === 1 ? '' : 's'}\n${issues.map((issue) => `  ${issue.path}: ${issue.message}`).join('\n')}`,
    );
  }
}

export async function loadJourney(file: string): Promise<LoadedJourney> {
  const shown = relative(process.cwd(), file) || file;
  if (!existsSync(file)) throw new JourneyLoadError(shown, [{ path: '', message: 'file not found' }]);
  let module: Record<string, unknown>;
  let deadline: NodeJS.Timeout | undefined;
  try {
    const { tsImport } = await import('tsx/esm/api');
    const timedOut = new Promise<never>((_resolve, reject) => {
      deadline = setTimeout(
        () =>
          reject(
            new JourneyLoadError(shown, [
              {
                path: '',
                message: `did not finish loading within ${JOURNEY_IMPORT_DEADLINE_MS / 1000} s (a top-level await that never settles?)`,
              },
            ]),
          ),
        JOURNEY_IMPORT_DEADLINE_MS,
      );
    });
    module = (await Promise.race([tsImport(pathToFileURL(file).href, import.meta.url), timedOut])) as Record<
      string,
      unknown
    >;
  } catch (error) {
    if (error instanceof JourneyLoadError) throw error;
    throw new JourneyLoadError(shown, [{ path: '', message: describeImportError(error, file) }]);
  } finally {
    clearTimeout(deadline);
  }
  let exported: unknown;
  try {
    exported = module.default ?? module.journey;
  } catch (error) {
    throw new JourneyLoadError(shown, [
      { path: '', message: `its export could not be read: ${describeThrown(error)}` },
    ]);
  }
  if (exported === undefined || exported === null || typeof exported !== 'object') {
    throw new JourneyLoadError(shown, [
      {
        path: '',
        message:
          'exports no journey; write `export default journey({ id, run: async ({ page, step }) => { … } })`',
      },
    ]);
  }
  let parsed: ReturnType<typeof journeySchema.safeParse>;
  try {
    parsed = journeySchema.safeParse(exported);
  } catch (error) {
    // A getter or proxy trap in the exported object threw while it was read.
    throw new JourneyLoadError(shown, [
      { path: '', message: `the journey could not be read: ${describeThrown(error)}` },
    ]);
  }
  if (!parsed.success) {
    throw new JourneyLoadError(
      shown,
      parsed.error.issues.map((issue) => ({
        path: formatPath(issue.path) || '(journey)',
        message: issue.message,
      })),
    );
  }
  const definition = parsed.data;
  return {
    file,
    id: definition.id,
    name: definition.name ?? definition.id,
    interval: definition.interval,
    locations: definition.locations,
    timeout: definition.timeout ?? DEFAULT_JOURNEY_TIMEOUT_MS,
    enabled: definition.enabled,
    retries: definition.retries,
    retryDelay: definition.retryDelay,
    downAfter: definition.downAfter,
    upAfter: definition.upAfter,
    tags: definition.tags ?? [],
    params: definition.params ?? {},
    secretRefs: definition.secrets ?? {},
    run: definition.run,
  };
}
