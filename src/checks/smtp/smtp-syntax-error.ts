/** The server sent something that is not an SMTP reply, or broke the protocol's framing (SmtpDialogue words it). */
export class SmtpSyntaxError extends Error {}
