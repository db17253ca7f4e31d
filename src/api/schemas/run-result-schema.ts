import { z } from 'zod';
import { ERROR_CODES } from '../../results/error-codes.ts';
import type { RunResult } from '../../results/run-result.ts';

/** RunResult (run-result.ts) as the API answers it; a type check below keeps the two in step. */
const errorClass = z.enum([
  'auth',
  'dns',
  'refused',
  'unreachable',
  'connect_timeout',
  'tls',
  'protocol',
  'assertion',
  'timeout',
  'reset',
  'config',
  'internal',
]);

/** An optional list of objects of `shape`, no other field allowed: a run's assertions, steps, artifacts. */
function optionalListOf<Shape extends z.ZodRawShape>(shape: Shape) {
  return z.array(z.strictObject(shape)).optional();
}

export const runStatusSchema = z.enum(['pass', 'degraded', 'fail', 'error']);

const runErrorSchema = z.strictObject({
  class: errorClass,
  code: z.enum(Object.keys(ERROR_CODES) as [keyof typeof ERROR_CODES]).optional(),
  message: z.string(),
  phase: z.string().optional(),
});

export const runResultSchema = z.strictObject({
  runId: z.string(),
  checkId: z.string(),
  kind: z.string(),
  location: z.string(),
  scheduledAt: z.number().optional().describe('When the scheduler meant the run to start (epoch ms)'),
  startedAt: z.number(),
  finishedAt: z.number(),
  attempt: z.number().int(),
  host: z.string().optional().describe('The worker host that ran it'),
  localPorts: z.array(z.number().int()).optional(),
  timeoutMs: z.number().optional(),
  intervalMs: z.number().optional(),
  status: runStatusSchema,
  phases: z
    .object({ total: z.number() })
    .catchall(z.number().optional())
    .describe('Milliseconds per phase (dns, connect, tls, firstByte, download, …); total always'),
  peers: z.array(z.strictObject({ ip: z.string(), port: z.number().int() })),
  error: runErrorSchema.optional(),
  assertions: optionalListOf({
    name: z.string(),
    ok: z.boolean(),
    expected: z.unknown().optional(),
    actual: z.unknown().optional(),
    degraded: z.boolean().optional(),
  }),
  details: z.record(z.string(), z.unknown()).optional().describe('Kind-specific facts'),
  steps: optionalListOf({
    name: z.string(),
    startedAt: z.number(),
    durationMs: z.number(),
    status: z.enum(['pass', 'fail', 'skipped']),
    error: z.string().optional(),
  }),
  artifacts: optionalListOf({
    kind: z.string(),
    key: z.string(),
    bytes: z.number().optional(),
    contentType: z.string().optional(),
  }),
});

// A field added to RunResult and not here (or the other way) fails the type check.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Holds<T extends true> = T;
export type RunResultSchemaInStep = Holds<Same<z.output<typeof runResultSchema>, RunResult>>;
