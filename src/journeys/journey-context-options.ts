import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { BrowserContextOptions } from 'playwright';
import { z } from 'zod';
import { type SecretResolver, secretRef } from '../config/secret-resolver.ts';
import { expected, strictObject } from '../config/zod-helpers.ts';
import type { JourneyContextOptions, JourneyStorageState } from './journey.ts';

/** An HTTP header name (RFC 9110 token): Playwright would refuse anything else at run time. */
const HEADER_NAME_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

const pixels = z
  .number({ error: expected('a whole number of CSS pixels') })
  .int({ error: 'expected a whole number of CSS pixels' })
  .min(1, { error: 'expected at least 1 pixel' })
  .max(10_000, { error: 'expected at most 10000 pixels' });

const storageStateObject = z.object(
  {
    cookies: z.array(z.record(z.string(), z.unknown()), { error: expected('an array of cookies') }),
    origins: z.array(z.record(z.string(), z.unknown()), { error: expected('an array of origins') }),
  },
  { error: expected('a storage state file path or { cookies, origins }') },
);

/** The journey's `use`: Playwright's context options, each checked with a clear line. */
export const journeyContextOptionsSchema = strictObject(
  {
    baseURL: z
      .string({ error: expected('an http(s) URL such as "https://shop.example"') })
      .refine(isHttpUrl, { error: 'expected an http(s) URL such as "https://shop.example"' })
      .optional(),
    storageState: z
      .union([z.string().min(1, { error: 'expected a file path' }), storageStateObject], {
        error: expected('a storage state file path or { cookies, origins }'),
      })
      .optional(),
    viewport: strictObject(
      { width: pixels, height: pixels },
      { what: '{ width, height } in CSS pixels' },
    ).optional(),
    locale: z
      .string({ error: expected('a locale such as "en-US"') })
      .regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, { error: 'expected a locale such as "en-US"' })
      .optional(),
    timezoneId: z
      .string({ error: expected('an IANA time zone such as "Europe/Berlin"') })
      .refine(isTimeZone, { error: 'expected an IANA time zone such as "Europe/Berlin"' })
      .optional(),
    httpCredentials: strictObject(
      { username: z.string().min(1, { error: 'expected a user name' }), password: secretRef() },
      { what: '{ username, password: "${env:NAME}" }' },
    ).optional(),
    extraHTTPHeaders: z
      .record(
        z.string().regex(HEADER_NAME_RE, { error: 'expected an HTTP header name' }),
        z.string({ error: expected('a header value (a string, may hold "${env:NAME}")') }),
        { error: expected('an object of header name → value') },
      )
      .optional(),
  },
  { what: 'an object of browser context options (baseURL, viewport, …)' },
);

/** `use` after loading: a storageState file is an absolute path that existed at load. */
export type LoadedContextOptions = Omit<JourneyContextOptions, 'storageState'> & {
  storageState?: string | JourneyStorageState;
};

/**
 * Resolves a storageState path against the journey's own file (as QA see it next to the
 * journey) and checks it exists now, not at the first run hours later.
 */
export function resolveContextOptions(
  use: z.output<typeof journeyContextOptionsSchema> | undefined,
  journeyFile: string,
  problem: (path: string, message: string) => void,
): LoadedContextOptions {
  if (!use) return {};
  const loaded = { ...use } as LoadedContextOptions;
  if (typeof use.storageState === 'string') {
    const path = resolve(dirname(journeyFile), use.storageState);
    if (!existsSync(path))
      problem(
        'storageState',
        `file not found: ${use.storageState} (expected a path relative to the journey file)`,
      );
    loaded.storageState = path;
  }
  return loaded;
}

/**
 * Playwright's context options for one run: secret references resolved through the run's
 * resolver, so the password, the headers' secrets and the Basic header they make are masked
 * in the result and the evidence. Throws SecretError for a reference that does not resolve.
 */
export function browserContextOptionsOf(
  use: LoadedContextOptions | undefined,
  secrets: SecretResolver,
): BrowserContextOptions {
  if (!use) return {};
  const { httpCredentials, extraHTTPHeaders, ...plain } = use;
  const options: BrowserContextOptions = { ...(plain as BrowserContextOptions) };
  if (httpCredentials) {
    const password = secrets.interpolate(httpCredentials.password);
    // The Authorization header carries base64(user:password), which no encoding of the
    // password alone matches.
    secrets.maskAlso(Buffer.from(`${httpCredentials.username}:${password}`).toString('base64'));
    options.httpCredentials = { username: httpCredentials.username, password };
  }
  if (extraHTTPHeaders) {
    options.extraHTTPHeaders = Object.fromEntries(
      Object.entries(extraHTTPHeaders).map(([name, value]) => {
        const resolved = secrets.interpolate(value);
        if (resolved !== value) secrets.maskAlso(resolved);
        return [name, resolved];
      }),
    );
  }
  return options;
}
