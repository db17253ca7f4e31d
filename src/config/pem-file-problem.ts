import { readFileSync, statSync } from 'node:fs';

/** A CA bundle larger than this is not a CA bundle. */
const MAX_PEM_BYTES = 10 * 1024 ** 2;

/** Why `path` cannot serve as a PEM file of CA certificates, or undefined when it can. */
export function pemFileProblem(path: string): string | undefined {
  let size: number;
  try {
    const stats = statSync(path);
    if (stats.isDirectory()) return `${path} is a directory, expected a PEM file of CA certificates`;
    size = stats.size;
  } catch (error) {
    return `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}`;
  }
  if (size > MAX_PEM_BYTES)
    return `${path} is ${size} bytes, more than a PEM file of CA certificates (at most 10 MiB)`;
  let text: string;
  try {
    text = readFileSync(path, 'latin1');
  } catch (error) {
    return `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}`;
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----')) {
    return `${path} holds no PEM certificate (a "-----BEGIN CERTIFICATE-----" block)`;
  }
  return undefined;
}
