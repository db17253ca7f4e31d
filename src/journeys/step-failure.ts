/** A step's error, with the step it happened in: the run's message names the step. */
export class StepFailure extends Error {
  constructor(
    readonly index: number,
    readonly stepName: string,
    readonly reason: unknown,
  ) {
    super(`step ${index} "${stepName}" failed`);
  }
}
