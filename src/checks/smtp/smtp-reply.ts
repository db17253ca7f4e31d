/** One SMTP reply: a code and the text of each of its lines (`250-A` / `250 B` → ['A', 'B']). */
export interface SmtpReply {
  code: number;
  lines: string[];
}

/** Longest reply text kept in a message: a server's banner can be a page of ASCII art. */
const TEXT_LIMIT = 300;

/** `554 5.7.1 Relay access denied`: the reply on one line, control characters removed. */
export function replyText(reply: SmtpReply): string {
  const text = reply.lines
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .join(' ')
    // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point
    .replace(/[\x00-\x1f\x7f]/g, ' ');
  const line = text ? `${reply.code} ${text}` : String(reply.code);
  return line.length > TEXT_LIMIT ? `${line.slice(0, TEXT_LIMIT)}…` : line;
}

/** EHLO keywords after the greeting line, upper-cased keyword with its parameters: `AUTH PLAIN LOGIN`. */
export function ehloExtensions(reply: SmtpReply): string[] {
  return reply.lines
    .slice(1)
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .map((line) => {
      const [keyword, ...rest] = line.split(/\s+/);
      return [keyword.toUpperCase(), ...rest].join(' ');
    });
}

/** The parameters of one EHLO keyword (`AUTH` → ['PLAIN', 'LOGIN']), or undefined when not offered. */
export function extensionParameters(extensions: readonly string[], keyword: string): string[] | undefined {
  // "AUTH=PLAIN LOGIN" is the pre-RFC form some old servers still send next to "AUTH ...".
  const found = extensions.find((line) => line === keyword || line.startsWith(`${keyword} `));
  const legacy = extensions.find((line) => line.startsWith(`${keyword}=`));
  if (!found && !legacy) return undefined;
  const parameters = [found?.slice(keyword.length), legacy?.slice(keyword.length + 1)]
    .filter((text): text is string => text !== undefined)
    .flatMap((text) => text.trim().split(/\s+/))
    .filter((word) => word.length > 0)
    .map((word) => word.toUpperCase());
  return [...new Set(parameters)];
}

/**
 * The queue id a server gives the accepted message, as the big MTAs word it: Postfix
 * `250 2.0.0 Ok: queued as 4F3B21C0A5`, Exim `250 OK id=1t5Wq1-000Abc-Xy`, Sendmail
 * `250 2.0.0 4AKJmB0b012345 Message accepted for delivery`.
 */
export function queuedAs(reply: SmtpReply): string | undefined {
  const text = reply.lines.join(' ');
  const match =
    /queued as ([A-Za-z0-9._@<>-]+)/i.exec(text) ??
    /\bid=([A-Za-z0-9._-]+)/i.exec(text) ??
    /^(?:\d\.\d{1,3}\.\d{1,3} )?([A-Za-z0-9]{10,}) Message accepted/i.exec(text);
  return match?.[1].replace(/^<|>$/g, '');
}
