/**
 * The checkout journey as a bare Playwright script (without evidence, and with the same
 * trace and HAR pathwatch records by default) and through pathwatch (trace kept on failure,
 * HAR on; and with the trace only on a failed run's retry), 20 runs each, in one run of
 * this script. The second bare peer separates what Playwright's tracing costs from what
 * pathwatch adds. Each variant runs in a child
 * process that launches its own Chromium. Wall time is that of the runs alone; CPU time is
 * the child's and its Chromium's (reaped children, from /proc/self/stat) minus the child's
 * own start-up (module loading, paid once per worker, not per run), so the demo shop in
 * this process is billed to neither. Rounds alternate the variants to cancel drift.
 * `spec` runs the same steps as a Playwright Test suite (bench/checkout-suite) through
 * pathwatch's spec runner, in a warm Playwright Test worker started once per round (its
 * start and its Chromium's CPU are reaped into the child's and counted), the spec compiled once.
 * `playwright-test` runs that suite under `playwright test` alone (copies of the test in one file, one worker), with the
 * same config overrides: what Playwright Test itself costs over a bare script.
 *
 *   npx tsx bench/journeys.ts [--runs 20] [--rounds 2]
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startDemoShop } from '../src/demo-shop/demo-shop.ts';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '20' }, rounds: { type: 'string', default: '2' } },
});
const RUNS = Number(values.runs);
const ROUNDS = Number(values.rounds);
const CLOCK_TICKS_PER_SECOND = 100;

/** CPU seconds of this process's reaped children (cutime + cstime). */
function childrenCpuSeconds(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  return (Number(fields[13]) + Number(fields[14])) / CLOCK_TICKS_PER_SECOND;
}

function runVariant(
  variant: string,
  count: number,
  shopUrl: string,
): Promise<{ wall: number; cpu: number; failures: number }> {
  return new Promise((resolve, reject) => {
    const cpuBefore = childrenCpuSeconds();
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'bench/journey-loop.ts', variant, String(count), shopUrl],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${variant} exited with ${code}`));
      const { failures, setupCpuSeconds, loopWallSeconds } = JSON.parse(
        output.trim().split('\n').pop() ?? '{}',
      );
      resolve({ wall: loopWallSeconds, cpu: childrenCpuSeconds() - cpuBefore - setupCpuSeconds, failures });
    });
  });
}

const shop = await startDemoShop();
const totals: Record<string, { wall: number; cpu: number; failures: number }> = {
  bare: { wall: 0, cpu: 0, failures: 0 },
  'bare-evidence': { wall: 0, cpu: 0, failures: 0 },
  pathwatch: { wall: 0, cpu: 0, failures: 0 },
  'pathwatch-first-retry': { wall: 0, cpu: 0, failures: 0 },
  'playwright-test': { wall: 0, cpu: 0, failures: 0 },
  spec: { wall: 0, cpu: 0, failures: 0 },
};
try {
  const perRound = Math.ceil(RUNS / ROUNDS);
  for (let round = 0; round < ROUNDS; round++) {
    const variants = Object.keys(totals);
    for (const variant of round % 2 === 0 ? variants : [...variants].reverse()) {
      const measured = await runVariant(variant, perRound, shop.url);
      totals[variant].wall += measured.wall;
      totals[variant].cpu += measured.cpu;
      totals[variant].failures += measured.failures;
    }
  }
} finally {
  await shop.close();
}
const runs = Math.ceil(RUNS / ROUNDS) * ROUNDS;
console.log(
  `\ncheckout journey, ${runs} runs per variant (${ROUNDS} browser launches each; module loading excluded)\n`,
);
console.log('variant                  wall s   cpu s   failures');
for (const [variant, total] of Object.entries(totals)) {
  console.log(
    `${variant.padEnd(23)} ${total.wall.toFixed(2).padStart(7)} ${total.cpu.toFixed(2).padStart(7)}   ${total.failures}`,
  );
}
const ratio = (variant: string, peer: string) =>
  `wall ${(totals[variant].wall / totals[peer].wall).toFixed(3)}x, cpu ${(totals[variant].cpu / totals[peer].cpu).toFixed(3)}x`;
console.log(
  `\nratio pathwatch / bare (trace retain-on-failure, HAR on): ${ratio('pathwatch', 'bare')} (goal: within 1.10x)`,
);
console.log(
  `ratio pathwatch-first-retry / bare (trace on-first-retry, HAR on): ${ratio('pathwatch-first-retry', 'bare')}`,
);
console.log(
  `ratio bare-evidence / bare (what Playwright's own trace + HAR cost): ${ratio('bare-evidence', 'bare')}`,
);
console.log(
  `ratio pathwatch / bare-evidence (what pathwatch adds to the same evidence): ${ratio('pathwatch', 'bare-evidence')}`,
);
console.log(
  `ratio spec / bare-evidence (the same steps as a Playwright Test spec, same evidence): ${ratio('spec', 'bare-evidence')} (goal: within 1.10x)`,
);
console.log(
  `ratio spec / playwright-test (what pathwatch adds to Playwright Test running the same suite): ${ratio('spec', 'playwright-test')}`,
);
console.log(
  `ratio playwright-test / bare-evidence (what Playwright Test itself costs over a bare script): ${ratio('playwright-test', 'bare-evidence')}`,
);
const perRun = (variant: string, peer: string) =>
  `wall ${((totals[variant].wall - totals[peer].wall) / runs).toFixed(2)} s, cpu ${((totals[variant].cpu - totals[peer].cpu) / runs).toFixed(2)} s`;
console.log(
  `what Playwright Test costs per run (spec minus pathwatch journey): ${perRun('spec', 'pathwatch')}`,
);
