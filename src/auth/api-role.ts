/**
 * What a token may do, each role including the ones before it: a viewer reads states, runs
 * and screenshots; an operator also opens traces, HARs, captures and bundles and asks for
 * runs and captures; an admin also sets maintenance and silences.
 */
export const API_ROLES = ['viewer', 'operator', 'admin'] as const;

export type ApiRole = (typeof API_ROLES)[number];

/** Whether `have` includes everything `need` may do. */
export function roleAllows(have: ApiRole, need: ApiRole): boolean {
  return API_ROLES.indexOf(have) >= API_ROLES.indexOf(need);
}
