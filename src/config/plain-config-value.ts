import { type ConfigIssue, formatPath } from './config-error.ts';
import { describeThrown } from './describe-thrown.ts';

/** Deeper than any real config (a check's options nest 5–6 levels); deeper is a mistake or an attack. */
export const MAX_CONFIG_DEPTH = 64;
/** Values in one config: thousands of checks fit; an alias or object bomb does not. */
export const MAX_CONFIG_VALUES = 200_000;
/** Problems listed before the rest are summarized: a broken generator should not print 100k lines. */
const MAX_SHAPE_ISSUES = 20;

type Segment = string | number;

/**
 * Copies a loaded config (a YAML document or a TS module's default export) into plain data:
 * objects, arrays, strings, finite or infinite numbers, booleans, null, undefined. Everything
 * later (zod, cross-checks, messages) walks this copy, so none of it meets a getter that
 * throws, a proxy, a cycle or a BigInt. Each such value is a problem with its path instead.
 */
export function toPlainConfigValue(input: unknown): { value: unknown; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  let count = 0;
  let omitted = 0;
  const report = (path: Segment[], message: string) => {
    if (issues.length < MAX_SHAPE_ISSUES) issues.push({ path: formatPath(path), message });
    else omitted++;
  };
  // Objects on the path from the root: meeting one again is a cycle. An object reached twice
  // by different paths (a shared `const`, a YAML alias) is fine and copied each time.
  const ancestors = new Set<object>();

  const copy = (value: unknown, path: Segment[]): unknown => {
    count++;
    if (count === MAX_CONFIG_VALUES + 1) {
      report(
        path,
        `the config holds more than ${MAX_CONFIG_VALUES} values; is something repeated by aliases or a loop?`,
      );
    }
    if (count > MAX_CONFIG_VALUES) return undefined;
    switch (typeof value) {
      case 'string':
      case 'number':
      case 'boolean':
      case 'undefined':
        return value;
      case 'bigint':
        report(path, `expected a number, got the BigInt ${value}n; write a plain number`);
        return undefined;
      case 'symbol':
        report(path, `expected plain data, got a symbol (${String(value.description ?? '')})`);
        return undefined;
      case 'function':
        report(path, 'expected plain data, got a function; a config holds values only');
        return undefined;
    }
    if (value === null) return null;
    const object = value as object;
    if (ancestors.has(object)) {
      report(path, 'refers to itself (a circular object, or a YAML alias inside its own anchor)');
      return undefined;
    }
    if (path.length >= MAX_CONFIG_DEPTH) {
      report(path, `nested deeper than ${MAX_CONFIG_DEPTH} levels`);
      return undefined;
    }
    ancestors.add(object);
    try {
      return copyObject(object, path);
    } catch (error) {
      // A proxy whose traps throw, or a revoked one: the object itself cannot be read.
      report(path, `could not be read: ${describeThrown(error)}`);
      return undefined;
    } finally {
      ancestors.delete(object);
    }
  };

  const copyObject = (object: object, path: Segment[]): unknown => {
    if (Array.isArray(object)) {
      const length = object.length;
      const result: unknown[] = [];
      for (let index = 0; index < length && count <= MAX_CONFIG_VALUES; index++) {
        result.push(copy(read(object, index, path), [...path, index]));
      }
      return result;
    }
    const kind = describeObjectKind(object);
    if (kind) {
      report(path, `expected plain data, got ${kind}`);
      return undefined;
    }
    const result: Record<string, unknown> = {};
    for (const key of Object.keys(object)) {
      if (count > MAX_CONFIG_VALUES) break;
      // defineProperty: a key named "__proto__" stays a plain key instead of setting the prototype.
      Object.defineProperty(result, key, {
        value: copy(read(object, key, path), [...path, key]),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return result;
  };

  /** One property, through its getter if it has one: a throwing getter is a problem at its path. */
  const read = (object: object, key: Segment, path: Segment[]): unknown => {
    try {
      return (object as Record<Segment, unknown>)[key];
    } catch (error) {
      report([...path, key], `could not be read: ${describeThrown(error)}`);
      return undefined;
    }
  };

  const value = copy(input, []);
  if (omitted > 0)
    issues.push({ path: '', message: `and ${omitted} more problem${omitted === 1 ? '' : 's'} of this kind` });
  return { value, issues };
}

/** What an object that is not a plain `{}` is, for the message; undefined when it is plain. */
function describeObjectKind(object: object): string | undefined {
  const prototype = Object.getPrototypeOf(object);
  if (prototype === Object.prototype || prototype === null) return undefined;
  if (object instanceof Date) return 'a Date; write it as a string';
  if (object instanceof RegExp) return 'a RegExp; write its source as a string, e.g. "^/docs/"';
  if (object instanceof Promise) return 'a Promise; export the value itself';
  if (object instanceof Map) return 'a Map; write an object';
  if (object instanceof Set) return 'a Set; write an array';
  const name = (prototype as { constructor?: { name?: unknown } }).constructor?.name;
  return `an instance of ${typeof name === 'string' && name ? name : 'a class'}; write an object literal`;
}
