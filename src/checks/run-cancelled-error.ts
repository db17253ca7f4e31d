/**
 * Why a run was cut before it ended on its own: the abort reason a worker gives the run's
 * signal when it stops (`new RunCancelledError('shutdown')`). The run is stored as status
 * `error`, class `internal` (pathwatch's own doing, never counted against the target), with
 * this error's message: "cancelled by shutdown".
 */
export class RunCancelledError extends Error {
  readonly code = 'RUN_CANCELLED';

  constructor(readonly by: 'shutdown' | string) {
    super(`cancelled by ${by}`);
    this.name = 'RunCancelledError';
  }

  /** The stored message for a run whose signal aborted with `reason`. */
  static messageOf(reason: unknown): string {
    if (reason instanceof RunCancelledError) return reason.message;
    if (reason instanceof Error) return `cancelled: ${reason.message}`;
    return reason === undefined ? 'cancelled' : `cancelled: ${String(reason)}`;
  }
}
