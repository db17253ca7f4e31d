import { z } from 'zod';

const state = z.enum(['UNKNOWN', 'UP', 'DEGRADED', 'DOWN']);
const verdict = z.enum(['ok', 'service', 'outside-path', 'inside-path', 'partial', 'probe-host', 'no-data']);

const edgeCheck = z.strictObject({
  id: z.string(),
  name: z.string(),
  state,
  since: z.number().optional().describe('When it entered this state (epoch ms)'),
  flapping: z.boolean(),
  lastError: z.string().optional().describe('The last failure, while not UP'),
});

/** What GET /api/v1/map answers (map-routes.ts, src/map/map-graph.ts). */
export const mapGraphSchema = z.strictObject({
  generatedAt: z.number().describe('When the states were read (epoch ms)'),
  nodes: z.array(
    z.discriminatedUnion('type', [
      z.strictObject({
        type: z.literal('location'),
        id: z.string(),
        side: z.enum(['inside', 'outside']),
        description: z.string().optional(),
        liveWorkers: z.number().int(),
        live: z.boolean(),
        control: z
          .strictObject({ checkId: z.string(), state })
          .optional()
          .describe("The location's control check and its state there"),
      }),
      z
        .strictObject({
          type: z.literal('line'),
          id: z.literal('line'),
          state,
          brokenFor: z.array(z.string()).describe('Targets whose verdict is outside-path'),
        })
        .describe('The line between the outside locations and the data centre'),
      z.strictObject({
        type: z.literal('target'),
        id: z.string().describe('host[:port] the checks talk to, or a journey id when its host is unknown'),
        name: z.string().describe("The checks' names"),
        checks: z.array(z.strictObject({ id: z.string(), name: z.string(), kind: z.string() })),
        state: state.describe('Worst state of its paths'),
        verdict: verdict.describe("Its checks' verdicts taken together"),
        summary: z.string(),
        verdicts: z.array(z.strictObject({ checkId: z.string(), verdict, summary: z.string() })),
      }),
    ]),
  ),
  edges: z.array(
    z.strictObject({
      id: z.string().describe('<location>~<target>'),
      from: z.string(),
      to: z.string(),
      via: z.literal('line').optional().describe('Set for an outside location: the path crosses the line'),
      state: state.describe("Worst of its checks' states: DOWN > DEGRADED > UNKNOWN > UP"),
      checks: z.array(edgeCheck),
      failing: z.array(edgeCheck).describe('Its DOWN and DEGRADED checks, worst first'),
      href: z.string().describe('The page listing the checks on this path'),
    }),
  ),
});
