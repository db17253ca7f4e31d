import type { AlertContext } from './alert-context.ts';
import type { AlertEvent } from './alert-event.ts';
import { renderMailHtml } from './alert-mail-html.ts';
import { renderMailText } from './alert-mail-text.ts';
import { alertMailView } from './alert-mail-view.ts';
import { alertSubject } from './alert-subject.ts';

export { humanDuration } from './alert-mail-view.ts';

/** A file sent with the mail; `cid` is its Content-ID, which the HTML shows it by (`<img src="cid:…">`). */
export interface AlertMailAttachment {
  filename: string;
  content: Buffer;
  contentType: string;
  cid: string;
}

/** An alert as a mail: one-line subject, plain text and HTML bodies (UTF-8), and the inline screenshot. */
export interface AlertMail {
  subject: string;
  text: string;
  html: string;
  attachments: AlertMailAttachment[];
}

/**
 * The mail for an alert of any kind, in the event's language, from the event and the
 * evidence gathered when it is sent (gatherAlertContext): the subject (alertSubject), a
 * headline, the failing step and error with what to do, every location's state, timings
 * against the usual, the screenshot inline, the capture's diagnosis and signed links. What
 * the context lacks is left out, never invented. Pure: channels only send what it returns.
 */
export function renderAlertMail(event: AlertEvent, context: AlertContext): AlertMail {
  const subject = alertSubject(event, context);
  const view = alertMailView(event, context, subject);
  const image = view.sections.find((section) => section.type === 'image');
  const attachments =
    image && context.screenshot
      ? [
          {
            filename: context.screenshot.filename,
            content: context.screenshot.content,
            contentType: context.screenshot.contentType,
            cid: image.cid,
          },
        ]
      : [];
  return { subject, text: renderMailText(view), html: renderMailHtml(view), attachments };
}
