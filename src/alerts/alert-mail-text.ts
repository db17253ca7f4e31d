import type { MailSection, MailView } from './alert-mail-view.ts';

/**
 * An alert mail as plain text: the same facts as the HTML, for clients (and people) that
 * read text only. No column alignment: Japanese characters are two columns wide in most
 * fonts, and a table padded with spaces falls apart in them.
 */

/** One line: values may hold line breaks (an error message), which would break the layout. */
function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ');
}

function sectionText(section: MailSection): string[] {
  const lines = section.heading ? [`== ${oneLine(section.heading)} ==`] : [];
  switch (section.type) {
    case 'facts':
      lines.push(...section.rows.map((row) => `${oneLine(row.label)}: ${oneLine(row.value)}`));
      break;
    case 'table':
      // Each row on its line: its first cell, then the others labelled by their column.
      for (const row of section.rows) {
        const rest = row
          .slice(1)
          .map((cell, index) => (cell.text ? `${section.columns[index + 1]}: ${oneLine(cell.text)}` : ''))
          .filter(Boolean);
        lines.push(`- ${oneLine(row[0]?.text ?? '')}${rest.length > 0 ? ` | ${rest.join(' | ')}` : ''}`);
      }
      break;
    case 'text':
      lines.push(...section.lines.map(oneLine));
      break;
    case 'image':
      lines.push(`${oneLine(section.alt)} (${oneLine(section.caption)})`);
      break;
    case 'links':
      for (const link of section.links) lines.push(`${link.label}:`, `  ${link.href}`);
      if (section.note) lines.push(section.note);
      break;
  }
  return lines;
}

/** The mail's plain-text body (UTF-8). */
export function renderMailText(view: MailView): string {
  const blocks = [
    [oneLine(view.headline), ...view.intro.map(oneLine)],
    ...view.sections.map(sectionText),
    view.footer,
  ];
  return `${blocks.map((block) => block.join('\n')).join('\n\n')}\n`;
}
