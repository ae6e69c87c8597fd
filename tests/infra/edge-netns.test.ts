// The public edge end to end, in network namespaces (issue 23):
//
//   client ns ("the internet": a client, and pebble as the ACME CA standing in for Let's Encrypt)
//     10.200.0.1 ──veth── 10.200.0.2  edge ns (Caddy from the rendered cloud-init, WireGuard)
//                                     10.201.0.2 ──veth── 10.201.0.1  lab ns (WireGuard peer
//                                                                      from the Ansible role, the
//                                                                      real dashboard on :30090)
//
// The edge and the lab are joined by a real WireGuard tunnel (wireguard-go, userspace), the
// edge's Caddyfile and wg0.conf are taken out of the user data Terraform renders, the lab's
// peer configuration is rendered by Ansible from the edge_tunnel role's template, and Caddy
// gets its certificates over ACME TLS-ALPN-01 from pebble. The client has no route to the lab:
// everything it reaches, it reaches through the edge.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse } from 'yaml';
import { NODE, REPO_ROOT } from '../support/processes.ts';
import { Namespaces } from './lib/netns.ts';
import { renderLocals } from './lib/oci-edge.ts';

const DASHBOARD_HOST = 'dev.lab.engineconf.com';
const API_HOST = 'api.dev.lab.engineconf.com';
const CLIENT = '10.200.0.1';
const EDGE = '10.200.0.2';
const LAB_UPLINK = '10.201.0.1';
const EDGE_UPLINK = '10.201.0.2';
const DASHBOARD_PORT = 30090;
const WG_PORT = 51820;

const nets = new Namespaces();
const work = mkdtempSync(join(tmpdir(), 'af-edge-'));
const password = randomBytes(12).toString('hex');
let client = '';
let edge = '';
let lab = '';
let labConf = '';

function sh(cmd: string, args: string[], input?: string): string {
  const res = spawnSync(cmd, args, { encoding: 'utf8', input, env: { ...process.env, HOME: work } });
  if (res.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${res.stdout}${res.stderr}`);
  return res.stdout;
}

async function waitFor<T>(what: string, probe: () => T | undefined, attempts = 120, delayMs = 500): Promise<T> {
  for (let i = 0; i < attempts; i++) {
    const value = probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, delayMs));
  }
  throw new Error(`timed out waiting for ${what}`);
}

interface Answer {
  curlExit: number | null;
  status: number;
  body: string;
}

/** An HTTPS request from the client namespace to the edge, trusting only the test ACME CA's root. */
function request(host: string, path: string, opts: { auth?: boolean; token?: string; hostHeader?: string; maxTime?: number } = {}): Answer {
  const args = ['-sS', '-o', join(work, 'body'), '-w', '%{http_code}', '--max-time', String(opts.maxTime ?? 30)];
  args.push('--cacert', join(work, 'acme-root.pem'), '--resolve', `${host}:443:${EDGE}`);
  if (opts.auth) args.push('-u', `auditflow:${password}`);
  if (opts.token) args.push('-H', `Authorization: Bearer ${opts.token}`);
  if (opts.hostHeader) args.push('-H', `Host: ${opts.hostHeader}`);
  writeFileSync(join(work, 'body'), '');
  const res = nets.exec(client, 'curl', [...args, `https://${host}${path}`]);
  return { curlExit: res.status, status: Number(res.stdout || 0), body: readFileSync(join(work, 'body'), 'utf8') };
}

describe('the public edge over WireGuard, in network namespaces', { skip: !Namespaces.available() && 'needs root and ip netns' }, () => {
  before(async () => {
    client = nets.add('client');
    edge = nets.add('edge');
    lab = nets.add('lab');
    nets.link(client, `${CLIENT}/24`, edge, `${EDGE}/24`);
    nets.link(lab, `${LAB_UPLINK}/24`, edge, `${EDGE_UPLINK}/24`);

    // Keys: each side's private key stays in its own file, as on the VM and the Pi.
    const edgeKey = join(work, 'edge.key');
    const labKey = join(work, 'lab.key');
    writeFileSync(edgeKey, sh('wg', ['genkey']), { mode: 0o600 });
    writeFileSync(labKey, sh('wg', ['genkey']), { mode: 0o600 });
    const edgePub = sh('wg', ['pubkey'], readFileSync(edgeKey, 'utf8')).trim();
    const labPub = sh('wg', ['pubkey'], readFileSync(labKey, 'utf8')).trim();

    // The edge: Terraform's user data with test values; the files are taken out of it.
    const hash = sh('caddy', ['hash-password', '--plaintext', password]).trim();
    const { user_data } = await renderLocals({
      compartment_ocid: 'ocid1.compartment.oc1..test',
      availability_domain: 'AD-1',
      image_ocid: 'ocid1.image.oc1..test',
      ssh_public_key: 'ssh-ed25519 AAAA test',
      lab_wireguard_public_key: labPub,
      acme_email: 'ops@engineconf.com',
      acme_ca: `https://${CLIENT}:14000/dir`,
      dashboard_host: DASHBOARD_HOST,
      dashboard_upstream: `10.99.0.2:${DASHBOARD_PORT}`,
      dashboard_password_hash: hash,
      api_host: API_HOST,
      api_upstream: '10.99.0.2:30800',
      wireguard_port: WG_PORT,
    });
    const files = Object.fromEntries(
      (parse(user_data!) as { write_files: { path: string; content: string }[] }).write_files.map((f) => [f.path, Buffer.from(f.content, 'base64').toString()]),
    );
    writeFileSync(join(work, 'Caddyfile'), files['/etc/caddy/Caddyfile']!);
    // wg-quick names the interface after the file; the key path is the VM's, moved to the test's.
    const edgeConf = join(work, `afe${nets.suffix}.conf`);
    writeFileSync(edgeConf, files['/etc/wireguard/wg0.conf']!.replace('/etc/wireguard/edge.key', edgeKey), { mode: 0o600 });

    // The lab: the edge_tunnel role's template rendered by Ansible.
    labConf = join(work, `afl${nets.suffix}.conf`);
    const vars = {
      edge_tunnel_endpoint: `${EDGE_UPLINK}:${WG_PORT}`,
      edge_tunnel_edge_public_key: edgePub,
      edge_tunnel_edge_address: '10.99.0.1',
      edge_tunnel_lab_address: '10.99.0.2',
      edge_tunnel_private_key_file: labKey,
      edge_tunnel_keepalive: 25,
      edge_tunnel_allowed_ports: [DASHBOARD_PORT],
    };
    writeFileSync(join(work, 'vars.json'), JSON.stringify(vars));
    const template = join(REPO_ROOT, 'infra/ansible/roles/edge_tunnel/templates/wg-edge.conf.j2');
    const rendered = spawnSync('ansible', ['localhost', '-c', 'local', '-i', 'localhost,', '-m', 'ansible.builtin.template', '-a', `src=${template} dest=${labConf} mode=0600`, '-e', `@${join(work, 'vars.json')}`], {
      encoding: 'utf8',
      env: { ...process.env, ANSIBLE_LOCAL_TEMP: join(work, 'ansible'), ANSIBLE_NOCOLOR: '1', HOME: work },
    });
    assert.equal(rendered.status, 0, rendered.stdout + rendered.stderr);

    // wireguard-go stands in for the kernel module; wg-quick falls back to it by itself.
    nets.must(edge, 'wg-quick', ['up', edgeConf]);
    nets.must(lab, 'wg-quick', ['up', labConf]);

    // The ACME CA on "the internet": pebble, its DNS answering every name with the edge's address,
    // and validation by TLS-ALPN-01 on 443 as Let's Encrypt does it.
    sh('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=pebble', '-addext', `subjectAltName=IP:${CLIENT}`, '-keyout', join(work, 'pebble.key'), '-out', join(work, 'pebble.pem')]);
    writeFileSync(
      join(work, 'pebble.json'),
      JSON.stringify({
        pebble: {
          listenAddress: `${CLIENT}:14000`,
          managementListenAddress: `${CLIENT}:15000`,
          certificate: join(work, 'pebble.pem'),
          privateKey: join(work, 'pebble.key'),
          httpPort: 80,
          tlsPort: 443,
          ocspResponderURL: '',
          externalAccountBindingRequired: false,
        },
      }),
    );
    nets.start(client, 'pebble-challtestsrv', ['-defaultIPv4', EDGE, '-defaultIPv6', '', '-dns01', `${CLIENT}:8053`, '-http01', '', '-https01', '', '-tlsalpn01', '', '-management', `${CLIENT}:8055`]);
    const pebble = nets.start(client, 'pebble', ['-config', join(work, 'pebble.json'), '-dnsserver', `${CLIENT}:8053`], { PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0' });
    const root = await waitFor('pebble', () => {
      const r = nets.exec(client, 'curl', ['-sS', '--cacert', join(work, 'pebble.pem'), `https://${CLIENT}:15000/roots/0`]);
      return r.status === 0 && r.stdout.includes('BEGIN CERTIFICATE') ? r.stdout : undefined;
    }).catch((e: Error) => assert.fail(`${e.message}\n${pebble.output()}`));
    writeFileSync(join(work, 'acme-root.pem'), root);

    // The real dashboard in the lab, started the way its container starts it.
    const dashboard = nets.start(lab, NODE, ['--conditions=source', 'src/event-audit-dashboard/src/main.ts'], { APP_PORT: String(DASHBOARD_PORT), NOTIFICATION_SERVICE_URL: 'http://127.0.0.1:8000', LOG_LEVEL: 'warn' }, REPO_ROOT);
    await waitFor('the dashboard', () => (nets.exec(lab, 'curl', ['-sf', `http://127.0.0.1:${DASHBOARD_PORT}/healthz`]).status === 0 ? true : undefined)).catch((e: Error) =>
      assert.fail(`${e.message}\n${dashboard.output()}`),
    );

    // Caddy on the edge with the shipped Caddyfile; it trusts the ACME server's API certificate
    // the way the VM trusts Let's Encrypt's, through the system roots (SSL_CERT_FILE).
    const caddy = nets.start(edge, 'caddy', ['run', '--adapter', 'caddyfile', '--config', join(work, 'Caddyfile')], {
      XDG_DATA_HOME: join(work, 'caddy-data'),
      XDG_CONFIG_HOME: join(work, 'caddy-config'),
      HOME: work,
      SSL_CERT_FILE: join(work, 'pebble.pem'),
    });
    await waitFor('the edge certificate', () => (request(DASHBOARD_HOST, '/healthz', { auth: true }).status === 200 ? true : undefined), 45, 1000).catch((e: Error) =>
      assert.fail(`${e.message}\n${caddy.output()}\n${pebble.output()}`),
    );
  });

  after(async () => {
    await nets.cleanup();
    rmSync(work, { recursive: true, force: true });
  });

  test('the client reaches the real dashboard by its allowed name over HTTPS, through the tunnel', () => {
    const health = request(DASHBOARD_HOST, '/healthz', { auth: true });
    assert.equal(health.status, 200, health.body);
    const page = request(DASHBOARD_HOST, '/', { auth: true });
    assert.match(page.body, /<html/i, 'the dashboard page');
    // The certificate is the test ACME CA's, for that name (curl verified it against the root).
    const handshakes = nets.must(edge, 'wg', ['show', `afe${nets.suffix}`, 'latest-handshakes']);
    assert.match(handshakes, /\t[1-9][0-9]+\n/, 'the tunnel has shaken hands');
  });

  test('the dashboard needs the edge password', () => {
    assert.equal(request(DASHBOARD_HOST, '/healthz').status, 401);
  });

  test('any other host name is refused: no certificate for its SNI, 421 for a foreign Host header', () => {
    const other = request('grafana.lab.engineconf.com', '/');
    assert.equal(other.status, 0);
    assert.equal(other.curlExit, 35, 'TLS handshake refused');
    const ingestName = request('ingest.dev.lab.engineconf.com', '/k8s/audit');
    assert.equal(ingestName.curlExit, 35);
    assert.equal(request(DASHBOARD_HOST, '/healthz', { auth: true, hostHeader: 'ingest.dev.lab.engineconf.com' }).status, 421);
  });

  test('the ingest ports and anything but 443 are closed on the edge', () => {
    for (const port of [80, 5002, 5514, 6514, 8080, 30502, 30514, DASHBOARD_PORT]) {
      const res = nets.exec(client, 'curl', ['-sS', '--max-time', '5', `http://${EDGE}:${port}/`]);
      assert.equal(res.status, 7, `port ${port}: connection refused (${res.stderr})`);
    }
    // And the lab is not reachable from the client at all: only the edge is.
    const direct = nets.exec(client, 'curl', ['-sS', '--max-time', '5', `http://10.99.0.2:${DASHBOARD_PORT}/healthz`]);
    assert.notEqual(direct.status, 0);
  });

  test('the API is refused without a bearer token; with one the edge forwards it', () => {
    const refused = request(API_HOST, '/alerts');
    assert.equal(refused.status, 401);
    assert.match(refused.body, /bearer token required/);
    assert.equal(request(API_HOST, '/alerts', { token: 'not-checked-here' }).status, 502, 'forwarded to the lab (no API runs there, and the lab admits only the dashboard port)');
  });

  test('with the tunnel down the edge answers 502/504 promptly instead of hanging', () => {
    nets.must(lab, 'wg-quick', ['down', labConf]);
    const answer = request(DASHBOARD_HOST, '/healthz', { auth: true, maxTime: 30 });
    assert.equal(answer.curlExit, 0, 'an answer, not a client timeout');
    // 504 when a pooled connection into the dead tunnel times out waiting for headers, 502 when a new one cannot dial.
    assert.ok([502, 504].includes(answer.status), `status ${answer.status}`);
  });
});
