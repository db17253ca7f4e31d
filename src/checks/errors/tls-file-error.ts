import { type CodedRunError, errorOf } from '../../results/error-codes.ts';

/**
 * A file (or secret) the `tls` block names could not be read when the run needed it: the
 * operator's mistake, not the target's, so the run is an `error` of class `config`.
 */
export class TlsFileError extends Error {
  readonly runError: CodedRunError;
  constructor(field: string, path: string, reason: string) {
    super(`tls.${field}: cannot read ${path} (${reason})`);
    this.runError = errorOf('CONFIG', this.message);
  }
}
