import { z } from 'zod';
import { MASK, MIN_SECRET_LENGTH, processSecretMasker, type SecretMasker } from './secret-masker.ts';
import { expected } from './zod-helpers.ts';

export { MASK };

/** `${env:NAME}` reads the environment; `${file:NAME}` reads the secrets file. */
const SECRET_REF_RE = /\$\{(env|file):([A-Za-z_][A-Za-z0-9_]*)\}/g;
const WHOLE_SECRET_REF_RE = /^\$\{(env|file):([A-Za-z_][A-Za-z0-9_]*)\}$/;

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
 * results, traces, HAR files and emails can mask them, in every encoding (secret-masker.ts).
 */
export class SecretResolver {
  private readonly handedOut: Set<string>;

  constructor(
    private readonly env: Record<string, string | undefined> = process.env,
    private readonly fileSecrets: Record<string, string> = {},
    private readonly secretsFilePath?: string,
    /**
     * Where handed-out values are recorded. The default is the process's own masker, which
     * the logger also masks with: a value resolved anywhere in the process never reaches a log line.
     */
    private readonly masker: SecretMasker = processSecretMasker,
    /** Values a run received (tokens, cookies): masked in that run only. */
    private readonly runMasker?: SecretMasker,
    handedOut?: Set<string>,
  ) {
    this.handedOut = handedOut ?? new Set();
  }

  /**
   * A resolver for one run: it resolves and records like this one, and `maskAlso` adds
   * values the run received (a session cookie, a bearer token) that are masked in this
   * run's result and evidence and forgotten with it.
   */
  forRun(): SecretResolver {
    return new SecretResolver(
      this.env,
      this.fileSecrets,
      this.secretsFilePath,
      this.masker,
      (this.runMasker ?? this.masker).extend(),
      this.handedOut,
    );
  }

  /** Masks `value` like a secret from now on (in this run only, for a run's resolver). */
  maskAlso(value: string): void {
    (this.runMasker ?? this.masker).add(value);
  }

  /**
   * Resolves every reference in a config tree once, so its values are masked from the start:
   * a request that carries a secret before any run used it (a token pasted in a query) is
   * logged masked too. Call it on a config that validated (every reference resolves).
   */
  registerAll(tree: unknown): void {
    if (typeof tree === 'string') {
      if (tree.includes('${')) this.interpolate(tree);
    } else if (Array.isArray(tree)) {
      for (const item of tree) this.registerAll(item);
    } else if (tree !== null && typeof tree === 'object') {
      for (const item of Object.values(tree)) this.registerAll(item);
    }
  }

  /** Replaces every `${env:…}`/`${file:…}` in `text`; throws SecretError naming the missing one. */
  interpolate(text: string): string {
    return text.replace(SECRET_REF_RE, (_whole, source: string, name: string) => this.lookup(source, name));
  }

  has(source: 'env' | 'file', name: string): boolean {
    return this.valueOf(source, name) !== undefined;
  }

  /**
   * A value too short to mask (see MIN_SECRET_LENGTH) would be sent and then shown
   * unmasked in every result and log line: validation refuses it.
   */
  tooShortToMask(source: 'env' | 'file', name: string): boolean {
    const value = this.valueOf(source, name);
    return value !== undefined && value.length < MIN_SECRET_LENGTH;
  }

  private valueOf(source: 'env' | 'file', name: string): string | undefined {
    return source === 'env' ? this.env[name] : this.fileSecrets[name];
  }

  /** Replaces every secret value handed out (and every value received in this run) with `***`, in any encoding. */
  mask(text: string): string {
    return (this.runMasker ?? this.masker).mask(text);
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
    this.masker.add(value);
    return value;
  }
}
