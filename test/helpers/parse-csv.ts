import assert from 'node:assert/strict';

/**
 * RFC 4180 records, as a spreadsheet reads them: quoted fields may hold commas, doubled quotes
 * and line breaks; every record ends with CRLF (asserted, as is a closed last quote).
 */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let index = 0; index < text.length; index++) {
    const char = text[index];
    if (quoted) {
      if (char === '"' && text[index + 1] === '"') {
        field += '"';
        index++;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      row.push(field);
      field = '';
    } else if (char === '\r' && text[index + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      index++;
    } else field += char;
  }
  assert.ok(!quoted, 'the CSV ends inside a quoted field');
  assert.equal(row.length + field.length, 0, 'the CSV ends with CRLF');
  return rows;
}
