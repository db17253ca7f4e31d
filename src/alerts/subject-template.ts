/**
 * Alert subject templates: `{{name}}` puts a value in, `{{#name}}…{{/name}}` keeps its
 * text only when `name` has a value (so the default can say `— step "{{step}}"` without a
 * dangling `step ""` for a check that has no steps). Nothing else: a subject is one line,
 * and a template language with loops and logic would be one more thing to break at 3 a.m.
 */

/** Variables a subject template may use; anything else is a config problem, not a literal. */
export const SUBJECT_VARIABLES = [
  'check',
  'checkId',
  'state',
  'verdict',
  'locations',
  'location',
  'step',
  'error',
  'code',
  'time',
  'kind',
] as const;

export type SubjectVariable = (typeof SUBJECT_VARIABLES)[number];
export type SubjectValues = Partial<Record<SubjectVariable, string>>;

/** The subject when no template is set anywhere: what, how bad, where, and the first cause. */
export const DEFAULT_SUBJECT_TEMPLATE =
  '[pathwatch] {{state}} {{check}}{{#verdict}} — {{verdict}}{{/verdict}}{{#step}} — step "{{step}}"{{/step}}{{#error}}: {{error}}{{/error}}';

type Part =
  | { type: 'text'; text: string }
  | { type: 'value'; name: SubjectVariable }
  | { type: 'section'; name: SubjectVariable; parts: Part[] };

/** A template that does not parse: the message says where and what was expected. */
export class SubjectTemplateError extends Error {}

const TAG = /\{\{\s*([#/]?)\s*([^{}\s]*)\s*\}\}/g;

function isVariable(name: string): name is SubjectVariable {
  return (SUBJECT_VARIABLES as readonly string[]).includes(name);
}

const EXPECTED = `expected one of ${SUBJECT_VARIABLES.map((name) => `{{${name}}}`).join(', ')}`;

/** Parses a template, or throws SubjectTemplateError naming every problem at once. */
export function parseSubjectTemplate(template: string): Part[] {
  const problems: string[] = [];
  const root: Part[] = [];
  const stack: Array<{ name: string; parts: Part[] }> = [];
  let current = root;
  let last = 0;
  const pushText = (text: string) => {
    if (text.includes('{{') || text.includes('}}')) {
      problems.push(
        `"${text.includes('{{') ? '{{' : '}}'}" without its other half in ${JSON.stringify(text)}`,
      );
    }
    if (text) current.push({ type: 'text', text });
  };
  for (const match of template.matchAll(TAG)) {
    pushText(template.slice(last, match.index));
    last = (match.index ?? 0) + match[0].length;
    const [, sigil, name] = match;
    if (!name) {
      problems.push(`empty {{}} at character ${(match.index ?? 0) + 1}`);
      continue;
    }
    if (!isVariable(name)) {
      problems.push(`unknown variable {{${name}}}, ${EXPECTED}`);
      continue;
    }
    if (sigil === '#') {
      const section: Part = { type: 'section', name, parts: [] };
      current.push(section);
      stack.push({ name, parts: current });
      current = section.parts;
    } else if (sigil === '/') {
      const open = stack.pop();
      if (!open) problems.push(`{{/${name}}} closes nothing`);
      else {
        if (open.name !== name) problems.push(`{{/${name}}} closes {{#${open.name}}}`);
        current = open.parts;
      }
    } else current.push({ type: 'value', name });
  }
  pushText(template.slice(last));
  for (const open of stack) problems.push(`{{#${open.name}}} is never closed with {{/${open.name}}}`);
  if (problems.length > 0) throw new SubjectTemplateError(problems.join('; '));
  return root;
}

/** The problems of a template (empty when it is fine), for config validation. */
export function subjectTemplateProblems(template: string): string | undefined {
  try {
    parseSubjectTemplate(template);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

function renderParts(parts: Part[], values: SubjectValues): string {
  return parts
    .map((part) => {
      if (part.type === 'text') return part.text;
      if (part.type === 'value') return values[part.name] ?? '';
      return values[part.name] ? renderParts(part.parts, values) : '';
    })
    .join('');
}

/**
 * Fills a template. One header line: line breaks become spaces, runs of spaces one, and it
 * is cut at 250 characters (a mail server may refuse a longer line; the body has it all).
 */
export function renderSubjectTemplate(template: string, values: SubjectValues): string {
  const text = renderParts(parseSubjectTemplate(template), values)
    .replace(/[\r\n\t]+/g, ' ')
    .replace(/ {2,}/g, ' ')
    .trim();
  return text.length > 250 ? `${text.slice(0, 249)}…` : text;
}
