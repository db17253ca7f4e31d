import type { CertificateFacts } from '../../assertions/certificate-checks.ts';
import { type CodedRunError, type ErrorCode, errorOf } from '../../results/error-codes.ts';

/**
 * THE error a probe throws inside itself when the target fails it: the RunError it will
 * report (class, stable code, phase, one line), so the place that knows what went wrong
 * words it and the probe's catch only hands it on. Every probe uses this one type.
 */
export class ProbeError extends Error {
  readonly code: ErrorCode;

  constructor(
    readonly runError: CodedRunError,
    /** The certificate the server showed before its handshake was refused, for `details`. */
    readonly certificate?: CertificateFacts,
  ) {
    super(runError.message);
    this.name = 'ProbeError';
    this.code = runError.code;
  }

  /** `new ProbeError(errorOf(code, message, phase))`, shorter. */
  static of(code: ErrorCode, message: string, phase?: string): ProbeError {
    return new ProbeError(errorOf(code, message, phase));
  }
}
