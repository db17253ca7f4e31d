import type { z } from 'zod';
import { checkBaseShape } from '../src/checks/check-base.ts';
import { CHECK_KINDS, checkSchema } from '../src/checks/registry.ts';
import { authSettings } from '../src/config/auth-settings.ts';
import { configSchema } from '../src/config/config-schema.ts';
import { tlsSettingsShape } from '../src/config/tls-settings.ts';
import { type OptionRow, objectShape, optionRows } from './config-option-rows.ts';

/** One generated table: its README markers are `<!-- config:<name>:start -->` … `:end -->`. */
export interface ConfigSection {
  name: string;
  /** Heading used when the generator adds the section to the README itself (a new kind). */
  title: string;
  /** A check kind's table (kinds come last, so a new kind's table lands after the last one). */
  isKind: boolean;
  rows: OptionRow[];
}

/** Top-level keys holding an object get a table of their own; the top table has one row for each. */
function topLevelBlocks(): string[] {
  return Object.entries(configSchema.shape)
    .filter(([, schema]) => objectShape(schema as z.ZodType) !== undefined)
    .map(([key]) => key);
}

function kindSection(kindSchema: z.ZodType): ConfigSection {
  const shape = objectShape(kindSchema) ?? {};
  const kind = kindOf(shape);
  const { [kind]: block, ...rest } = shape;
  const others = Object.fromEntries(
    Object.entries(rest).filter(([key]) => key !== 'kind' && !(key in checkBaseShape)),
  );
  return {
    name: kind,
    title: `\`${kind}\` check`,
    isKind: true,
    rows: [
      ...optionRows({ [kind]: block }, ''),
      // `tls` and `auth` here are the shared blocks (their own tables), or keys this kind refuses.
      ...optionRows(others, '', { summarize: () => true }),
    ],
  };
}

/** The kind a check schema is for: the value of its `kind` literal. */
function kindOf(shape: Record<string, z.ZodType>): string {
  const kind = CHECK_KINDS.find((candidate) => shape.kind?.safeParse(candidate).success);
  if (kind === undefined) throw new Error('a check schema in the registry has no kind literal');
  return kind;
}

/**
 * Every table the README carries, in README order, all read from the schema: the top
 * level, each top-level block, the settings every check shares, the shared `tls` and
 * `auth` blocks, then one per kind in the registry (a new kind gets its table with no
 * edit here).
 */
export function configSections(): ConfigSection[] {
  const blocks = topLevelBlocks();
  const shape = configSchema.shape as unknown as Record<string, z.ZodType>;
  const sections: ConfigSection[] = [
    {
      name: 'top',
      title: 'Top level',
      isKind: false,
      rows: optionRows(shape, '', { summarize: (key) => blocks.includes(key) || key === 'checks' }),
    },
    ...blocks.map((block) => ({
      name: block,
      title: `\`${block}\``,
      isKind: false,
      rows: optionRows(objectShape(shape[block]) ?? {}, block),
    })),
    {
      name: 'check',
      title: 'Every check',
      isKind: false,
      rows: [
        {
          key: 'kind',
          type: CHECK_KINDS.map((kind) => `\`${kind}\``).join(' | '),
          default: 'required',
          description: 'The protocol; its settings are in the block named after it (tables below).',
        },
        ...optionRows(checkBaseShape, ''),
      ],
    },
    { name: 'tls-settings', title: '`tls` block', isKind: false, rows: optionRows(tlsSettingsShape, 'tls') },
    {
      name: 'auth-settings',
      title: '`auth` block',
      isKind: false,
      rows: optionRows(objectShape(authSettings({ kind: 'http', bearer: true })) ?? {}, 'auth'),
    },
    ...checkSchema.options.map((option) => kindSection(option as unknown as z.ZodType)),
  ];
  const names = sections.map((section) => section.name);
  const repeated = names.find((name, index) => names.indexOf(name) !== index);
  if (repeated !== undefined) throw new Error(`two config tables are named "${repeated}": rename one`);
  return sections;
}
