/** `PATHWATCH_LOG_FORMAT` names no format: a usage error of whichever command made the logger. */
export class LogFormatError extends Error {
  readonly code = 'LOG_FORMAT_INVALID';
}
