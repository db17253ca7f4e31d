import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import YAML from 'yaml';
import type { CheckConfig } from '../checks/registry.ts';
import { ConfigError, type ConfigIssue, formatPath } from './config-error.ts';
import { configSchema, type ParsedConfig } from './config-schema.ts';
import { crossCheckConfig } from './cross-checks.ts';
import { SecretResolver } from './secret-resolver.ts';

/** Looked for, in this order, when no `--config` is given. */
export const DEFAULT_CONFIG_FILES = ['pathwatch.config.ts', 'pathwatch.config.yaml', 'pathwatch.config.yml'];

/** A check with every default applied: what the scheduler and workers run. */
export type ResolvedCheck = CheckConfig & {
  name: string;
  interval: number;
  timeout: number;
  locations: string[];
  enabled: boolean;
  retries: number;
  retryDelay: number;
  downAfter: number;
  upAfter: number;
};

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

/** Reads, validates and resolves a config file; throws ConfigError listing every problem. */
export async function loadConfig(
  file: string,
  env: Record<string, string | undefined> = process.env,
): Promise<LoadedConfig> {
  const raw = await readRawConfig(file);
  return parseConfig(raw, file, env);
}

export async function parseConfig(
  raw: unknown,
  file: string,
  env: Record<string, string | undefined> = process.env,
): Promise<LoadedConfig> {
  const dir = dirname(file);
  const secretsFile = (raw as { secretsFile?: unknown } | null)?.secretsFile;
  const fileSecrets =
    typeof secretsFile === 'string' ? await readSecretsFile(resolve(dir, secretsFile), file) : {};
  const secrets = new SecretResolver(
    env,
    fileSecrets,
    typeof secretsFile === 'string' ? secretsFile : undefined,
  );
  const parsed = configSchema.safeParse(raw);
  const issues: ConfigIssue[] = parsed.success
    ? []
    : parsed.error.issues.map((issue) => {
        const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
        return {
          path: formatPath(keys.length === 1 ? [...issue.path, keys[0]] : issue.path),
          message: issue.message,
        };
      });
  issues.push(...crossCheckConfig(raw, secrets));
  if (!parsed.success || issues.length > 0) throw new ConfigError(file, sortIssues(issues));
  const settings = parsed.data;
  const locations = Object.keys(settings.locations);
  const checks = settings.checks.map(
    (check): ResolvedCheck => ({
      ...check,
      name: check.name ?? check.id,
      interval: check.interval ?? settings.defaults.interval,
      timeout: check.timeout ?? settings.defaults.timeout,
      locations: check.locations ?? settings.defaults.locations ?? locations,
      enabled: check.enabled ?? true,
      retries: check.retries ?? settings.defaults.retries,
      retryDelay: check.retryDelay ?? settings.defaults.retryDelay,
      downAfter: check.downAfter ?? settings.defaults.downAfter,
      upAfter: check.upAfter ?? settings.defaults.upAfter,
    }),
  );
  return { file, dir, dataDir: resolve(dir, settings.dataDir), settings, checks, locations, secrets };
}

/** Problems in file order: by path, numerically for indexes. */
function sortIssues(issues: ConfigIssue[]): ConfigIssue[] {
  const key = (path: string) =>
    path.replace(/\[(\d+)\]/g, (_whole, index: string) => `[${index.padStart(6, '0')}]`);
  return [...issues].sort((a, b) => (key(a.path) < key(b.path) ? -1 : key(a.path) > key(b.path) ? 1 : 0));
}

async function readRawConfig(file: string): Promise<unknown> {
  if (!existsSync(file)) throw new ConfigError(file, [{ path: '', message: 'file not found' }]);
  const extension = extname(file);
  if (extension === '.yaml' || extension === '.yml' || extension === '.json') {
    const text = await readFile(file, 'utf8');
    const document = YAML.parseDocument(text, { prettyErrors: true });
    if (document.errors.length > 0) {
      throw new ConfigError(
        file,
        document.errors.map((error) => ({
          path: error.linePos ? `line ${error.linePos[0].line}, column ${error.linePos[0].col}` : '',
          message: error.message.split('\n')[0],
        })),
      );
    }
    return document.toJS();
  }
  if (['.ts', '.mts', '.js', '.mjs'].includes(extension)) {
    const { tsImport } = await import('tsx/esm/api');
    let module: { default?: unknown };
    try {
      module = (await tsImport(pathToFileURL(file).href, import.meta.url)) as { default?: unknown };
    } catch (error) {
      throw new ConfigError(file, [
        { path: '', message: `could not load: ${(error as Error).message.split('\n')[0]}` },
      ]);
    }
    if (module.default === undefined) {
      throw new ConfigError(file, [
        { path: '', message: 'has no default export; write `export default defineConfig({...})`' },
      ]);
    }
    return module.default;
  }
  throw new ConfigError(file, [
    { path: '', message: `unsupported config type "${extension}"; use .ts, .yaml or .yml` },
  ]);
}

async function readSecretsFile(path: string, configFile: string): Promise<Record<string, string>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(configFile, [
      { path: 'secretsFile', message: `cannot read ${path}: ${(error as NodeJS.ErrnoException).code}` },
    ]);
  }
  const values = YAML.parse(text) as unknown;
  if (values === null || typeof values !== 'object' || Array.isArray(values)) {
    throw new ConfigError(configFile, [
      { path: 'secretsFile', message: `${path} must be a YAML map of NAME: value` },
    ]);
  }
  return Object.fromEntries(Object.entries(values).map(([name, value]) => [name, String(value)]));
}
