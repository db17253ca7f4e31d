/** The SMTP server closed the connection while a reply was awaited (SmtpConnection's signal; SmtpDialogue words it). */
export class SmtpClosedError extends Error {}
