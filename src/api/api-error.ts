/** The one error shape every API route answers with: a stable code and a sentence. */
export interface ApiErrorBody {
  error: { code: string; message: string };
}

export function apiError(code: string, message: string): ApiErrorBody {
  return { error: { code, message } };
}

/** The 404 of a run that is not stored (never, or no longer: runs expire). */
export function runNotFound(runId: string): ApiErrorBody {
  return apiError('RUN_NOT_FOUND', `no run with id "${runId}" (it may have expired)`);
}

/** Longest piece of a request echoed back in an error: a 5 KB URL is named, not repeated. */
const MAX_ECHOED = 60;

/** A value from a request as an error message quotes it: JSON, cut short. */
export function quoteInput(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > MAX_ECHOED ? `${text.slice(0, MAX_ECHOED)}…" (${text.length} characters)` : text;
}

/**
 * A request the API refuses, thrown from hooks and routes and answered by the error
 * handler in the shape above; `statusCode` is what Fastify's own errors use too.
 */
export class ApiRequestError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
