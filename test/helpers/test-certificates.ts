import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCertificate {
  key: string;
  cert: string;
  /** Paths of the same PEMs, for configs that name a file. */
  keyFile: string;
  certFile: string;
}

export interface TestPki {
  dir: string;
  /** The test CA; trust it with `tls.ca: caFile`. */
  ca: TestCertificate;
  /** Valid now, for localhost and 127.0.0.1, signed by the CA. */
  valid: TestCertificate;
  /** Expired a year ago (valid from 2 years ago), for localhost and 127.0.0.1. */
  expired: TestCertificate;
  /** Valid, but for wrong.example only: a host-name mismatch on 127.0.0.1. */
  wrongHost: TestCertificate;
  /** Valid for localhost/127.0.0.1 but expires in 5 days: for "days left" limits. */
  expiringSoon: TestCertificate;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: 'pipe' });
}

function read(dir: string, name: string): TestCertificate {
  return {
    key: readFileSync(join(dir, `${name}.key`), 'utf8'),
    cert: readFileSync(join(dir, `${name}.crt`), 'utf8'),
    keyFile: join(dir, `${name}.key`),
    certFile: join(dir, `${name}.crt`),
  };
}

/**
 * A throw-away CA and leaf certificates made with the openssl CLI, so TLS tests run
 * against real certificates: valid, expired, for the wrong host, expiring soon.
 * `openssl x509 -days` cannot backdate, so the expired one is signed with `openssl ca`
 * and explicit start/end dates.
 */
export function createTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'pathwatch-pki-'));
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-days',
      '30',
      '-subj',
      '/CN=pathwatch test CA',
    ],
    dir,
  );
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), '1000\n');
  writeFileSync(
    join(dir, 'ca.cnf'),
    [
      '[ca]',
      'default_ca = test_ca',
      '[test_ca]',
      `dir = ${dir}`,
      'database = $dir/index.txt',
      'serial = $dir/serial',
      'new_certs_dir = $dir',
      'certificate = $dir/ca.crt',
      'private_key = $dir/ca.key',
      'default_md = sha256',
      'policy = any_policy',
      'copy_extensions = copy',
      'unique_subject = no',
      '[any_policy]',
      'commonName = supplied',
      '',
    ].join('\n'),
  );
  const leaf = (name: string, cn: string, san: string, dates: string[]) => {
    openssl(
      [
        'req',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        `${name}.key`,
        '-out',
        `${name}.csr`,
        '-subj',
        `/CN=${cn}`,
        '-addext',
        `subjectAltName=${san}`,
      ],
      dir,
    );
    openssl(
      ['ca', '-batch', '-config', 'ca.cnf', '-in', `${name}.csr`, '-out', `${name}.crt`, '-notext', ...dates],
      dir,
    );
  };
  const stamp = (offsetDays: number) => {
    const date = new Date(Date.now() + offsetDays * 86_400_000);
    return `${date.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
  };
  const local = 'DNS:localhost,IP:127.0.0.1,IP:::1';
  leaf('valid', 'localhost', local, ['-startdate', stamp(-1), '-enddate', stamp(25)]);
  leaf('expired', 'localhost', local, ['-startdate', stamp(-730), '-enddate', stamp(-365)]);
  leaf('wrong-host', 'wrong.example', 'DNS:wrong.example', ['-startdate', stamp(-1), '-enddate', stamp(25)]);
  leaf('expiring-soon', 'localhost', local, ['-startdate', stamp(-1), '-enddate', stamp(5)]);
  return {
    dir,
    ca: read(dir, 'ca'),
    valid: read(dir, 'valid'),
    expired: read(dir, 'expired'),
    wrongHost: read(dir, 'wrong-host'),
    expiringSoon: read(dir, 'expiring-soon'),
  };
}
