/**
 * The checkout journey as a bare Playwright script and through pathwatch (trace kept on
 * failure, HAR on; and with the trace only on a failed run's retry), 20 runs each, in one
 * run of this script. Each variant runs in a child
 * process that launches its own Chromium. Wall time is that of the runs alone; CPU time is
 * the child's and its Chromium's (reaped children, from /proc/self/stat) minus the child's
 * own start-up (module loading, paid once per worker, not per run), so the demo shop in
 * this process is billed to neither. Rounds alternate the variants to cancel drift.
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
  pathwatch: { wall: 0, cpu: 0, failures: 0 },
  'pathwatch-first-retry': { wall: 0, cpu: 0, failures: 0 },
};
try {
  const perRound = Math.ceil(RUNS / ROUNDS);
  for (let round = 0; round < ROUNDS; round++) {
    const variants = ['bare', 'pathwatch', 'pathwatch-first-retry'];
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
for (const variant of ['pathwatch', 'pathwatch-first-retry']) {
  const label = variant === 'pathwatch' ? 'trace retain-on-failure, HAR on' : 'trace on-first-retry, HAR on';
  console.log(
    `ratio ${variant} / bare (${label}): wall ${(totals[variant].wall / totals.bare.wall).toFixed(3)}x, cpu ${(totals[variant].cpu / totals.bare.cpu).toFixed(3)}x (goal: within 1.10x)`,
  );
}
