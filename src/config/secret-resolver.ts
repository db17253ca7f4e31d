import { z } from 'zod';
import { expected } from './zod-helpers.ts';

/** `${env:NAME}` reads the environment; `${file:NAME}` reads the secrets file. */
const SECRET_REF_RE = /\$\{(env|file):([A-Za-z_][A-Za-z0-9_]*)\}/g;
const WHOLE_SECRET_REF_RE = /^\$\{(env|file):([A-Za-z_][A-Za-z0-9_]*)\}$/;

export const MASK = '***';

/**
 * A field that holds a secret accepts only a reference, so a password can never be
 * committed inline in a checks file.
 */
export function secretRef() {
  return z
    .string({ error: expected('a secret reference such as "${env:SHOP_PASSWORD}"') })
    .regex(WHOLE_SECRET_REF_RE, {
      error: () => 'must be a secret reference such as "${env:NAME}" or "${file:NAME}", not an inline value',
    });
}

/** Every reference in a string, for validating that they can be resolved. */
export function secretRefsIn(text: string): Array<{ source: 'env' | 'file'; name: string }> {
  return [...text.matchAll(SECRET_REF_RE)].map((match) => ({
    source: match[1] as 'env' | 'file',
    name: match[2],
  }));
}

export class SecretError extends Error {
  readonly code = 'SECRET_MISSING';
}

/**
 * Resolves secret references and remembers every value it handed out so that logs,
 * results, HAR files and emails can mask them.
 */
export class SecretResolver {
  private readonly handedOut = new Set<string>();

  constructor(
    private readonly env: Record<string, string | undefined> = process.env,
    private readonly fileSecrets: Record<string, string> = {},
    private readonly secretsFilePath?: string,
  ) {}

  /** Replaces every `${env:…}`/`${file:…}` in `text`; throws SecretError naming the missing one. */
  interpolate(text: string): string {
    return text.replace(SECRET_REF_RE, (_whole, source: string, name: string) => this.lookup(source, name));
  }

  has(source: 'env' | 'file', name: string): boolean {
    return source === 'env' ? this.env[name] !== undefined : this.fileSecrets[name] !== undefined;
  }

  /** Replaces every secret value this resolver handed out with `***`. */
  mask(text: string): string {
    let masked = text;
    for (const value of this.handedOut) {
      if (value.length >= 3) masked = masked.split(value).join(MASK);
    }
    return masked;
  }

  get values(): readonly string[] {
    return [...this.handedOut];
  }

  private lookup(source: string, name: string): string {
    const value = source === 'env' ? this.env[name] : this.fileSecrets[name];
    if (value === undefined) {
      const where =
        source === 'env'
          ? `environment variable ${name} is not set`
          : `secret ${name} is not in the secrets file${this.secretsFilePath ? ` ${this.secretsFilePath}` : ''}`;
      throw new SecretError(`secret \${${source}:${name}}: ${where}`);
    }
    this.handedOut.add(value);
    return value;
  }
}
