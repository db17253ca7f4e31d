#!/usr/bin/env node
// pathwatch runs from its TypeScript sources: QA's journeys and config files are
// TypeScript too, so one loader (tsx) serves both and there is no build step to forget.
import { register } from 'tsx/esm/api';

register();
await import('../workers/cli.ts');
