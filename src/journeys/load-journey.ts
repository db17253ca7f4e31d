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
import { esModuleView } from './es-module-view.ts';
import type { JourneyDefinition } from './journey.ts';
import {
  journeyContextOptionsSchema,
  type LoadedContextOptions,
  resolveContextOptions,
} from './journey-context-options.ts';

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
  use: journeyContextOptionsSchema.optional(),
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
  /** Browser context options; a storageState file as an absolute path. */
  use?: LoadedContextOptions;
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

/** Every journey a file exports, each validated; all problems of the file reported together. */
export async function loadJourneyFile(file: string): Promise<LoadedJourney[]> {
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
  // A journey in a CommonJS package arrives wrapped in `{ default: module.exports }`.
  module = esModuleView(module);
  let exported: unknown;
  try {
    exported = module.default ?? module.journey;
  } catch (error) {
    throw new JourneyLoadError(shown, [
      { path: '', message: `its export could not be read: ${describeThrown(error)}` },
    ]);
  }
  // Several journeys a file: an exported array (`journey.each`, a map over a list) and
  // named exports holding a journey or an array of them, besides the default one.
  const candidates: Array<{ where: string; value: unknown }> = [];
  const addCandidates = (where: string, value: unknown) => {
    if (Array.isArray(value))
      for (const [index, item] of value.entries())
        candidates.push({ where: `${where}[${index}]`, value: item });
    else candidates.push({ where, value });
  };
  if (exported !== undefined && exported !== null) addCandidates('', exported);
  for (const name of Object.keys(module)) {
    if (name === 'default' || name === 'journey') continue;
    let value: unknown;
    try {
      value = module[name];
    } catch {
      continue;
    }
    if (
      looksLikeJourney(value) ||
      (Array.isArray(value) && value.length > 0 && value.every(looksLikeJourney))
    )
      addCandidates(name, value);
  }
  if (
    candidates.length === 0 ||
    candidates.some(({ value }) => value === null || typeof value !== 'object')
  ) {
    throw new JourneyLoadError(shown, [
      {
        path: '',
        message:
          'exports no journey; write `export default journey({ id, run: async ({ page, step }) => { … } })` (or, in a CommonJS file, `module.exports = journey({ … })`)',
      },
    ]);
  }
  const journeys: LoadedJourney[] = [];
  const issues: ConfigIssue[] = [];
  for (const { where, value } of candidates) {
    const prefix = (path: string) => (where ? (path ? `${where}.${path}` : where) : path);
    let parsed: ReturnType<typeof journeySchema.safeParse>;
    try {
      parsed = journeySchema.safeParse(value);
    } catch (error) {
      // A getter or proxy trap in the exported object threw while it was read.
      throw new JourneyLoadError(shown, [
        { path: where, message: `the journey could not be read: ${describeThrown(error)}` },
      ]);
    }
    if (!parsed.success) {
      for (const issue of parsed.error.issues)
        issues.push({ path: prefix(formatPath(issue.path)) || '(journey)', message: issue.message });
      continue;
    }
    const definition = parsed.data;
    const use = resolveContextOptions(definition.use, file, (path, message) =>
      issues.push({ path: prefix(`use.${path}`), message }),
    );
    if (journeys.some((other) => other.id === definition.id)) {
      issues.push({ path: prefix('id'), message: `duplicate id "${definition.id}" in this file` });
      continue;
    }
    journeys.push({
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
      use,
      run: definition.run,
    });
  }
  if (issues.length > 0) throw new JourneyLoadError(shown, issues);
  return journeys;
}

/** A named export is taken as a journey only when it looks like one: helpers may be exported too. */
function looksLikeJourney(value: unknown): boolean {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as { run?: unknown }).run === 'function' &&
    typeof (value as { id?: unknown }).id === 'string'
  );
}

/** The file's one journey, or the one with `id` when it exports several. */
export async function loadJourney(file: string, id?: string): Promise<LoadedJourney> {
  const journeys = await loadJourneyFile(file);
  if (id !== undefined) {
    const found = journeys.find((journey) => journey.id === id);
    if (!found) {
      throw new JourneyLoadError(relative(process.cwd(), file) || file, [
        { path: '', message: `no journey "${id}"; it exports ${journeys.map((j) => j.id).join(', ')}` },
      ]);
    }
    return found;
  }
  if (journeys.length > 1) {
    throw new JourneyLoadError(relative(process.cwd(), file) || file, [
      {
        path: '',
        message: `exports ${journeys.length} journeys (${journeys.map((j) => j.id).join(', ')}); name one by id`,
      },
    ]);
  }
  return journeys[0];
}
