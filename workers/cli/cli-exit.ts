/** Exit codes: 0 pass/ok, 1 a check failed or the config has problems, 2 usage or setup error. */
export const EXIT_FAIL = 1;
export const EXIT_USAGE = 2;

/** A command's end with a one-line message for stderr and its exit code: never a stack trace. */
export class CliExit extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}
