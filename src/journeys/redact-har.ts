import { MASK } from '../config/secret-resolver.ts';

/** Headers whose values are credentials, whatever the site. */
const SENSITIVE_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
]);

interface HarHeader {
  name: string;
  value: string;
}
interface HarCookie {
  value: string;
}
interface HarMessage {
  headers?: HarHeader[];
  cookies?: HarCookie[];
}
export interface HarEntry {
  request?: HarMessage;
  response?: HarMessage;
}

/** Masks credential headers and cookie values of one HAR entry, in place. */
export function redactHarEntry(entry: HarEntry): void {
  for (const message of [entry.request, entry.response]) {
    if (!message) continue;
    for (const header of message.headers ?? []) {
      if (SENSITIVE_HEADERS.has(header.name.toLowerCase())) header.value = MASK;
    }
    for (const cookie of message.cookies ?? []) cookie.value = MASK;
  }
}

/**
 * A HAR as evidence that can be attached to a ticket: credential headers and cookie values
 * become `***`, and then every secret value the run used is masked wherever it appears
 * (URLs, form posts, bodies). `mask` is the run's SecretResolver.mask.
 */
export function redactHar(harText: string, mask: (text: string) => string): string {
  const har = JSON.parse(harText) as { log?: { entries?: HarEntry[] } };
  for (const entry of har.log?.entries ?? []) redactHarEntry(entry);
  return mask(JSON.stringify(har, null, 2));
}
