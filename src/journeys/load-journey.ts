import { existsSync } from 'node:fs';
import { relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { type ConfigIssue, formatPath } from '../config/config-error.ts';
import { secretRef } from '../config/secret-resolver.ts';
import { duration, identifier, strictObject } from '../config/zod-helpers.ts';
import type { JourneyDefinition } from './journey.ts';

/** Longest a journey may run: a checkout is minutes, not hours. */
export const MAX_JOURNEY_TIMEOUT_MS = 600_000;
export const DEFAULT_JOURNEY_TIMEOUT_MS = 60_000;

const journeySchema = strictObject({
  id: identifier('journey'),
  name: z.string().min(1).optional(),
  interval: duration({ min: 10_000, max: 86_400_000 }).optional(),
  locations: z.array(identifier('location')).min(1).optional(),
  timeout: duration({ min: 1000, max: MAX_JOURNEY_TIMEOUT_MS }).optional(),
  tags: z.array(z.string()).optional(),
  params: z.record(z.string(), z.unknown()).optional(),
  secrets: z.record(z.string(), secretRef()).optional(),
  run: z.custom<JourneyDefinition['run']>((value) => typeof value === 'function', {
    error: 'required, expected an async function run({ page, step, expect, … })',
  }),
});

/** A journey file, validated: durations in ms, the body as written. */
export interface LoadedJourney {
  file: string;
  id: string;
  name: string;
  interval?: number;
  locations?: string[];
  timeout: number;
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
      issues.length === 1 && !issues[0].path
        ? `${file}: ${issues[0].message}`
        : `${file}: ${issues.length} problem${issues.length === 1 ? '' : 's'}\n${issues.map((issue) => `  ${issue.path}: ${issue.message}`).join('\n')}`,
    );
  }
}

/** esbuild: "Transform failed with 1 error:\n/abs/x.journey.ts:3:9: ERROR: Expected ...". */
function describeImportError(error: unknown, file: string): string {
  const message = (error as Error)?.message ?? String(error);
  const located = new RegExp(
    `${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:(\\d+):(\\d+): ERROR: (.*)`,
  ).exec(message);
  if (located) return `line ${located[1]}, column ${located[2]}: does not compile: ${located[3]}`;
  const frame = ((error as Error)?.stack ?? '')
    .split('\n')
    .map((line) => new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:(\\d+):(\\d+)`).exec(line))
    .find(Boolean);
  const first = message.split('\n')[0];
  return frame ? `line ${frame[1]}: threw while loading: ${first}` : `could not load: ${first}`;
}

export async function loadJourney(file: string): Promise<LoadedJourney> {
  const shown = relative(process.cwd(), file) || file;
  if (!existsSync(file)) throw new JourneyLoadError(shown, [{ path: '', message: 'file not found' }]);
  let module: Record<string, unknown>;
  try {
    const { tsImport } = await import('tsx/esm/api');
    module = (await tsImport(pathToFileURL(file).href, import.meta.url)) as Record<string, unknown>;
  } catch (error) {
    throw new JourneyLoadError(shown, [{ path: '', message: describeImportError(error, file) }]);
  }
  const exported = module.default ?? module.journey;
  if (exported === undefined || exported === null || typeof exported !== 'object') {
    throw new JourneyLoadError(shown, [
      {
        path: '',
        message:
          'exports no journey; write `export default journey({ id, run: async ({ page, step }) => { … } })`',
      },
    ]);
  }
  const parsed = journeySchema.safeParse(exported);
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
    tags: definition.tags ?? [],
    params: definition.params ?? {},
    secretRefs: definition.secrets ?? {},
    run: definition.run,
  };
}
