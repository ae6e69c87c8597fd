import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TlsFixture {
  dir: string;
  caFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  ca: Buffer;
  clientCert: Buffer;
  clientKey: Buffer;
  /** A client certificate from a CA the server does not trust. */
  strangerCert: Buffer;
  strangerKey: Buffer;
  remove(): Promise<void>;
}

async function openssl(dir: string, ...args: string[]): Promise<void> {
  await run('openssl', args, { cwd: dir });
}

async function issue(dir: string, name: string, subject: string, ca: string, extensions: string): Promise<void> {
  await openssl(dir, 'req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject);
  await writeFile(join(dir, `${name}.ext`), extensions);
  await openssl(dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-days', '1', '-out', `${name}.crt`, '-extfile', `${name}.ext`);
}

/**
 * A CA, a server certificate for 127.0.0.1 and a client certificate as the
 * API server's webhook kubeconfig would carry (client-certificate-data),
 * made with openssl for this run only.
 */
export async function makeTlsFixture(): Promise<TlsFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'af-ingest-tls-'));
  for (const ca of ['ca', 'stranger-ca']) {
    await openssl(dir, 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${ca}.key`, '-out', `${ca}.crt`, '-days', '1', '-subj', `/CN=${ca} for audit-ingest tests`);
  }
  await issue(dir, 'server', '/CN=audit-ingest', 'ca', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  await issue(dir, 'client', '/CN=kube-apiserver-audit-webhook', 'ca', 'extendedKeyUsage=clientAuth\n');
  await issue(dir, 'stranger', '/CN=stranger', 'stranger-ca', 'extendedKeyUsage=clientAuth\n');
  const read = (file: string) => readFile(join(dir, file));
  return {
    dir,
    caFile: join(dir, 'ca.crt'),
    serverCertFile: join(dir, 'server.crt'),
    serverKeyFile: join(dir, 'server.key'),
    ca: await read('ca.crt'),
    clientCert: await read('client.crt'),
    clientKey: await read('client.key'),
    strangerCert: await read('stranger.crt'),
    strangerKey: await read('stranger.key'),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
