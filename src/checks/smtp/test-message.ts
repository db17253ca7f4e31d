import { randomUUID } from 'node:crypto';

export interface TestMessageInput {
  checkId: string;
  from: string;
  to: readonly string[];
  subject?: string;
  body?: string;
  now?: Date;
}

export interface TestMessage {
  messageId: string;
  /** Header and body, CRLF line ends, dot-stuffed, ending in CRLF: ready to send after `354`, followed by `.`. */
  data: string;
}

/**
 * The message a check sends through DATA. It is marked as machine-made (Auto-Submitted,
 * RFC 3834) so vacation responders stay quiet, and carries the check id so a mailbox
 * rule can file or drop it.
 */
export function buildTestMessage(input: TestMessageInput): TestMessage {
  const now = input.now ?? new Date();
  const domain = input.from.slice(input.from.lastIndexOf('@') + 1) || 'pathwatch.invalid';
  const messageId = `${randomUUID()}@${domain}`;
  const subject = input.subject ?? `pathwatch test message (${input.checkId})`;
  const body =
    input.body ?? `Test message from pathwatch check "${input.checkId}", sent ${now.toISOString()}.`;
  const headers = [
    `From: <${input.from}>`,
    `To: ${input.to.map((address) => `<${address}>`).join(', ')}`,
    `Subject: ${encodeHeader(subject)}`,
    `Date: ${now.toUTCString().replace(/GMT$/, '+0000')}`,
    `Message-ID: <${messageId}>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    'Auto-Submitted: auto-generated',
    `X-Pathwatch-Check: ${input.checkId}`,
  ];
  const bodyLines = body.replace(/\r\n?/g, '\n').split('\n');
  // A line that starts with "." would end DATA early or lose its dot (RFC 5321 4.5.2).
  const lines = [...headers, '', ...bodyLines].map((line) => (line.startsWith('.') ? `.${line}` : line));
  return { messageId, data: `${lines.join('\r\n')}\r\n` };
}

/** RFC 2047 encoded-word for a header value that is not plain ASCII. */
function encodeHeader(value: string): string {
  const oneLine = value.replace(/[\r\n]+/g, ' ');
  if (!/[^\x20-\x7e]/.test(oneLine)) return oneLine;
  return `=?UTF-8?B?${Buffer.from(oneLine, 'utf8').toString('base64')}?=`;
}
