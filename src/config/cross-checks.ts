import { closestMatch } from '../util/closest-match.ts';
import type { ConfigIssue } from './config-error.ts';
import { formatPath } from './config-error.ts';
import { malformedSecretRefsIn } from './malformed-secret-refs.ts';
import { MIN_SECRET_LENGTH } from './secret-masker.ts';
import type { SecretResolver } from './secret-resolver.ts';
import { secretRefsIn } from './secret-resolver.ts';

type Loose = Record<string, unknown>;

function asObject(value: unknown): Loose | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Loose) : undefined;
}

/**
 * Rules that span fields (a check's location must be declared, ids unique, secrets
 * resolvable). They read the raw input, tolerant of its shape, so they are reported
 * alongside the schema's own problems instead of after them are fixed.
 */
export function crossCheckConfig(raw: unknown, secrets: SecretResolver): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const root = asObject(raw);
  if (!root) return issues;
  const declared = Object.keys(asObject(root.locations) ?? {});
  const checkLocation = (value: unknown, path: PropertyKey[]) => {
    if (typeof value !== 'string' || declared.length === 0 || declared.includes(value)) return;
    const suggestion = closestMatch(value, declared);
    issues.push({
      path: formatPath(path),
      message: `location "${value}" is not declared in locations (declared: ${declared.join(', ')})${suggestion ? `, did you mean "${suggestion}"?` : ''}`,
    });
  };
  const defaults = asObject(root.defaults);
  if (Array.isArray(defaults?.locations)) {
    for (const [index, location] of defaults.locations.entries()) {
      checkLocation(location, ['defaults', 'locations', index]);
    }
  }
  const firstIndexById = new Map<string, number>();
  const checks = Array.isArray(root.checks) ? root.checks : [];
  for (const [index, entry] of checks.entries()) {
    const check = asObject(entry);
    if (!check) continue;
    if (typeof check.id === 'string') {
      const first = firstIndexById.get(check.id);
      if (first !== undefined) {
        issues.push({
          path: `checks[${index}].id`,
          message: `duplicate id "${check.id}", already used by checks[${first}]`,
        });
      } else firstIndexById.set(check.id, index);
    }
    if (Array.isArray(check.locations)) {
      for (const [position, location] of check.locations.entries()) {
        checkLocation(location, ['checks', index, 'locations', position]);
      }
    }
  }
  for (const [name, location] of Object.entries(asObject(root.locations) ?? {})) {
    const control = asObject(location)?.controlCheck;
    if (typeof control === 'string' && !firstIndexById.has(control)) {
      issues.push({
        path: formatPath(['locations', name, 'controlCheck']),
        message: `no check has id "${control}"`,
      });
    }
  }
  // Routes and maintenance windows name locations too: a typo there would quietly match nothing.
  const routes = asObject(root.alerting)?.routes;
  for (const [index, route] of (Array.isArray(routes) ? routes : []).entries()) {
    const locations = asObject(route)?.locations;
    for (const [position, location] of (Array.isArray(locations) ? locations : []).entries()) {
      checkLocation(location, ['alerting', 'routes', index, 'locations', position]);
    }
  }
  const windows = Array.isArray(root.maintenance) ? root.maintenance : [];
  for (const [index, window] of windows.entries()) {
    const locations = asObject(window)?.locations;
    for (const [position, location] of (Array.isArray(locations) ? locations : []).entries()) {
      checkLocation(location, ['maintenance', index, 'locations', position]);
    }
  }
  // The monthly report goes to alerting's lists: a typo would mail it to nobody, every month.
  const reportLists = asObject(asObject(root.reports)?.mail)?.lists;
  if (Array.isArray(reportLists)) {
    const alerting = asObject(root.alerting);
    const known = [
      ...(alerting?.to !== undefined ? ['default'] : []),
      ...Object.keys(asObject(alerting?.lists) ?? {}),
    ];
    for (const [index, name] of reportLists.entries()) {
      if (typeof name !== 'string' || name === '' || known.includes(name)) continue;
      const suggestion = closestMatch(name, known);
      issues.push({
        path: formatPath(['reports', 'mail', 'lists', index]),
        message: alerting
          ? `no recipient list "${name}" (lists: ${known.join(', ') || 'none'})${suggestion ? `, did you mean "${suggestion}"?` : ''}`
          : `no recipient list "${name}": there is no alerting block; add alerting.lists.${name} (with to and/or webhook)`,
      });
    }
  }
  // A month's report reads the month's hourly rollups, its first hours up to 31 + day days old
  // when it is sent: kept fewer days, the report would leave out its first days unsaid.
  const reportMail = asObject(asObject(root.reports)?.mail);
  if (reportMail) {
    const day = typeof reportMail.day === 'number' ? reportMail.day : 1;
    const rollupDays = typeof root.rollupDays === 'number' ? root.rollupDays : 30;
    const needed = 31 + day;
    if (rollupDays < needed) {
      issues.push({
        path: 'rollupDays',
        message: `is ${rollupDays}, but reports.mail sends each month's report on day ${day}, when the month's first hours are up to ${needed} days old: set rollupDays to at least ${needed}`,
      });
    }
  }
  walkStrings(root, [], (text, path) => {
    for (const { ref, problem } of malformedSecretRefsIn(text)) {
      issues.push({ path: formatPath(path), message: `secret ${ref}: ${problem}` });
    }
    for (const ref of secretRefsIn(text)) {
      if (!secrets.has(ref.source, ref.name)) {
        issues.push({
          path: formatPath(path),
          message:
            ref.source === 'env'
              ? `secret \${env:${ref.name}}: environment variable ${ref.name} is not set`
              : `secret \${file:${ref.name}}: not found in the secrets file`,
        });
      } else if (secrets.tooShortToMask(ref.source, ref.name)) {
        issues.push({
          path: formatPath(path),
          message: `secret \${${ref.source}:${ref.name}}: shorter than ${MIN_SECRET_LENGTH} characters, too short to be masked in results and logs; use a longer value`,
        });
      }
    }
  });
  return issues;
}

/** Every string in the tree. The tree is plain data already (`toPlainConfigValue`): finite and acyclic. */
function walkStrings(
  value: unknown,
  path: PropertyKey[],
  visit: (text: string, path: PropertyKey[]) => void,
): void {
  if (typeof value === 'string') visit(value, path);
  else if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) walkStrings(item, [...path, index], visit);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) walkStrings(item, [...path, key], visit);
  }
}
