// The OCI edge (infra/terraform/oci-edge), checked offline: the HCL parses, its structure keeps
// the attack surface to 443 and the WireGuard port (no ingest listener, no SSH, no port 80),
// the user data it renders is valid cloud-config (`cloud-init schema`), the Caddyfile inside it
// passes `caddy validate` and serves only the allow-listed names, and nothing secret is in it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { parse } from 'yaml';
import { EDGE_DIR, type Hcl, parseModule, renderLocals, renderTemplate } from './lib/oci-edge.ts';

const work = mkdtempSync(join(tmpdir(), 'af-oci-edge-'));
after(() => rmSync(work, { recursive: true, force: true }));

const required = {
  compartment_ocid: 'ocid1.compartment.oc1..test',
  availability_domain: 'Uocm:EU-FRANKFURT-1-AD-1',
  image_ocid: 'ocid1.image.oc1.eu-frankfurt-1.test',
  ssh_public_key: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHg test',
  lab_wireguard_public_key: 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=',
  acme_email: 'ops@engineconf.com',
  dashboard_password_hash: '$2a$14$Zkx19XLiW6VYouLHR5NmfOFU0z2GTNmpkT/5qqR7hx4IjWJPDhjvG',
};
// The ports AuditFlow's services listen on, none of which may face the internet.
const SERVICE_PORTS = [5000, 5001, 5002, 5514, 6514, 8000, 8001, 8002, 8080, 30080, 30502, 30514, 22, 80];

function run(cmd: string, args: string[]) {
  const res = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, XDG_DATA_HOME: work, XDG_CONFIG_HOME: work, HOME: work } });
  if (res.error) throw res.error;
  return { status: res.status, output: `${res.stdout}${res.stderr}` };
}

const resource = (merged: Hcl, type: string, name: string): Hcl => {
  const r = (merged['resource'] as Hcl)[type]?.[name] as Hcl[] | undefined;
  assert.ok(r?.[0], `${type}.${name}`);
  return r[0]!;
};

describe('infra/terraform/oci-edge', () => {
  test('every .tf parses, the provider and Terraform versions are pinned, state goes to a backend', async () => {
    const { merged, files } = await parseModule();
    assert.deepEqual(Object.keys(files), ['compute.tf', 'network.tf', 'outputs.tf', 'variables.tf', 'versions.tf']);
    const tf = (merged['terraform'] as Hcl[])[0]!;
    assert.match(tf['required_version'], /^>= 1\.\d+/);
    const oci = tf['required_providers'][0]['oci'];
    assert.equal(oci.source, 'oracle/oci');
    assert.match(oci.version, /^~> \d+\.\d+$/);
    assert.ok(tf['backend']['s3'], 'remote state');
    for (const [name, decls] of Object.entries(merged['variable'] as Record<string, Hcl[]>)) assert.ok(decls[0]!['description'], `variable ${name} is documented`);
  });

  test('the security list opens exactly TCP 443 and the WireGuard UDP port, to nothing else', async () => {
    const { merged } = await parseModule();
    const list = resource(merged, 'oci_core_security_list', 'edge');
    const rules = list['ingress_security_rules'] as Hcl[];
    const opened = rules.map((r) => {
      const options = (r['tcp_options'] ?? r['udp_options'])?.[0];
      assert.ok(options, `rule ${r['description']} names its ports (no all-ports rule)`);
      assert.equal(options.min, options.max, 'a single port per rule');
      return `${r['protocol'] === '6' ? 'tcp' : r['protocol'] === '17' ? 'udp' : r['protocol']}/${options.min}`;
    });
    assert.deepEqual(opened.sort(), ['tcp/443', 'udp/${var.wireguard_port}']);
    const variables = merged['variable'] as Record<string, Hcl[]>;
    const wgPort = variables['wireguard_port']![0]!['default'];
    assert.ok(!SERVICE_PORTS.includes(wgPort), 'the tunnel port is none of the services');
    const subnet = resource(merged, 'oci_core_subnet', 'edge');
    assert.deepEqual(subnet['security_list_ids'], ['${oci_core_security_list.edge.id}']);
    const instance = resource(merged, 'oci_core_instance', 'edge');
    assert.equal(instance['create_vnic_details'][0]['subnet_id'], '${oci_core_subnet.edge.id}');
    assert.equal(instance['create_vnic_details'][0]['nsg_ids'], undefined, 'no network security group adds ports');
    assert.equal(instance['shape'], 'VM.Standard.A1.Flex');
    assert.equal(instance['metadata']['user_data'], '${base64encode(local.user_data)}');
    // No other resource can open a port: no NSG, no second security list.
    const types = Object.keys(merged['resource'] as Hcl);
    assert.ok(!types.includes('oci_core_network_security_group_security_rule') && !types.includes('oci_core_network_security_group'));
    assert.deepEqual(Object.keys((merged['resource'] as Hcl)['oci_core_security_list']), ['edge']);
  });

  test('the rendered user data is valid cloud-config (cloud-init schema) and holds no secret', async () => {
    const locals = await renderLocals(required);
    const file = join(work, 'user-data.yaml');
    writeFileSync(file, locals['user_data']!);
    const { status, output } = run('cloud-init', ['schema', '--config-file', file]);
    assert.equal(status, 0, output);
    assert.match(output, /Valid cloud-config/);
    const doc = parse(locals['user_data']!) as { write_files: { path: string; content: string }[]; packages: string[] };
    assert.deepEqual(doc.packages.sort(), ['caddy', 'iptables-persistent', 'wireguard-tools']);
    const files = Object.fromEntries(doc.write_files.map((f) => [f.path, Buffer.from(f.content, 'base64').toString()]));
    assert.equal(files['/etc/caddy/Caddyfile'], locals['caddyfile']);
    assert.equal(files['/etc/wireguard/wg0.conf'], locals['wireguard_conf']);
    assert.doesNotMatch(locals['wireguard_conf']!, /PrivateKey/, 'the edge key is generated on the VM');
    assert.match(locals['wireguard_conf']!, /ListenPort = 51820\n/);
    // A broken cloud-config is refused by the same check.
    writeFileSync(file, locals['user_data']!.replace('packages:', 'packages: 3\nx_packages:'));
    assert.notEqual(run('cloud-init', ['schema', '--config-file', file]).status, 0);
  });

  test('the Caddyfile passes caddy validate and serves only the allow-listed names, never an ingest port', async () => {
    for (const api_host of ['', 'api.dev.lab.engineconf.com']) {
      const { caddyfile } = await renderLocals({ ...required, api_host });
      const file = join(work, 'Caddyfile');
      writeFileSync(file, caddyfile!);
      const { status, output } = run('caddy', ['validate', '--adapter', 'caddyfile', '--config', file]);
      assert.equal(status, 0, output);
      const adapted = run('caddy', ['adapt', '--adapter', 'caddyfile', '--config', file]);
      const config = JSON.parse(adapted.output.slice(adapted.output.indexOf('{'))) as Hcl;
      const servers = Object.values(config['apps']['http']['servers']) as Hcl[];
      assert.deepEqual(servers.map((s) => s['listen']), [[':443']], 'one server, on 443 only');
      const hosts = servers[0]!['routes'].flatMap((r: Hcl) => r['match'].flatMap((m: Hcl) => m['host']));
      assert.deepEqual(hosts.sort(), api_host ? [api_host, 'dev.lab.engineconf.com'] : ['dev.lab.engineconf.com']);
      const upstreams = JSON.stringify(servers[0]).match(/"dial":"[^"]+"/g) ?? [];
      assert.deepEqual(upstreams.sort(), api_host ? ['"dial":"10.99.0.2:30090"', '"dial":"10.99.0.2:30800"'] : ['"dial":"10.99.0.2:30090"']);
      for (const port of SERVICE_PORTS.filter((p) => p !== 30080)) assert.ok(!caddyfile!.includes(`:${port}`), `no upstream on port ${port}`);
    }
  });

  test('the template renderer refuses what it does not implement instead of guessing', () => {
    assert.throws(() => renderTemplate('%{ for h in hosts }x%{ endfor }', {}), /unsupported template directive/);
    assert.throws(() => renderTemplate('${upper(x)}', { x: 'a' }), /unsupported template expression/);
    assert.throws(() => renderTemplate('${y}', { x: 'a' }), /no variable y/);
    assert.ok(readFileSync(join(EDGE_DIR, 'templates', 'Caddyfile.tftpl'), 'utf8').includes('%{ if api_host != "" }'));
  });
});
