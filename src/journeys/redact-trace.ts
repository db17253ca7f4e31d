import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import { type HarEntry, redactHarEntry } from './redact-har.ts';

/** Text entries of a Playwright trace zip; screenshots and other binaries are left alone. */
function isTextEntry(name: string): boolean {
  return (
    /\.(trace|network|stacks|html|css|json|txt|js|ts|mjs|mts|dat)$/.test(name) || name.startsWith('src/')
  );
}

function looksLikeText(bytes: Uint8Array): boolean {
  return !bytes.subarray(0, 8192).includes(0);
}

/**
 * A Playwright trace records what the journey typed (a `fill` with the password), the
 * network (cookies, authorization headers, form posts) and DOM snapshots. Before a trace
 * is kept as evidence, every secret value is masked in all its text entries and the
 * network log's credential headers and cookies become `***`.
 */
export function redactTrace(zip: Uint8Array, mask: (text: string) => string): Uint8Array {
  const entries = unzipSync(zip);
  for (const [name, bytes] of Object.entries(entries)) {
    if (!isTextEntry(name) || !looksLikeText(bytes)) continue;
    let text = strFromU8(bytes);
    if (name.endsWith('.network')) {
      text = text
        .split('\n')
        .map((line) => {
          if (!line.trim()) return line;
          try {
            const event = JSON.parse(line) as { type?: string; snapshot?: HarEntry };
            if (event.type === 'resource-snapshot' && event.snapshot) redactHarEntry(event.snapshot);
            return JSON.stringify(event);
          } catch {
            return line;
          }
        })
        .join('\n');
    }
    entries[name] = strToU8(mask(text));
  }
  return zipSync(entries, { level: 6 });
}
