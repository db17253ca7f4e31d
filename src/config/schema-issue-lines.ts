import type { z } from 'zod';
import { type ConfigIssue, formatPath } from './config-error.ts';
import { findMovedCheckKeys, type MovedKey, movedKeyIssue } from './moved-check-keys.ts';

/**
 * The schema's problems as config issues, one line each: an unknown-keys problem becomes
 * one line per key, and a key of the old check shape becomes the single line saying where
 * it goes now, instead of "unknown key" plus whatever its absence from the new place causes.
 */
export function schemaIssueLines(issues: readonly z.core.$ZodIssue[], raw: unknown): ConfigIssue[] {
  const moved = findMovedCheckKeys(raw);
  const lines: ConfigIssue[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      // strictObject() words one message per key, joined in the keys' order.
      const messages = issue.message.split('; ');
      for (const [index, key] of issue.keys.entries()) {
        const path = [...issue.path, key];
        if (!coveredByMove(path, moved))
          lines.push({ path: formatPath(path), message: messages[index] ?? issue.message });
      }
      continue;
    }
    if (coveredByMove(issue.path, moved) || isMissingBlockOfMovedKeys(issue, moved)) continue;
    lines.push({ path: formatPath(issue.path), message: issue.message });
  }
  for (const entry of moved) lines.push(movedKeyIssue(entry));
  return lines;
}

/** The issue is about a moved key, or something inside it. */
function coveredByMove(path: readonly PropertyKey[], moved: MovedKey[]): boolean {
  return moved.some(
    (entry) =>
      path[0] === 'checks' &&
      path[1] === entry.check &&
      entry.covers.every((key, index) => path[2 + index] === key),
  );
}

/**
 * `checks[0].http: required` or `checks[0].http.url: required` when the check's http
 * settings are still at the top level: the moved-key line already says where they go.
 */
function isMissingBlockOfMovedKeys(issue: z.core.$ZodIssue, moved: MovedKey[]): boolean {
  if (issue.code !== 'invalid_type' || issue.input !== undefined || issue.path[0] !== 'checks') return false;
  const [, check, ...inside] = issue.path;
  const where = inside.join('.');
  return moved.some(
    (entry) => entry.check === check && (entry.block === where || entry.to.split(' ')[0] === where),
  );
}
