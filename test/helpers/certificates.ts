/**
 * Test PKI made with the system's openssl: a CA, a server certificate for 127.0.0.1 and localhost,
 * and a client certificate, all signed by that CA (files in `dir`, contents as PEM strings).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Pem {
  certFile: string;
  keyFile: string;
  cert: string;
  key: string;
}
export interface TestPki {
  ca: Pem;
  server: Pem;
  client: Pem;
}

const openssl = (args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function pem(certFile: string, keyFile: string): Pem {
  return { certFile, keyFile, cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
}

/** A self-signed CA named `name`. */
export function certificateAuthority(dir: string, name: string): Pem {
  const certFile = join(dir, `${name}.pem`);
  const keyFile = join(dir, `${name}.key`);
  openssl([
    'req',
    '-x509',
    ...EC,
    '-days',
    '1',
    '-subj',
    `/CN=${name}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign',
    '-keyout',
    keyFile,
    '-out',
    certFile,
  ]);
  return pem(certFile, keyFile);
}

/** A leaf certificate for `commonName` signed by `ca`, with the given X.509 v3 extensions. */
export function issueCertificate(dir: string, ca: Pem, name: string, commonName: string, extensions: string): Pem {
  const certFile = join(dir, `${name}.pem`);
  const keyFile = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const ext = join(dir, `${name}.ext`);
  writeFileSync(ext, extensions);
  openssl(['req', '-new', ...EC, '-subj', `/CN=${commonName}`, '-keyout', keyFile, '-out', csr]);
  openssl([
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca.certFile,
    '-CAkey',
    ca.keyFile,
    '-set_serial',
    String(Date.now()),
    '-days',
    '1',
    '-extfile',
    ext,
    '-out',
    certFile,
  ]);
  return pem(certFile, keyFile);
}

/** A CA with a server certificate (127.0.0.1, localhost) and a client certificate (`clientName`). */
export function testPki(dir: string, clientName = 'portcullis-gateway'): TestPki {
  const ca = certificateAuthority(dir, 'test-ca');
  const server = issueCertificate(
    dir,
    ca,
    'server',
    'localhost',
    'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n',
  );
  const client = issueCertificate(dir, ca, 'client', clientName, 'extendedKeyUsage=clientAuth\n');
  return { ca, server, client };
}
