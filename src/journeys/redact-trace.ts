import { randomBytes } from 'node:crypto';
import { extname } from 'node:path';
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import { type HarEntry, redactHarEntry, tokensInHarEntry } from './redact-har.ts';

/** Text entries of a Playwright trace zip; screenshots and other binaries are left alone. */
function isTextEntry(name: string): boolean {
  return (
    /\.(trace|network|stacks|html|css|json|txt|js|ts|mjs|mts|dat)$/.test(name) ||
    name.startsWith('src/') ||
    name.startsWith('resources/')
  );
}

function looksLikeText(bytes: Uint8Array): boolean {
  return !bytes.subarray(0, 8192).includes(0);
}

/** What redactTrace needs of the run's SecretResolver. */
export interface TraceSecrets {
  mask(text: string): string;
  maskAlso(value: string): void;
}

type NetworkEvent = { type?: string; snapshot?: HarEntry };

function parseLines(lines: string[]): Array<NetworkEvent | undefined> {
  return lines.map((line) => {
    if (!line.trim()) return undefined;
    try {
      return JSON.parse(line);
    } catch {
      return undefined; // a line cut short by a crash
    }
  });
}

/** Random names tried per resource before it is left out of the kept trace. */
const NAME_TRIES = 16;

/**
 * Resources are named by the SHA-1 of their content (`resources/<sha1>.json`): a login's
 * form post named by the hash of `username=…&password=…` lets anyone holding the trace
 * confirm a guessed password offline. Each gets a random name for this trace instead,
 * one the masker leaves alone, so the rename survives masking. The tries are bounded: a
 * short secret inside the extension itself ("json") would mask every candidate, so after a
 * few the extension is dropped, and a resource no name can be found for is left out
 * (its references then point nowhere) rather than hanging the worker.
 */
function randomResourceNames(names: string[], mask: (text: string) => string): Map<string, string> {
  const renamed = new Map<string, string>();
  for (const name of names) {
    const base = name.slice('resources/'.length);
    for (let attempt = 0; attempt < NAME_TRIES; attempt++) {
      const extension = attempt < NAME_TRIES / 2 ? extname(base) : '';
      const fresh = `${randomBytes(20).toString('hex')}${extension}`;
      if (mask(fresh) === fresh) {
        renamed.set(base, fresh);
        break;
      }
    }
  }
  return renamed;
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/**
 * A Playwright trace records what the journey typed (a `fill` with the password), the
 * network (cookies, authorization headers, form posts, and the bodies: a login's answer
 * with its session token) and DOM snapshots. Before a trace is kept as evidence:
 * - the credentials the run sent or received (cookies, Authorization, token headers,
 *   token fields of JSON bodies, JWTs) are collected from its network log and bodies and
 *   added to the run's masker;
 * - the network log's credential headers and cookies become `***`;
 * - resources get random names, and every reference to them is rewritten;
 * - every secret and token is masked, in every encoding, in all its text entries,
 *   bodies included.
 */
export function redactTrace(zip: Uint8Array, secrets: TraceSecrets): Uint8Array {
  const entries = unzipSync(zip);
  const readText = (name: string): string | undefined => {
    const bytes = entries[name];
    return bytes && looksLikeText(bytes) ? strFromU8(bytes) : undefined;
  };
  const networkNames = Object.keys(entries).filter((name) => name.endsWith('.network'));

  const tokens = new Set<string>();
  for (const name of networkNames) {
    for (const event of parseLines((readText(name) ?? '').split('\n'))) {
      if (event?.type === 'resource-snapshot' && event.snapshot)
        tokensInHarEntry(event.snapshot, tokens, readText);
    }
  }
  for (const token of tokens) secrets.maskAlso(token);

  const mask = (text: string) => secrets.mask(text);
  const renamed = randomResourceNames(
    Object.keys(entries).filter((name) => name.startsWith('resources/')),
    mask,
  );
  const references =
    renamed.size > 0
      ? new RegExp(
          [...renamed.keys()]
            .sort((a, b) => b.length - a.length)
            .map(escapeRegex)
            .join('|'),
          'g',
        )
      : undefined;
  const rename = (text: string) =>
    references ? text.replace(references, (old) => renamed.get(old) ?? old) : text;

  const redacted: Record<string, Uint8Array> = {};
  for (const [name, bytes] of Object.entries(entries)) {
    const isResource = name.startsWith('resources/');
    const freshName = isResource ? renamed.get(name.slice('resources/'.length)) : undefined;
    if (isResource && freshName === undefined) continue; // no safe name: not kept
    const kept = isResource ? `resources/${freshName}` : name;
    if (!isTextEntry(name) || !looksLikeText(bytes)) {
      redacted[kept] = bytes;
      continue;
    }
    let text = strFromU8(bytes);
    if (name.endsWith('.network')) {
      const lines = text.split('\n');
      text = parseLines(lines)
        .map((event, index) => {
          if (!event) return lines[index];
          if (event.type === 'resource-snapshot' && event.snapshot) redactHarEntry(event.snapshot);
          return JSON.stringify(event);
        })
        .join('\n');
    }
    // Bodies are not rewritten by name: a page's own text could hold a string that looks like one.
    if (!name.startsWith('resources/')) text = rename(text);
    redacted[kept] = strToU8(mask(text));
  }
  return zipSync(redacted, { level: 6 });
}
