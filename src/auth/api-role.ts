/**
 * What a token may read, each role including the ones before it: a viewer reads states, runs
 * and screenshots; an operator also opens traces, HARs, captures and bundles and asks for
 * runs and captures; an admin also sets maintenance and silences.
 */
export const READ_ROLES = ['viewer', 'operator', 'admin'] as const;

/**
 * A worker on another host (its own disk) uploads its evidence to the API and may do nothing
 * else: it reads nothing, so a token taken from a cloud host opens no trace or capture.
 */
export const UPLOAD_ROLE = 'worker';

export const API_ROLES = [...READ_ROLES, UPLOAD_ROLE] as const;

export type ApiRole = (typeof API_ROLES)[number];

/**
 * Whether `have` may do what `need` may: among the read roles by their order; the upload
 * role is a separate capability, neither above nor below them (an admin cannot upload, a
 * worker cannot read).
 */
export function roleAllows(have: ApiRole, need: ApiRole): boolean {
  if (have === UPLOAD_ROLE || need === UPLOAD_ROLE) return have === need;
  return READ_ROLES.indexOf(have) >= READ_ROLES.indexOf(need);
}
