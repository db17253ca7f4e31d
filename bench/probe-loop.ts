/**
 * Child process of bench/probes.ts: runs one check `count` times through runCheck (the
 * same path a worker takes) with `concurrency` in flight, and prints its own CPU time for
 * the loop alone (start-up and module loading excluded, as the exporter's are).
 * Usage: tsx bench/probe-loop.ts '<check json>' <count> <concurrency>
 */
import { runCheck } from '../src/checks/run-check.ts';
import { parseConfig } from '../src/config/load-config.ts';

const [checkJson, countText, concurrencyText] = process.argv.slice(2);
const count = Number(countText);
const concurrency = Number(concurrencyText);
const config = await parseConfig(
  { locations: { bench: {} }, checks: [JSON.parse(checkJson)] },
  '/tmp/bench.yaml',
);
const check = config.checks[0];
const run = () => runCheck(check, { location: 'bench', secrets: config.secrets, configDir: config.dir });

// Warm-up so JIT compilation is not billed to the measured loop (the exporter is warmed too).
for (let index = 0; index < 50; index++) await run();

let started = 0;
let passed = 0;
const statuses = new Map<string, number>();
const cpuBefore = process.cpuUsage();
const wallBefore = performance.now();
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (started < count) {
      started++;
      const result = await run();
      if (result.status === 'pass') passed++;
      else
        statuses.set(
          result.error?.message ?? result.status,
          (statuses.get(result.error?.message ?? result.status) ?? 0) + 1,
        );
    }
  }),
);
const cpu = process.cpuUsage(cpuBefore);
const wallMs = performance.now() - wallBefore;
console.log(
  JSON.stringify({
    count,
    passed,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    wallSeconds: wallMs / 1000,
    failures: Object.fromEntries(statuses),
  }),
);
