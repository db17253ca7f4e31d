/**
 * Runs `task` over `items` with at most `concurrency` at a time. `items` may grow while it
 * runs (a page adds its assets and redirect targets to its own level), and new items
 * start as soon as a slot is free. Stops starting items once `stopped()` is true; resolves
 * when nothing is running. A task that throws is a bug: the first one rejects the whole run.
 */
export function runBounded<T>(
  items: T[],
  concurrency: number,
  task: (item: T) => Promise<void>,
  stopped: () => boolean,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let next = 0;
    let active = 0;
    let failed = false;
    const pump = () => {
      while (!failed && active < concurrency && next < items.length && !stopped()) {
        const item = items[next++];
        active++;
        task(item).then(
          () => {
            active--;
            pump();
          },
          (error: unknown) => {
            failed = true;
            reject(error);
          },
        );
      }
      if (!failed && active === 0) resolve();
    };
    pump();
  });
}
