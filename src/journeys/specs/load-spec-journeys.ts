import { existsSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import type { ConfigIssue } from '../../config/config-error.ts';
import type { LoadedConfig } from '../../config/load-config.ts';
import { resolveItemSettings } from '../../config/resolve-item-settings.ts';
import { DEFAULT_JOURNEY_TIMEOUT_MS } from '../load-journey.ts';
import { type ListedSpecTest, listSpecTests } from './list-spec-tests.ts';
import {
  PATHWATCH_ANNOTATION,
  type PathwatchAnnotation,
  parsePathwatchAnnotation,
} from './parse-pathwatch-annotation.ts';
import type { ResolvedSpecJourney } from './spec-journey.ts';

/** A stable id from a test's file (without `.spec.ts`) and titles: `checkout-buys-a-mug`. */
export function specTestSlug(relativeFile: string, titles: string[]): string {
  const file = relativeFile.replace(/(\.(spec|test))?\.[cm]?[jt]sx?$/, '');
  return [file, ...titles]
    .join('-')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 100)
    .replace(/-+$/, '');
}

function notRunnable(): never {
  throw new Error('a Playwright Test spec journey runs through runSpecTest, not run()');
}

/**
 * Every test of every `playwright` suite the config names, as journeys: listed (not run)
 * through Playwright Test, filtered by tags, each with an id (annotation, or its file and
 * titles), the entry's and its annotation's settings, and the config's defaults. Problems
 * (missing config file, failed listing, bad annotation, id clash, undeclared location) are
 * returned together, each with its path.
 */
export async function loadSpecJourneys(
  config: LoadedConfig,
  takenIds: ReadonlySet<string>,
): Promise<{ journeys: ResolvedSpecJourney[]; issues: ConfigIssue[] }> {
  const journeys: ResolvedSpecJourney[] = [];
  const issues: ConfigIssue[] = [];
  const owners = new Map<string, string>();
  for (const [index, entry] of (config.settings.playwright ?? []).entries()) {
    const path = `playwright[${index}]`;
    const configFile = resolve(config.dir, entry.config);
    if (!existsSync(configFile)) {
      issues.push({
        path: `${path}.config`,
        message: `"${entry.config}" does not exist (looked for ${configFile})`,
      });
      continue;
    }
    let tests: ListedSpecTest[];
    try {
      tests = await listSpecTests(configFile, { projects: entry.projects, grep: entry.grep });
    } catch (error) {
      issues.push({ path: `${path}.config`, message: (error as Error).message });
      continue;
    }
    const wanted = entry.tags?.map((tag) => tag.toLowerCase());
    const tagsOf = (test: ListedSpecTest) =>
      test.tags.map((tag) => (tag.startsWith('@') ? tag : `@${tag}`).toLowerCase());
    const selected = wanted
      ? tests.filter((test) => tagsOf(test).some((tag) => wanted.includes(tag)))
      : tests;
    if (selected.length === 0) {
      issues.push({
        path,
        message: `${relative(config.dir, configFile)} lists no test${wanted || entry.grep ? ' matching its grep/tags' : ''}`,
      });
      continue;
    }
    const projectCount = new Set(selected.map((test) => test.project)).size;
    for (const test of selected) {
      const where = `${relative(config.dir, test.file)}:${test.line} "${test.titlePath.join(' › ')}"${projectCount > 1 ? ` [${test.project}]` : ''}`;
      let annotation: PathwatchAnnotation = {};
      try {
        for (const found of test.annotations.filter((item) => item.type === PATHWATCH_ANNOTATION))
          annotation = { ...annotation, ...parsePathwatchAnnotation(found.description) };
      } catch (error) {
        issues.push({ path: `${path} ${where}`, message: (error as Error).message });
        continue;
      }
      const id =
        annotation.id ??
        specTestSlug(test.relativeFile, [...test.titlePath, ...(projectCount > 1 ? [test.project] : [])]);
      const clash = owners.get(id) ?? (takenIds.has(id) ? 'a check or journey' : undefined);
      if (clash) {
        issues.push({
          path: `${path} ${where}`,
          message: `duplicate id "${id}", already used by ${clash} (set one with the annotation { type: '${PATHWATCH_ANNOTATION}', description: 'id=…' })`,
        });
        continue;
      }
      owners.set(id, where);
      const own = {
        id,
        name: test.titlePath.join(' › '),
        interval: annotation.interval ?? entry.interval,
        locations: annotation.locations ?? entry.locations,
        timeout: annotation.timeout ?? entry.timeout ?? DEFAULT_JOURNEY_TIMEOUT_MS,
        retries: entry.retries,
      };
      const settings = resolveItemSettings(own, config.settings.defaults, config.locations);
      for (const location of settings.locations) {
        if (!config.locations.includes(location))
          issues.push({
            path: `${path} ${where}`,
            message: `location "${location}" is not declared in locations (declared: ${config.locations.join(', ')})`,
          });
      }
      const secretNames = Object.keys(entry.secrets ?? {});
      journeys.push({
        file: test.file,
        tags: tagsOf(test),
        params: { ...(entry.params ?? {}) },
        secretRefs: { ...(entry.secrets ?? {}) },
        run: notRunnable,
        ...own,
        ...settings,
        kind: 'journey',
        spec: {
          configFile,
          file: test.file,
          line: test.line,
          titlePath: test.titlePath,
          project: test.project,
          testId: test.id,
          projectId: test.projectId,
          needsRunner: test.needsRunner,
          secretNames,
        },
      });
    }
  }
  return { journeys, issues };
}
