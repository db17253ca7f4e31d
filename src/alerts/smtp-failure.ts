/** The parts of a nodemailer error that say what went wrong. */
interface SmtpError {
  code?: string;
  originalCode?: string;
  responseCode?: number;
  response?: string;
  command?: string;
  message?: string;
  reason?: string;
}

const TLS_TROUBLE = /SSL|TLS|certificate|CERT_|self[- ]signed|wrong version number/i;

function firstLine(text: string): string {
  return text.split(/\r?\n/)[0].trim();
}

/**
 * One line saying why a mail could not be sent, for a person: the server unreachable
 * (refused, timed out, unknown host), the login refused, TLS failed, or what the server
 * answered. `server` is `host:port`.
 */
export function describeSmtpFailure(error: unknown, server: string): string {
  const failure = (error ?? {}) as SmtpError;
  const message = firstLine(String(failure.message ?? error));
  const cause = failure.originalCode ?? failure.code;
  if (cause === 'ECONNREFUSED') return `mail server ${server} unreachable: connection refused`;
  if (cause === 'EDNS' || cause === 'ENOTFOUND' || cause === 'EAI_AGAIN')
    return `mail server ${server} unreachable: host not found (${message})`;
  if (cause === 'EHOSTUNREACH' || cause === 'ENETUNREACH')
    return `mail server ${server} unreachable: no route to host`;
  if (cause === 'ETIMEDOUT' || cause === 'ECONNRESET')
    return `mail server ${server} unreachable: ${cause === 'ETIMEDOUT' ? 'no answer in time' : 'connection reset'} (${message})`;
  if (failure.code === 'EAUTH')
    return `mail server ${server} refused the login: ${message.replace(/^Invalid login: /, '')}`;
  if (failure.code === 'ETLS' || TLS_TROUBLE.test(message) || TLS_TROUBLE.test(String(failure.reason ?? '')))
    return `TLS with mail server ${server} failed: ${message}`;
  if (failure.code === 'EENVELOPE') return `mail server ${server} refused the recipients: ${message}`;
  if (failure.responseCode)
    return `mail server ${server} answered ${failure.command ?? ''}: ${message}`.replace(' :', ':');
  return `mail to ${server} failed: ${message}`;
}

/**
 * A refusal a retry cannot change: the server answered 5xx to the recipients or the
 * message itself. An unreachable server, a 4xx (try later, shutting down) and a refused
 * login (the secret can be fixed and pathwatch restarted while the alert waits) are retried.
 */
export function isPermanentSmtpFailure(error: unknown): boolean {
  const failure = (error ?? {}) as SmtpError;
  return (
    (failure.code === 'EENVELOPE' || failure.code === 'EMESSAGE') &&
    typeof failure.responseCode === 'number' &&
    failure.responseCode >= 500
  );
}
