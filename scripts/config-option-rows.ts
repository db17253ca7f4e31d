import { z } from 'zod';
import { formatDuration } from '../src/util/duration.ts';

/** One line of a generated option table: a key path and what the schema says about it. */
export interface OptionRow {
  /** Full key path as an operator writes it: `http.expect.status`, `locations.<id>.side`, `tcp.steps[].send`. */
  key: string;
  /** The accepted input: `duration`, `integer 1–65535`, `` `udp` | `tcp` ``, `string[]`… */
  type: string;
  /** `required`, the schema's default value in config notation (`60s`, `1GiB`), or empty. */
  default: string;
  /** The field's `.describe()` text; undefined when it has none (a test fails on that). */
  description: string | undefined;
}

/** What a row walker may be told about how deep to go. */
export interface OptionRowsOptions {
  /**
   * Object-valued keys to list as one row without their fields, because they get a table
   * of their own (`defaults`, `capture`…) or are shared blocks (`tls`, `auth`).
   */
  summarize?: (key: string) => boolean;
}

/**
 * The zod internals a walker reads: zod 4 keeps every schema's definition in `_zod.def`,
 * stable across 4.x (it is what `z.toJSONSchema` reads too).
 */
interface SchemaInternals {
  _zod: {
    def: {
      type: string;
      innerType?: z.ZodType;
      defaultValue?: unknown;
      in?: z.ZodType;
      out?: z.ZodType;
      element?: z.ZodType;
      valueType?: z.ZodType;
      shape?: Record<string, z.ZodType>;
      options?: z.ZodType[];
      entries?: Record<string, string | number>;
      values?: unknown[];
      getter?: () => z.ZodType;
    };
  };
}

/** A field with its wrappers (optional, default…) taken off, and what they said. */
interface UnwrappedField {
  /** The schema under the wrappers. */
  core: z.ZodType;
  /** The outermost description: `.optional().describe(x)` describes the field where it is used. */
  description: string | undefined;
  optional: boolean;
  hasDefault: boolean;
  defaultValue: unknown;
}

const WRAPPERS = new Set(['optional', 'default', 'prefault', 'nullable', 'readonly', 'catch', 'nonoptional']);

function internals(schema: z.ZodType): SchemaInternals['_zod'] {
  return (schema as unknown as SchemaInternals)._zod;
}

function unwrap(schema: z.ZodType): UnwrappedField {
  const field: UnwrappedField = {
    core: schema,
    description: undefined,
    optional: false,
    hasDefault: false,
    defaultValue: undefined,
  };
  for (;;) {
    field.description ??= z.globalRegistry.get(field.core)?.description;
    const def = internals(field.core).def;
    if (def.type === 'optional') field.optional = true;
    if ((def.type === 'default' || def.type === 'prefault') && !field.hasDefault) {
      field.hasDefault = true;
      field.defaultValue = def.defaultValue;
    }
    if (WRAPPERS.has(def.type) && def.innerType) field.core = def.innerType;
    else if (def.type === 'lazy' && def.getter) field.core = def.getter();
    else if (def.type === 'union' && def.options?.length === 1)
      field.core = def.options[0]; // a union kept only for its error message is its one member
    else if (def.type === 'pipe' && def.in && internals(def.in).def.type === 'transform' && def.out)
      field.core = def.out; // z.preprocess: the schema after the reshaping says what is accepted
    else return field;
  }
}

/**
 * Scalar kinds that zod sees only as "a string, then a transform": recognised by what they
 * accept, so the table says `duration` and shows `60s` rather than `string` and `60000`.
 */
type ParsedString = 'duration' | 'size' | 'secret';

const DURATION_SAMPLES = ['1s', '1m', '1h', '1d', '100ms'];
const SIZE_SAMPLES = ['1KiB', '1MiB', '1GiB', '100MiB'];

function parsedStringKind(schema: z.ZodType): ParsedString | undefined {
  const def = internals(schema).def;
  if (def.type === 'pipe' && def.out && internals(def.out).def.type === 'transform') {
    const parsesTo = (samples: string[]) =>
      samples.some((sample) => typeof schema.safeParse(sample).data === 'number');
    if (parsesTo(DURATION_SAMPLES)) return 'duration';
    if (parsesTo(SIZE_SAMPLES)) return 'size';
    return undefined;
  }
  if (def.type === 'string' && !schema.safeParse('x').success && schema.safeParse('${env:X}').success)
    return 'secret';
  return undefined;
}

const SIZE_UNITS: Array<[string, number]> = [
  ['GiB', 1024 ** 3],
  ['MiB', 1024 ** 2],
  ['KiB', 1024],
];

function formatSize(bytes: number): string {
  for (const [unit, size] of SIZE_UNITS)
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  return `${bytes}B`;
}

function code(text: string): string {
  return `\`${text}\``;
}

function numberType(schema: z.ZodNumber): string {
  const name = schema.isInt ? 'integer' : 'number';
  const { minValue, maxValue } = schema;
  const hasMin = minValue !== null && minValue > Number.MIN_SAFE_INTEGER;
  const hasMax = maxValue !== null && maxValue < Number.MAX_SAFE_INTEGER;
  if (hasMin && hasMax) return `${name} ${minValue}–${maxValue}`;
  if (hasMin) return `${name} ≥ ${minValue}`;
  if (hasMax) return `${name} ≤ ${maxValue}`;
  return name;
}

/** Whether a value of this type is refused whatever it is: a key a kind does not allow. */
function refusesEverything(schema: z.ZodType): boolean {
  return [null, 0, '', {}, true].every((value) => !schema.safeParse(value).success);
}

/** The accepted input of a schema, in the words the README uses. */
export function typeLabel(schema: z.ZodType): string {
  const { core } = unwrap(schema);
  const def = internals(core).def;
  const parsed = parsedStringKind(core);
  if (parsed === 'secret') return 'secret reference';
  if (parsed) return parsed;
  switch (def.type) {
    case 'string':
      return 'string';
    case 'number':
      return numberType(core as z.ZodNumber);
    case 'boolean':
      return 'boolean';
    case 'enum':
      return Object.values(def.entries ?? {})
        .map((value) => code(String(value)))
        .join(' | ');
    case 'literal':
      return (def.values ?? []).map((value) => code(String(value))).join(' | ');
    case 'union':
      // A union of objects (the check kinds) reads as one `object`, not eight.
      return [...new Set((def.options ?? []).map(typeLabel))].join(' | ');
    case 'array': {
      const element = typeLabel(def.element as z.ZodType);
      return element.includes(' ') ? `(${element})[]` : `${element}[]`;
    }
    case 'record':
      return `map of ${typeLabel(def.valueType as z.ZodType)}`;
    case 'object':
      return 'object';
    case 'unknown':
    case 'any':
      return refusesEverything(core) ? 'not allowed' : 'any';
    case 'pipe':
      return typeLabel(def.in as z.ZodType);
    default:
      return def.type;
  }
}

/** A default value as an operator would write it: `60s` for 60000 ms, `1GiB` for bytes. */
function defaultLabel(field: UnwrappedField): string {
  if (!field.hasDefault) return field.optional ? '' : 'required';
  const value = field.defaultValue;
  if (typeof value === 'number') {
    const parsed = parsedStringKind(field.core);
    if (parsed === 'duration') return code(formatDuration(value));
    if (parsed === 'size') return code(formatSize(value));
  }
  if (typeof value === 'string') return value === '' ? code('""') : code(value);
  if (Array.isArray(value)) return code(`[${value.map((item) => JSON.stringify(item)).join(', ')}]`);
  if (internals(field.core).def.type === 'object') return ''; // its fields show their own defaults
  if (value !== null && typeof value === 'object') return code(JSON.stringify(value));
  return code(String(value));
}

/** The fields of an object-shaped schema, or undefined when it is no object. */
export function objectShape(schema: z.ZodType): Record<string, z.ZodType> | undefined {
  const { core } = unwrap(schema);
  const def = internals(core).def;
  return def.type === 'object' ? def.shape : undefined;
}

/** An array's element or a record's value, when it is an object whose fields get rows. */
function nestedObject(core: z.ZodType): { suffix: string; schema: z.ZodType } | undefined {
  const def = internals(core).def;
  if (def.type === 'array' && def.element && objectShape(def.element))
    return { suffix: '[]', schema: def.element };
  if (def.type === 'record' && def.valueType && objectShape(def.valueType))
    return { suffix: '.<id>', schema: def.valueType };
  return undefined;
}

/**
 * One row per field of `shape`, depth first, keys prefixed with `prefix`. A nested object
 * (`http.expect`, `smtp.message`, `tcp.steps[]`, `locations.<id>`) gets a row of its own
 * when it is described, then one row per field.
 */
export function optionRows(
  shape: Record<string, z.ZodType>,
  prefix: string,
  options: OptionRowsOptions = {},
): OptionRow[] {
  const rows: OptionRow[] = [];
  for (const [name, schema] of Object.entries(shape)) {
    const key = prefix === '' ? name : `${prefix}.${name}`;
    const field = unwrap(schema);
    const row: OptionRow = {
      key,
      type: typeLabel(schema),
      default: defaultLabel(field),
      description: field.description,
    };
    if (options.summarize?.(key)) {
      rows.push(row);
      continue;
    }
    const fields = objectShape(field.core);
    const nested = nestedObject(field.core);
    if (fields) {
      if (row.description !== undefined) rows.push(row);
      rows.push(...optionRows(fields, key, options));
    } else if (nested) {
      rows.push(row);
      rows.push(...optionRows(objectShape(nested.schema) ?? {}, `${key}${nested.suffix}`, options));
    } else rows.push(row);
  }
  return rows;
}
