import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import type { CheckConfig } from '../checks/registry.ts';
import { inConfigDir } from './config-dir-scope.ts';
import { ConfigError, type ConfigIssue, formatPath } from './config-error.ts';
import { configSchema, type ParsedConfig } from './config-schema.ts';
import { crossCheckConfig } from './cross-checks.ts';
import { importConfigModule } from './import-config-module.ts';
import { parseYamlText } from './parse-yaml-text.ts';
import { toPlainConfigValue } from './plain-config-value.ts';
import { type ItemSettings, resolveItemSettings } from './resolve-item-settings.ts';
import { schemaIssueLines } from './schema-issue-lines.ts';
import { SecretResolver } from './secret-resolver.ts';

/** Looked for, in this order, when no `--config` is given. */
export const DEFAULT_CONFIG_FILES = ['pathwatch.config.ts', 'pathwatch.config.yaml', 'pathwatch.config.yml'];

/** A check with every default applied (as for journeys): what the scheduler and workers run. */
export type ResolvedCheck = CheckConfig & ItemSettings;

export interface LoadedConfig {
  /** Absolute path of the config file. */
  file: string;
  dir: string;
  /** Absolute. */
  dataDir: string;
  settings: ParsedConfig;
  checks: ResolvedCheck[];
  locations: string[];
  secrets: SecretResolver;
}

export function findConfigFile(explicit: string | undefined, cwd = process.cwd()): string {
  if (explicit) return resolve(cwd, explicit);
  if (process.env.PATHWATCH_CONFIG) return resolve(cwd, process.env.PATHWATCH_CONFIG);
  for (const name of DEFAULT_CONFIG_FILES) {
    const candidate = resolve(cwd, name);
    if (existsSync(candidate)) return candidate;
  }
  throw new ConfigError(resolve(cwd, DEFAULT_CONFIG_FILES[0]), [
    {
      path: '',
      message: `no config file found; create ${DEFAULT_CONFIG_FILES.join(' or ')}, or pass --config FILE`,
    },
  ]);
}

export interface LoadConfigOptions {
  /** Longest a TS config may take to load (default CONFIG_IMPORT_DEADLINE_MS). */
  importDeadlineMs?: number;
}

/**
 * Reads, validates and resolves a config file; throws ConfigError listing every problem.
 * Whatever the file holds, this ends in bounded time with a config or a ConfigError.
 */
export async function loadConfig(
  file: string,
  env: Record<string, string | undefined> = process.env,
  options: LoadConfigOptions = {},
): Promise<LoadedConfig> {
  const raw = await readRawConfig(file, options);
  return parseConfig(raw, file, env, { checkFiles: true });
}

/**
 * Validates a loaded config value. The value is first copied into plain data
 * (`toPlainConfigValue`), so that zod, the cross-checks and every message after it walk a
 * finite tree of plain values whatever the file exported.
 */
export async function parseConfig(
  input: unknown,
  file: string,
  env: Record<string, string | undefined> = process.env,
  options: { checkFiles?: boolean } = {},
): Promise<LoadedConfig> {
  const dir = dirname(file);
  const { value: raw, issues: shapeIssues } = toPlainConfigValue(input);
  // Past a getter that throws or a cycle the tree is not the one written: say only that.
  if (shapeIssues.length > 0) throw new ConfigError(file, shapeIssues);
  const issues: ConfigIssue[] = [];
  const secretsFile = (raw as { secretsFile?: unknown } | null)?.secretsFile;
  let fileSecrets: Record<string, string> = {};
  if (typeof secretsFile === 'string') {
    const read = await readSecretsFile(resolve(dir, secretsFile));
    fileSecrets = read.secrets;
    issues.push(...read.issues);
  }
  const secrets = new SecretResolver(
    env,
    fileSecrets,
    typeof secretsFile === 'string' ? secretsFile : undefined,
  );
  // Files the config names (CA bundles) are checked on disk when `file` is a real config
  // file; a value built in code with a nominal path is validated as data only.
  const parsed = options.checkFiles
    ? inConfigDir(dir, () => configSchema.safeParse(raw))
    : configSchema.safeParse(raw);
  if (!parsed.success) issues.push(...schemaIssueLines(parsed.error.issues, raw));
  issues.push(...crossCheckConfig(raw, secrets));
  if (!parsed.success || issues.length > 0) throw new ConfigError(file, sortIssues(issues));
  secrets.registerAll(raw);
  const settings = parsed.data;
  const locations = Object.keys(settings.locations);
  const checks = settings.checks.map(
    (check): ResolvedCheck => ({ ...check, ...resolveItemSettings(check, settings.defaults, locations) }),
  );
  return { file, dir, dataDir: resolve(dir, settings.dataDir), settings, checks, locations, secrets };
}

/** Problems in file order: by path, numerically for indexes. */
function sortIssues(issues: ConfigIssue[]): ConfigIssue[] {
  const key = (path: string) =>
    path.replace(/\[(\d+)\]/g, (_whole, index: string) => `[${index.padStart(6, '0')}]`);
  return [...issues].sort((a, b) => (key(a.path) < key(b.path) ? -1 : key(a.path) > key(b.path) ? 1 : 0));
}

async function readRawConfig(file: string, options: LoadConfigOptions): Promise<unknown> {
  if (!existsSync(file)) throw new ConfigError(file, [{ path: '', message: 'file not found' }]);
  const extension = extname(file);
  if (extension === '.yaml' || extension === '.yml' || extension === '.json') {
    const parsed = parseYamlText(await readTextFile(file, file, ''));
    if (parsed.issues.length > 0) throw new ConfigError(file, parsed.issues);
    return parsed.value;
  }
  if (['.ts', '.mts', '.js', '.mjs'].includes(extension)) {
    const imported = await importConfigModule(file, options.importDeadlineMs);
    if (imported.issues.length > 0) throw new ConfigError(file, imported.issues);
    return imported.value;
  }
  throw new ConfigError(file, [
    { path: '', message: `unsupported config type "${extension}"; use .ts, .yaml or .yml` },
  ]);
}

async function readTextFile(path: string, configFile: string, field: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(configFile, [
      {
        path: field,
        message: `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}`,
      },
    ]);
  }
}

/** A YAML map of NAME: value. Problems are the `secretsFile` field's, reported with the rest. */
async function readSecretsFile(
  path: string,
): Promise<{ secrets: Record<string, string>; issues: ConfigIssue[] }> {
  const problem = (message: string) => ({ secrets: {}, issues: [{ path: 'secretsFile', message }] });
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    return problem(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}`);
  }
  const parsed = parseYamlText(text);
  if (parsed.issues.length > 0) {
    // Never echo the file's text: it holds the secrets.
    return {
      secrets: {},
      issues: parsed.issues.map((issue) => ({
        path: 'secretsFile',
        message: `${path}${issue.path ? ` ${issue.path}` : ''}: ${issue.message}`,
      })),
    };
  }
  const values = parsed.value;
  if (values === null || typeof values !== 'object' || Array.isArray(values)) {
    return problem(`${path} must be a YAML map of NAME: value`);
  }
  const secrets: Record<string, string> = {};
  const issues: ConfigIssue[] = [];
  for (const [name, value] of Object.entries(values)) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      secrets[name] = String(value);
    } else {
      const got = value === null ? 'no value' : Array.isArray(value) ? 'a list' : 'a map';
      issues.push({
        path: 'secretsFile',
        message: `${path}: ${formatPath([name])} must be a single value (a string), got ${got}`,
      });
    }
  }
  return { secrets, issues };
}
