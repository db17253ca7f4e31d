/**
 * Configs that once crashed `pathwatch validate` with a stack trace, hung it, or passed
 * when they should not. Each is a small project (files relative to its directory) whose
 * config is `config`, and the problem lines validate must print for it.
 */
export interface MalformedConfig {
  name: string;
  config: string;
  files: Record<string, string>;
  /** Lines expected on stderr, after the config file's path. */
  expect: RegExp[];
  /** Text that must never be printed (a secret from a broken secrets file). */
  never?: string[];
}

const VALID_LOCATIONS = 'locations: { inside: {} }\n';

/** 5 levels of 9 aliases each: 59049 values from a 200-byte file. */
const ALIAS_BOMB = [
  'a: &a ["x","x","x","x","x","x","x","x","x"]',
  'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
  'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
  'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
  'e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]',
  VALID_LOCATIONS,
].join('\n');

function manyAliases(count: number): string {
  const lines = [VALID_LOCATIONS, 'checks:'];
  lines.push('  - { id: c0, kind: http, tags: [&t shop], http: { url: "http://127.0.0.1/" } }');
  for (let index = 1; index <= count; index++)
    lines.push(`  - { id: c${index}, kind: http, tags: [*t], http: { url: "http://127.0.0.1/" } }`);
  return `${lines.join('\n')}\n`;
}

export const MALFORMED_CONFIGS: MalformedConfig[] = [
  {
    name: 'a YAML alias bomb',
    config: 'pathwatch.config.yaml',
    files: { 'pathwatch.config.yaml': ALIAS_BOMB },
    expect: [/^ {2}aliases expand to too many values \(more than 1000 alias uses\)/m],
  },
  {
    name: 'a YAML file with over 1000 aliases',
    config: 'pathwatch.config.yaml',
    files: { 'pathwatch.config.yaml': manyAliases(1001) },
    expect: [/^ {2}aliases expand to too many values/m],
  },
  {
    name: 'a self-referencing YAML anchor',
    config: 'pathwatch.config.yaml',
    files: { 'pathwatch.config.yaml': `${VALID_LOCATIONS}checks: &c [ *c ]\n` },
    expect: [/^ {2}checks\[0\]: refers to itself/m],
  },
  {
    name: 'an undefined YAML alias',
    config: 'pathwatch.config.yaml',
    files: { 'pathwatch.config.yaml': `${VALID_LOCATIONS}checks: *nope\n` },
    expect: [/^ {2}line 2, column 9: alias \*nope has no anchor &nope before it$/m],
  },
  {
    name: 'a secrets file with a YAML error',
    config: 'pathwatch.config.yaml',
    files: {
      'pathwatch.config.yaml': `${VALID_LOCATIONS}secretsFile: secrets.yaml\n`,
      'secrets.yaml': 'SHOP_TOKEN: s3cr3t-Zq81\nOTHER: [unclosed\n',
    },
    expect: [/^ {2}secretsFile: \S+secrets\.yaml line 3, column 1: /m],
    never: ['s3cr3t-Zq81'],
  },
  {
    name: 'a map in the secrets file',
    config: 'pathwatch.config.yaml',
    files: {
      'pathwatch.config.yaml': `${VALID_LOCATIONS}secretsFile: secrets.yaml\n`,
      'secrets.yaml': 'SHOP_TOKEN:\n  value: s3cr3t-Zq82\n',
    },
    expect: [
      /^ {2}secretsFile: \S+secrets\.yaml: SHOP_TOKEN must be a single value \(a string\), got a map$/m,
    ],
    never: ['s3cr3t-Zq82'],
  },
  {
    name: 'a missing CA, certificate or key file in each check kind that takes one',
    config: 'pathwatch.config.yaml',
    files: {
      'pathwatch.config.yaml': [
        VALID_LOCATIONS,
        'checks:',
        '  - { id: h, kind: http, tls: { caRoots: replace, ca: missing/http.pem }, http: { url: "https://127.0.0.1/" } }',
        '  - { id: c, kind: crawl, tls: { caRoots: replace, ca: missing/crawl.pem }, crawl: { url: "https://127.0.0.1/" } }',
        '  - { id: t, kind: tcp, tls: { caRoots: replace, ca: missing/tcp.pem }, tcp: { host: 127.0.0.1, port: 443, tls: true } }',
        '  - { id: s, kind: tls, tls: { host: 127.0.0.1, port: 443, caRoots: replace, ca: missing/tls.pem } }',
        '  - { id: m, kind: smtp, tls: { caRoots: add, ca: missing/smtp.pem }, smtp: { host: 127.0.0.1 } }',
        '  - { id: f, kind: ftp, tls: { caRoots: add, ca: missing/ftp.pem }, ftp: { host: 127.0.0.1, secure: explicit } }',
        '  - { id: x, kind: http, tls: { caRoots: replace, ca: not-a-pem.txt }, http: { url: "https://127.0.0.1/" } }',
        '  - { id: k, kind: tcp, tls: { cert: missing/client.pem, key: not-a-pem.txt }, tcp: { host: 127.0.0.1, port: 443, tls: true } }',
        '',
      ].join('\n'),
      'not-a-pem.txt': 'hello\n',
    },
    expect: [
      /^ {2}checks\[0\]\.tls\.ca: cannot read \S+\/missing\/http\.pem: ENOENT$/m,
      /^ {2}checks\[1\]\.tls\.ca: cannot read \S+\/missing\/crawl\.pem: ENOENT$/m,
      /^ {2}checks\[2\]\.tls\.ca: cannot read \S+\/missing\/tcp\.pem: ENOENT$/m,
      /^ {2}checks\[3\]\.tls\.ca: cannot read \S+\/missing\/tls\.pem: ENOENT$/m,
      /^ {2}checks\[4\]\.tls\.ca: cannot read \S+\/missing\/smtp\.pem: ENOENT$/m,
      /^ {2}checks\[5\]\.tls\.ca: cannot read \S+\/missing\/ftp\.pem: ENOENT$/m,
      /^ {2}checks\[6\]\.tls\.ca: \S+\/not-a-pem\.txt holds no PEM certificate/m,
      /^ {2}checks\[7\]\.tls\.cert: cannot read \S+\/missing\/client\.pem: ENOENT$/m,
      /^ {2}checks\[7\]\.tls\.key: \S+\/not-a-pem\.txt holds no PEM private key/m,
    ],
  },
  {
    name: 'a journeys glob that matches nothing',
    config: 'pathwatch.config.yaml',
    files: { 'pathwatch.config.yaml': `${VALID_LOCATIONS}journeys: journeys/*.journey.ts\n` },
    expect: [/^ {2}journeys: "journeys\/\*\.journey\.ts" matches no file under /m],
  },
  {
    name: 'an unknown secret scheme',
    config: 'pathwatch.config.yaml',
    files: {
      'pathwatch.config.yaml': `${VALID_LOCATIONS}checks:\n  - { id: a, kind: http, http: { url: "http://127.0.0.1/", headers: { x-api-key: "\${vault:SHOP_KEY}" } } }\n`,
    },
    expect: [
      /^ {2}checks\[0\]\.http\.headers\.x-api-key: secret \$\{vault:SHOP_KEY\}: unknown secret source "vault"/m,
    ],
  },
  {
    name: 'a circular TS object',
    config: 'pathwatch.config.ts',
    files: {
      'pathwatch.config.ts':
        "const config: Record<string, unknown> = { locations: { inside: {} } };\nconfig.checks = [{ id: 'a', kind: 'http', http: { url: 'http://127.0.0.1/' }, parent: config }];\nexport default config;\n",
    },
    expect: [/^ {2}checks\[0\]\.parent: refers to itself/m],
  },
  {
    name: 'a TS config that throws a non-Error',
    config: 'pathwatch.config.ts',
    files: { 'pathwatch.config.ts': 'throw 42;\n' },
    expect: [/^ {2}threw while loading: the value 42$/m],
  },
  {
    name: 'a rejecting default export',
    config: 'pathwatch.config.ts',
    files: {
      'pathwatch.config.ts': "export default Promise.reject(new Error('vault unreachable'));\n",
    },
    expect: [/^ {2}the default export failed: vault unreachable$/m],
  },
  {
    name: 'a throwing getter',
    config: 'pathwatch.config.ts',
    files: {
      'pathwatch.config.ts':
        "export default { locations: { inside: {} }, defaults: { get interval() { throw new Error('getter boom'); } } };\n",
    },
    expect: [/^ {2}defaults\.interval: could not be read: getter boom$/m],
  },
  {
    name: 'a proxy whose traps throw',
    config: 'pathwatch.config.ts',
    files: {
      'pathwatch.config.ts':
        "export default { locations: new Proxy({}, { ownKeys() { throw new TypeError('proxy boom'); } }) };\n",
    },
    expect: [/^ {2}locations: could not be read: TypeError: proxy boom$/m],
  },
  {
    name: 'BigInt values',
    config: 'pathwatch.config.ts',
    files: {
      'pathwatch.config.ts':
        "export default { locations: { inside: {} }, rollupDays: 10n, checks: [{ id: 'a', kind: 'tcp', tcp: { host: '127.0.0.1', port: 443n } }] };\n",
    },
    expect: [
      /^ {2}rollupDays: expected a number, got the BigInt 10n; write a plain number$/m,
      /^ {2}checks\[0\]\.tcp\.port: expected a number, got the BigInt 443n/m,
    ],
  },
  {
    name: 'a function where data belongs',
    config: 'pathwatch.config.ts',
    files: {
      'pathwatch.config.ts': 'export default { locations: { inside: {} }, dataDir: () => "/tmp" };\n',
    },
    expect: [/^ {2}dataDir: expected plain data, got a function/m],
  },
];
