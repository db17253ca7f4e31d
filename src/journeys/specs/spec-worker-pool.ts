import { SpecWorker, type SpecWorkerSettings } from './spec-worker.ts';

export interface SpecWorkerPoolOptions {
  /**
   * A worker is replaced after this many runs, as the browser pool recycles its browser.
   * @defaultValue 100
   */
  recycleAfterRuns?: number;
  /**
   * An idle worker (and its Chromium) is stopped after this long without a run.
   * @defaultValue 900000 (15 minutes: longer than a journey's usual interval)
   */
  idleMs?: number;
}

interface Idle {
  worker: SpecWorker;
  timer: NodeJS.Timeout;
}

/**
 * The warm Playwright Test workers of one journey worker, by what they were started with
 * (suite, project, evidence settings, the journey's secrets and params): a run takes an idle
 * worker of its kind or starts one, and gives it back when done. A worker in which a run
 * failed, or that has done `recycleAfterRuns`, is stopped instead. `close()` stops them all,
 * busy ones included: no worker or Chromium outlives the pool.
 */
export class SpecWorkerPool {
  private readonly idle = new Map<string, Idle[]>();
  private readonly busy = new Set<SpecWorker>();
  private readonly stopping = new Set<Promise<void>>();
  private closed = false;
  private readonly recycleAfterRuns: number;
  private readonly idleMs: number;

  constructor(options: SpecWorkerPoolOptions = {}) {
    this.recycleAfterRuns = options.recycleAfterRuns ?? 100;
    this.idleMs = options.idleMs ?? 900_000;
  }

  /** An idle worker started with `key`'s settings, or a new one. */
  async acquire(key: string, settings: () => SpecWorkerSettings): Promise<SpecWorker> {
    if (this.closed) throw new Error('the spec worker pool is closed');
    const list = this.idle.get(key) ?? [];
    while (list.length > 0) {
      const { worker, timer } = list.pop() as Idle;
      clearTimeout(timer);
      if (worker.alive) {
        this.busy.add(worker);
        return worker;
      }
      this.stopInBackground(worker);
    }
    const worker = await SpecWorker.start(settings());
    if (this.closed) {
      await worker.stop();
      throw new Error('the spec worker pool is closed');
    }
    this.busy.add(worker);
    return worker;
  }

  /** Gives a worker back after a run: kept for the next when `reusable`, else stopped. */
  async release(key: string, worker: SpecWorker, reusable: boolean): Promise<void> {
    this.busy.delete(worker);
    if (this.closed || !reusable || !worker.alive || worker.runs >= this.recycleAfterRuns) {
      await this.stopInBackground(worker);
      return;
    }
    const list = this.idle.get(key) ?? [];
    const entry: Idle = {
      worker,
      timer: setTimeout(() => {
        const index = list.indexOf(entry);
        if (index >= 0) list.splice(index, 1);
        void this.stopInBackground(worker);
      }, this.idleMs),
    };
    // An idle worker does not keep the process alive.
    entry.timer.unref();
    list.push(entry);
    this.idle.set(key, list);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const list of this.idle.values())
      for (const { worker, timer } of list.splice(0)) {
        clearTimeout(timer);
        void this.stopInBackground(worker);
      }
    for (const worker of this.busy) void this.stopInBackground(worker);
    this.busy.clear();
    await Promise.all(this.stopping);
  }

  private stopInBackground(worker: SpecWorker): Promise<void> {
    const stopping: Promise<void> = worker
      .stop()
      .catch(() => {})
      .finally(() => this.stopping.delete(stopping));
    this.stopping.add(stopping);
    return stopping;
  }
}
