/**
 * Misbehaviour the demo shop can be told to show, so a quick start and the tests meet real
 * failures: slow answers, server errors, a dead button, dropped and hanging connections.
 * The server reads this object on every request, so changing a field in-process takes
 * effect on the next request without a restart.
 */
export interface DemoShopFaults {
  /** Every response except /admin/* waits this many milliseconds first. */
  delayMs: number;
  /** `true`: every response is a 500; a list: responses whose path starts with one of these. */
  status500: boolean | string[];
  /** The checkout page's Pay button renders but clicking it sends nothing and goes nowhere. */
  brokenPayButton: boolean;
  /** The server destroys the connection without writing any response. */
  closeConnections: boolean;
  /** The server accepts the request and never answers (until the shop is closed). */
  hang: boolean;
}

export const FAULT_NAMES = ['delayMs', 'status500', 'brokenPayButton', 'closeConnections', 'hang'] as const;

/** Beyond this a "delay" is a hang; `hang` says that more honestly. */
export const MAX_DELAY_MS = 600_000;

export function createFaults(): DemoShopFaults {
  return { delayMs: 0, status500: false, brokenPayButton: false, closeConnections: false, hang: false };
}

/** Resets in place, so every holder of the object (tests, the server) sees the change. */
export function clearFaults(faults: DemoShopFaults): void {
  Object.assign(faults, createFaults());
}

export function status500Applies(faults: DemoShopFaults, pathname: string): boolean {
  const { status500 } = faults;
  if (typeof status500 === 'boolean') return status500;
  return status500.some((prefix) => pathname.startsWith(prefix));
}

export type FaultsPatchResult =
  | { ok: true; patch: Partial<DemoShopFaults> }
  | { ok: false; problems: { path: string; message: string }[] };

/**
 * Checks a `POST /admin/faults` body. Every problem is reported at once with the field it
 * concerns, so a caller fixes a bad request in one go; nothing is applied unless all is valid.
 */
export function parseFaultsPatch(body: unknown): FaultsPatchResult {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return {
      ok: false,
      problems: [{ path: '(body)', message: `must be a JSON object, got ${describeValue(body)}` }],
    };
  }
  const problems: { path: string; message: string }[] = [];
  const patch: Partial<DemoShopFaults> = {};
  for (const [key, value] of Object.entries(body)) {
    switch (key) {
      case 'delayMs':
        if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_DELAY_MS) {
          patch.delayMs = value;
        } else {
          problems.push({
            path: key,
            message: `must be an integer from 0 to ${MAX_DELAY_MS}, got ${describeValue(value)}`,
          });
        }
        break;
      case 'status500':
        if (typeof value === 'boolean') {
          patch.status500 = value;
        } else if (
          Array.isArray(value) &&
          value.every((item) => typeof item === 'string' && item.startsWith('/'))
        ) {
          patch.status500 = [...value];
        } else {
          problems.push({
            path: key,
            message: `must be true, false or a list of path prefixes starting with "/", got ${describeValue(value)}`,
          });
        }
        break;
      case 'brokenPayButton':
      case 'closeConnections':
      case 'hang':
        if (typeof value === 'boolean') patch[key] = value;
        else problems.push({ path: key, message: `must be true or false, got ${describeValue(value)}` });
        break;
      default:
        problems.push({ path: key, message: `is not a fault; known faults are ${FAULT_NAMES.join(', ')}` });
    }
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, patch };
}

function describeValue(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
