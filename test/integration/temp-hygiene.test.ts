import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { type DemoShop, startDemoShop } from '../../src/demo-shop/demo-shop.ts';
import { createRedisConnection } from '../../src/redis/redis-connection.ts';
import { openQueue } from '../../src/scheduler/run-queue.ts';
import { descendants } from '../helpers/child-processes.ts';
import { LOOPBACK_ONLY_CHROMIUM_ARGS } from '../helpers/loopback-browser.ts';
import { deleteKeysWithPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis-test-prefix.ts';
import { CLI } from '../helpers/run-cli.ts';
import { createTempProject } from '../helpers/temp-project.ts';

/**
 * Each worker runs as a child process with TMPDIR pointed at a directory of the test's own,
 * so everything it (and its Chromium, and Playwright) leaves in "/tmp" can be listed exactly.
 */

const prefix = uniquePrefix('hygiene');
let shop: DemoShop;
let redis: Redis;
const cleanups: Array<() => unknown> = [];

before(async () => {
  shop = await startDemoShop();
  redis = createRedisConnection(SHARED_REDIS_URL);
});

after(async () => {
  for (const cleanup of cleanups.reverse())
    await Promise.resolve()
      .then(cleanup)
      .catch(() => {});
  redis.disconnect();
  await shop.close();
  await deleteKeysWithPrefix(prefix);
});

const OPEN_SHOP = `import { journey } from 'pathwatch';
export default journey({
  id: 'open-shop',
  timeout: '30s',
  params: { shopUrl: process.env.DEMO_SHOP_URL ?? '' },
  async run({ page, step, expect, params }) {
    await step('open shop', async () => {
      await page.goto(params.shopUrl);
      await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
    });
  },
});
`;

const SLOW_SHOP = `import { journey } from 'pathwatch';
export default journey({
  id: 'slow-shop',
  timeout: '30s',
  params: { shopUrl: process.env.DEMO_SHOP_URL ?? '' },
  async run({ page, step, params }) {
    await step('open shop', async () => {
      await page.goto(params.shopUrl);
    });
    await step('think', async () => {
      await page.waitForTimeout(20000);
    });
  },
});
`;

/** pathwatch's, Chromium's and Playwright's entries (tsx keeps a cache of its own there). */
function leftovers(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => /pathwatch|chrom|playwright/i.test(name))
    .sort();
}

interface Project {
  dir: string;
  /** The TMPDIR of the workers the test starts. */
  tmp: string;
  queue: Queue;
  startWorker(): ChildProcess;
}

function createProject(label: string, options: { trace: string }): Project {
  const keyPrefix = `${prefix}-${label}`;
  const dir = createTempProject({
    'pathwatch.config.yaml': [
      'locations:',
      '  inside: {}',
      'defaults: { retries: 0 }',
      'journeys: journeys/*.journey.ts',
      `redis: { prefix: ${keyPrefix} }`,
      `browser: { trace: ${options.trace} }`,
      'dataDir: data',
      '',
    ].join('\n'),
    'journeys/open-shop.journey.ts': OPEN_SHOP,
    'journeys/slow-shop.journey.ts': SLOW_SHOP,
  });
  const tmp = mkdtempSync(join(tmpdir(), 'pw-hygiene-tmp-'));
  const queue = openQueue('journeys', 'inside', redis, keyPrefix);
  const workers: ChildProcess[] = [];
  cleanups.push(async () => {
    for (const worker of workers) {
      if (worker.exitCode !== null || worker.signalCode !== null) continue;
      worker.kill('SIGKILL');
      await once(worker, 'exit');
    }
    await queue.close();
    await deleteKeysWithPrefix(keyPrefix);
    rmSync(dir, { recursive: true, force: true });
    // A killed worker's Chromium may still be writing its profile for a moment.
    await waitFor(`${tmp} is removed`, () => {
      try {
        rmSync(tmp, { recursive: true, force: true });
        return true;
      } catch {
        return false;
      }
    }).catch(() => {});
  });
  return {
    dir,
    tmp,
    queue,
    startWorker: () => {
      const worker = spawn(
        process.execPath,
        [CLI, 'worker', '--location', 'inside', '--config', join(dir, 'pathwatch.config.yaml')],
        {
          cwd: dir,
          env: {
            ...process.env,
            TMPDIR: tmp,
            REDIS_URL: SHARED_REDIS_URL,
            DEMO_SHOP_URL: shop.url,
            PATHWATCH_EXTRA_BROWSER_ARGS: LOOPBACK_ONLY_CHROMIUM_ARGS.join('\n'),
            PATHWATCH_LOG_LEVEL: process.env.H7_DEBUG ? 'info' : 'silent',
          },
          stdio: process.env.H7_DEBUG ? 'inherit' : 'ignore',
        },
      );
      workers.push(worker);
      return worker;
    },
  };
}

async function waitFor(
  what: string,
  condition: () => Promise<boolean> | boolean,
  ms = 60_000,
): Promise<void> {
  const until = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function stopCleanly(worker: ChildProcess): Promise<void> {
  const exited = once(worker, 'exit');
  worker.kill('SIGTERM');
  const [code] = await exited;
  assert.equal(code, 0, 'the worker stopped cleanly');
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('a worker stopped after traced journey runs leaves nothing in its TMPDIR', async () => {
  const project = createProject('stop', { trace: 'on' });
  const worker = project.startWorker();
  await project.queue.add('run-now', { checkId: 'open-shop', location: 'inside', requestedAt: Date.now() });
  await project.queue.add('run-now', { checkId: 'open-shop', location: 'inside', requestedAt: Date.now() });
  await waitFor('both runs are stored', async () => (await project.queue.getCompletedCount()) === 2);
  assert.equal(await project.queue.getFailedCount(), 0);
  assert.notDeepEqual(leftovers(project.tmp), [], 'while running, the browser has its files there');
  await stopCleanly(worker);
  assert.deepEqual(leftovers(project.tmp), []);
});

test('a journey run that throws (its evidence cannot be stored) leaves no work directory', async () => {
  const project = createProject('throw', { trace: 'on' });
  // The artifact store's root is a file: storing the trace throws out of the run.
  writeFileSync(join(project.dir, 'data'), 'not a directory');
  const worker = project.startWorker();
  await project.queue.add('run-now', { checkId: 'open-shop', location: 'inside', requestedAt: Date.now() });
  // Stored as a crashed run or failed as a job: either way the run is over.
  await waitFor(
    'the run is over',
    async () => (await project.queue.getCompletedCount()) + (await project.queue.getFailedCount()) === 1,
  );
  const workDirs = (dir: string): string[] =>
    readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((path) => /journey-/.test(path));
  // While the worker (and its browser) still runs: the work dir went with the run.
  assert.deepEqual(workDirs(project.tmp), []);
  await stopCleanly(worker);
  assert.deepEqual(leftovers(project.tmp), []);
});

test('after a worker is killed outright, the next worker to start removes what it left in TMPDIR', async () => {
  const project = createProject('kill', { trace: 'on' });
  const first = project.startWorker();
  await project.queue.add('run-now', { checkId: 'slow-shop', location: 'inside', requestedAt: Date.now() });
  let browserPids: number[] = [];
  await waitFor('the first worker runs the journey in Chromium', async () => {
    browserPids = descendants(first.pid)
      .filter((info) => /chrom/i.test(info.name))
      .map((info) => info.pid);
    return browserPids.length > 0 && (await project.queue.getActiveCount()) === 1;
  });
  await new Promise((resolve) => setTimeout(resolve, 1500)); // into the "think" step, trace recording
  first.kill('SIGKILL');
  await once(first, 'exit');
  await waitFor('Chromium is gone with its worker', () => browserPids.every((pid) => !isAlive(pid)));
  // The killed run is not redone here: the test is about what the killed worker left.
  await project.queue.obliterate({ force: true });
  const orphans = leftovers(project.tmp);
  const orphanFiles = readdirSync(project.tmp, { recursive: true, encoding: 'utf8' });
  assert.ok(
    orphanFiles.some((path) => path.includes('playwright_chromiumdev_profile-')),
    `the killed worker left its Chromium profile: ${orphans}`,
  );

  const second = project.startWorker();
  await waitFor("the second worker removed the killed one's directories", () =>
    leftovers(project.tmp).every((name) => !orphans.includes(name)),
  ).catch(() => {});
  assert.deepEqual(
    leftovers(project.tmp).filter((name) => orphans.includes(name)),
    [],
    'orphans removed by the next worker',
  );
  await stopCleanly(second);
  assert.deepEqual(leftovers(project.tmp), []);
});
