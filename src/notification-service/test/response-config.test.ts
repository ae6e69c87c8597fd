import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { OutputsConfigError, parseOutputsConfig } from '../src/delivery/outputs-config.ts';
import { AddressAllowlist, parseAllowEntry } from '../src/response/address-allowlist.ts';
import { sourceAddress } from '../src/response/crowdsec-sender.ts';
import { startService } from '../../../tests/support/processes.ts';

function problemsOf(yaml: string, env: Record<string, string> = {}): string[] {
  try {
    parseOutputsConfig(yaml, 'outputs.yaml', env);
  } catch (error) {
    assert.ok(error instanceof OutputsConfigError);
    return error.problems.map((p) => `${p.line}:${p.column} ${p.message}`);
  }
  assert.fail('expected the file to be refused');
}

const ROUTE = 'route:\n  receiver: ban\n';

describe('crowdsec output configuration', () => {
  test('dry-run is the default, needs no Local API, and every decision has a bounded TTL (4h by default)', () => {
    const config = parseOutputsConfig(`outputs:\n  - name: ban\n    type: crowdsec\n${ROUTE}`, 'outputs.yaml', {});
    const output = config.outputs.get('ban');
    assert.equal(output?.type, 'crowdsec');
    assert.ok(output?.type === 'crowdsec');
    assert.equal(output.mode, 'dry-run');
    assert.equal(output.durationMs, 4 * 3_600_000);
    assert.equal(output.operatorAllowMs, 24 * 3_600_000);
    assert.deepEqual(output.allowlist, []);
    assert.equal(output.url, undefined);
  });

  test('enforce reads the machine password from a secret reference and canonicalises the allowlist', () => {
    const config = parseOutputsConfig(
      `outputs:
  - name: ban
    type: crowdsec
    mode: enforce
    url: http://crowdsec:8080/
    machine_id: { env: CS_MACHINE }
    password: { env: CS_PASSWORD }
    duration: 30m
    allowlist: [192.168.1.0/24, "::ffff:10.0.0.1", 2001:DB8::/32]
${ROUTE}`,
      'outputs.yaml',
      { CS_MACHINE: 'auditflow', CS_PASSWORD: 'pw' },
    );
    const output = config.outputs.get('ban');
    assert.ok(output?.type === 'crowdsec');
    assert.equal(output.url, 'http://crowdsec:8080');
    assert.equal(output.machineId, 'auditflow');
    assert.equal(output.password, 'pw');
    assert.equal(output.durationMs, 30 * 60_000);
    assert.deepEqual(output.allowlist, ['192.168.1.0/24', '10.0.0.1', '2001:db8::/32']);
  });

  test('allowlist_file adds one address or range a line (the file the chart renders from response.allowlist)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'af-allowlist-'));
    try {
      const file = join(dir, 'allowlist.txt');
      await writeFile(file, '# inventory\n192.168.1.10\n\n10.0.0.0/8  # LAN\n');
      const config = parseOutputsConfig(`outputs:\n  - name: ban\n    type: crowdsec\n    allowlist: [198.51.100.1]\n    allowlist_file: ${file}\n${ROUTE}`, 'outputs.yaml', {});
      const output = config.outputs.get('ban');
      assert.ok(output?.type === 'crowdsec');
      assert.deepEqual(output.allowlist, ['198.51.100.1', '192.168.1.10', '10.0.0.0/8']);
      await writeFile(file, '192.168.1.10\nthe-nas\n');
      assert.deepEqual(problemsOf(`outputs:\n  - name: ban\n    type: crowdsec\n    allowlist_file: ${file}\n${ROUTE}`), [
        `4:21 ${file}:2: "the-nas" is not an IP address or CIDR range`,
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('every problem is located at file:line:col', () => {
    assert.deepEqual(
      problemsOf(`outputs:
  - name: ban
    type: crowdsec
    mode: block
    duration: 30d
    password: hunter2
    allowlist: [192.168.1.0/33, lan, 10.0.0.0/8]
  - name: strict
    type: crowdsec
    mode: enforce
    operator_allow_for: 1s
${ROUTE}`),
      [
        '4:11 `mode` is dry-run (the default) or enforce',
        '5:15 `duration` is between 1m and 7d (every decision expires)',
        '6:15 `password` is a secret: write { env: VARIABLE } or { file: /path }, never the value itself',
        '7:17 not an IP address or CIDR range such as 192.168.1.0/24',
        '7:33 not an IP address or CIDR range such as 192.168.1.0/24',
        '8:5 `url` is required',
        '8:5 `machine_id` is required',
        '8:5 `password` is required',
        '11:25 `operator_allow_for` is between 1m and 30d',
      ],
    );
  });

  test('the service refuses a bad crowdsec output at start-up: exit 78 naming OUTPUTS_FILE with file:line:col', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'af-bad-crowdsec-'));
    try {
      const file = join(dir, 'outputs.yaml');
      await writeFile(file, `outputs:\n  - name: ban\n    type: crowdsec\n    allowlist: [everyone]\n${ROUTE}`);
      const service = startService('notification-service', { OUTPUTS_FILE: file, DATABASE_URL: 'postgres://127.0.0.1:1/none', RABBITMQ_URL: 'amqp://127.0.0.1:1' });
      assert.equal(await service.stop('SIGCONT', 20_000), 78);
      assert.ok(service.output().includes(`${file}:4:17`), service.output());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('allowlist matching: ranges, single addresses, IPv4-mapped IPv6 and the loopback that is always there', () => {
    const list = new AddressAllowlist(['192.168.0.0/16', '198.51.100.7', '2001:db8::/32']);
    assert.equal(list.match('192.168.44.1'), '192.168.0.0/16');
    assert.equal(list.match('198.51.100.7'), '198.51.100.7');
    assert.equal(list.match('198.51.100.8'), undefined);
    assert.equal(list.match('2001:db8:1::9'), '2001:db8::/32');
    assert.equal(list.match('127.0.0.53'), '127.0.0.0/8');
    assert.equal(list.match('::1'), '::1/128');
    assert.equal(list.match('203.0.113.9'), undefined);
    assert.equal(parseAllowEntry('10.0.0.0/8/1'), undefined);
    assert.equal(parseAllowEntry('300.1.1.1'), undefined);
  });

  test('the source address is the alert client_ip, else the event details ip_address; invalid values are no address', () => {
    assert.equal(sourceAddress({ alert_id: 'a', client_ip: '203.0.113.5' }), '203.0.113.5');
    assert.equal(sourceAddress({ alert_id: 'a', client_ip: null, raw_event_data: { details: { ip_address: '::ffff:203.0.113.6' } } }), '203.0.113.6');
    assert.equal(sourceAddress({ alert_id: 'a', client_ip: 'bogus', raw_event_data: { details: { ip_address: 42 } } }), undefined);
  });
});
