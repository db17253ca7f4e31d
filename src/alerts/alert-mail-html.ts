import type { MailCell, MailSection, MailTone, MailView } from './alert-mail-view.ts';

/**
 * An alert mail as HTML for mail clients: tables for layout and inline styles only (many
 * clients drop <style> and ignore most CSS), no script, no external resource (the
 * screenshot is `cid:`, an attachment of the same mail). Every value is escaped here, once.
 */

const TONE_COLOURS: Record<MailTone, { band: string; text: string; cell: string }> = {
  bad: { band: '#b42318', text: '#ffffff', cell: '#b42318' },
  good: { band: '#067647', text: '#ffffff', cell: '#067647' },
  warn: { band: '#b54708', text: '#ffffff', cell: '#b54708' },
  info: { band: '#344054', text: '#ffffff', cell: '#344054' },
};

const FONT =
  "font-family:-apple-system,'Segoe UI',Roboto,'Noto Sans','Noto Sans CJK JP','Hiragino Sans',Meiryo,sans-serif";
const CELL = 'padding:6px 8px;border-bottom:1px solid #eaecf0;vertical-align:top;text-align:left';
const HEADING = 'margin:24px 0 8px;font-size:16px;color:#101828';

export function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

function cellHtml(cell: MailCell, tag: 'td' | 'th' = 'td'): string {
  const tone =
    cell.tone && cell.tone !== 'info' ? `;color:${TONE_COLOURS[cell.tone].cell};font-weight:600` : '';
  // A time or a state broken over two lines reads badly; longer text may wrap.
  const wrap = cell.text.length <= 24 ? ';white-space:nowrap' : '';
  return `<${tag} style="${CELL}${tone}${wrap}">${escapeHtml(cell.text)}</${tag}>`;
}

function sectionHtml(section: MailSection): string {
  const heading = section.heading ? `<h2 style="${HEADING}">${escapeHtml(section.heading)}</h2>` : '';
  switch (section.type) {
    case 'facts':
      return `${heading}<table role="presentation" data-pw="${section.name}" cellpadding="0" cellspacing="0" style="border-collapse:collapse;width:100%">${section.rows
        .map(
          (row) =>
            `<tr><th style="${CELL};width:30%;color:#475467;font-weight:600">${escapeHtml(row.label)}</th><td style="${CELL};white-space:pre-wrap;word-break:break-word">${escapeHtml(row.value)}</td></tr>`,
        )
        .join('')}</table>`;
    case 'table':
      return `${heading}<table data-pw="${section.name}" cellpadding="0" cellspacing="0" style="border-collapse:collapse;width:100%;font-size:13px"><thead><tr>${section.columns
        .map((column) => `<th style="${CELL};background:#f2f4f7;color:#475467">${escapeHtml(column)}</th>`)
        .join('')}</tr></thead><tbody>${section.rows
        .map((row) => `<tr>${row.map((cell) => cellHtml(cell)).join('')}</tr>`)
        .join('')}</tbody></table>`;
    case 'text':
      return `${heading}<div data-pw="${section.name}">${section.lines
        .map(
          (line) =>
            `<p style="margin:4px 0;white-space:pre-wrap;word-break:break-word">${escapeHtml(line)}</p>`,
        )
        .join('')}</div>`;
    case 'image':
      return `${heading}<div data-pw="${section.name}"><img src="cid:${escapeHtml(section.cid)}" alt="${escapeHtml(section.alt)}" style="display:block;max-width:100%;height:auto;border:1px solid #d0d5dd"><p style="margin:4px 0;color:#667085;font-size:12px">${escapeHtml(section.caption)}</p></div>`;
    case 'links':
      return `${heading}<ul data-pw="${section.name}" style="margin:0;padding-left:20px">${section.links
        .map(
          (link) =>
            `<li style="margin:4px 0"><a href="${escapeHtml(link.href)}" style="color:#175cd3">${escapeHtml(link.label)}</a></li>`,
        )
        .join(
          '',
        )}</ul>${section.note ? `<p style="margin:6px 0;color:#667085;font-size:12px">${escapeHtml(section.note)}</p>` : ''}`;
  }
}

/** The mail's HTML body (UTF-8). */
export function renderMailHtml(view: MailView): string {
  const tone = TONE_COLOURS[view.tone];
  return [
    '<!doctype html>',
    `<html lang="${view.language}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${escapeHtml(view.subject)}</title></head>`,
    `<body style="margin:0;padding:0;background:#f2f4f7;${FONT};color:#101828">`,
    '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="border-collapse:collapse;background:#f2f4f7"><tr><td align="center" style="padding:16px">',
    '<table role="presentation" width="680" cellpadding="0" cellspacing="0" style="border-collapse:collapse;max-width:680px;width:100%;background:#ffffff;border:1px solid #eaecf0">',
    `<tr><td data-pw="subject" style="padding:8px 20px;font-size:12px;color:#667085;word-break:break-word">${escapeHtml(view.subject)}</td></tr>`,
    `<tr><td style="padding:16px 20px;background:${tone.band};color:${tone.text}"><h1 data-pw="headline" style="margin:0;font-size:20px;line-height:1.3">${escapeHtml(view.headline)}</h1></td></tr>`,
    `<tr><td style="padding:12px 20px 20px;font-size:14px;line-height:1.5">`,
    ...view.intro.map((line) => `<p style="margin:4px 0 8px">${escapeHtml(line)}</p>`),
    ...view.sections.map(sectionHtml),
    '</td></tr>',
    `<tr><td style="padding:12px 20px;border-top:1px solid #eaecf0;font-size:12px;color:#667085">${view.footer.map(escapeHtml).join('<br>')}</td></tr>`,
    '</table></td></tr></table>',
    '</body></html>',
    '',
  ].join('\n');
}
