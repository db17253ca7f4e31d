import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestCertificate, TestPki } from './test-certificates.ts';

/**
 * A client certificate (`CN=<name>`, extendedKeyUsage clientAuth) signed by the test CA of
 * `pki`, for servers that require one (`requestCert`), made with the openssl CLI like the
 * PKI itself.
 */
export function issueClientCertificate(pki: TestPki, name = 'pathwatch-probe'): TestCertificate {
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: pki.dir, stdio: 'pipe' });
  run([
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    'client.key',
    '-out',
    'client.csr',
    '-subj',
    `/CN=${name}`,
    '-addext',
    'extendedKeyUsage=clientAuth',
  ]);
  run([
    'ca',
    '-batch',
    '-config',
    'ca.cnf',
    '-in',
    'client.csr',
    '-out',
    'client.crt',
    '-notext',
    '-days',
    '5',
  ]);
  return {
    key: readFileSync(join(pki.dir, 'client.key'), 'utf8'),
    cert: readFileSync(join(pki.dir, 'client.crt'), 'utf8'),
    keyFile: join(pki.dir, 'client.key'),
    certFile: join(pki.dir, 'client.crt'),
  };
}
