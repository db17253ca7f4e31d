/** Public API for config files and journeys: `import { defineConfig } from 'pathwatch'`. */

export type { ConfigInput } from './config/config-schema.ts';
export { defineConfig } from './config/define-config.ts';
export type { JourneyContext, JourneyDefinition, StepFunction, StepOptions } from './journeys/journey.ts';
export { journey } from './journeys/journey.ts';
export type { ErrorClass, RunResult, RunStatus } from './results/run-result.ts';
