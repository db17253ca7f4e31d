import type { ConfigInput } from './config-schema.ts';

/**
 * Typed identity for `pathwatch.config.ts`: editors complete and check every field, and
 * the same zod schema as for YAML validates it at load time.
 */
export function defineConfig(config: ConfigInput): ConfigInput {
  return config;
}
