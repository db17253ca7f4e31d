import { readFileSync, statSync } from 'node:fs';

/** A PEM file larger than this is not a certificate, a CA bundle or a key. */
const MAX_PEM_BYTES = 10 * 1024 ** 2;

/** What a PEM file named in a config must hold, and how a problem line names it. */
export const PEM_CONTENTS = {
  ca: { what: 'a PEM file of CA certificates', marker: /-----BEGIN CERTIFICATE-----/ },
  certificate: { what: 'a PEM certificate file', marker: /-----BEGIN CERTIFICATE-----/ },
  key: { what: 'a PEM private key file', marker: /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/ },
} as const;
export type PemContents = keyof typeof PEM_CONTENTS;

/** Why `path` cannot serve as the PEM file expected, or undefined when it can. */
export function pemFileProblem(path: string, contents: PemContents = 'ca'): string | undefined {
  const { what, marker } = PEM_CONTENTS[contents];
  let size: number;
  try {
    const stats = statSync(path);
    if (stats.isDirectory()) return `${path} is a directory, expected ${what}`;
    size = stats.size;
  } catch (error) {
    return `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}`;
  }
  if (size > MAX_PEM_BYTES) return `${path} is ${size} bytes, more than ${what} (at most 10 MiB)`;
  let text: string;
  try {
    text = readFileSync(path, 'latin1');
  } catch (error) {
    return `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}`;
  }
  if (!marker.test(text)) {
    return contents === 'key'
      ? `${path} holds no PEM private key (a "-----BEGIN PRIVATE KEY-----" block)`
      : `${path} holds no PEM certificate (a "-----BEGIN CERTIFICATE-----" block)`;
  }
  return undefined;
}
