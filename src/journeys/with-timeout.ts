/** Bounds for evidence collection, so a wedged page cannot hold the worker after the run. */
export const EVIDENCE_TIMEOUT_MS = 5000;

/** The promise's value, or undefined when it rejects or takes longer than `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.catch(() => undefined),
    new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
