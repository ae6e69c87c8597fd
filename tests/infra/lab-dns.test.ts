// The lab zone the chart renders into coredns-custom, served by a real DNS server: BIND loads the
// very zone file of the rendered ConfigMap (the file docs/network.md tells a BIND primary to load)
// and answers the lab names; dig asks it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freePort, type RunningProcess, track } from '../support/processes.ts';
import { spawn } from 'node:child_process';
import { CHART, find, helmTemplate, valuesFile } from '../k8s/lib/render.ts';

const work = mkdtempSync(join(tmpdir(), 'af-lab-dns-'));
let named: RunningProcess | undefined;
let port = 0;

function dig(name: string, type = 'A'): { status: string; answers: string[] } {
  const res = spawnSync('dig', ['@127.0.0.1', '-p', String(port), '+time=2', '+tries=3', '+noall', '+comments', '+answer', name, type], { encoding: 'utf8' });
  const status = /status: (\w+)/.exec(res.stdout)?.[1] ?? `dig failed: ${res.stderr}`;
  const answers = res.stdout.split('\n').filter((l) => l && !l.startsWith(';')).map((l) => l.split(/\s+/).slice(3).join(' '));
  return { status, answers };
}

describe('the lab zone served by BIND', () => {
  before(async () => {
    const { objects } = await helmTemplate({ namespace: 'prod', valuesFiles: [valuesFile('prod'), join(CHART, 'values-lab-network.yaml')] });
    const zone = find(objects, 'ConfigMap', 'coredns-custom').data?.['lab.engineconf.com.db'];
    assert.ok(zone);
    writeFileSync(join(work, 'lab.engineconf.com.db'), zone);
    const check = spawnSync('named-checkzone', ['lab.engineconf.com', join(work, 'lab.engineconf.com.db')], { encoding: 'utf8' });
    assert.equal(check.status, 0, check.stdout + check.stderr);
    port = await freePort();
    writeFileSync(
      join(work, 'named.conf'),
      `options {\n  directory "${work}";\n  pid-file "${work}/named.pid";\n  listen-on port ${port} { 127.0.0.1; };\n  listen-on-v6 { none; };\n  recursion no;\n  dnssec-validation no;\n};\nzone "lab.engineconf.com" {\n  type primary;\n  file "${work}/lab.engineconf.com.db";\n};\n`,
    );
    named = track(spawn('named', ['-g', '-c', join(work, 'named.conf')], { stdio: ['ignore', 'pipe', 'pipe'] }));
    for (let i = 0; i < 60 && dig('lab.engineconf.com', 'SOA').status !== 'NOERROR'; i++) await new Promise((r) => setTimeout(r, 250));
    assert.equal(dig('lab.engineconf.com', 'SOA').status, 'NOERROR', named.output());
  });

  after(async () => {
    await named?.stop('SIGTERM', 5_000);
    rmSync(work, { recursive: true, force: true });
  });

  test('the nodes, the name server and the environments answer with the records of the values', () => {
    assert.deepEqual(dig('pi1.lab.engineconf.com').answers, ['A 192.168.1.160']);
    assert.deepEqual(dig('pi3.lab.engineconf.com').answers, ['A 192.168.1.161']);
    assert.deepEqual(dig('ns1.lab.engineconf.com').answers, ['A 192.168.1.53']);
    assert.deepEqual(dig('prod.lab.engineconf.com').answers, ['CNAME traefik.lab.engineconf.com.', 'A 192.168.1.242']);
    assert.deepEqual(dig('api.prod.lab.engineconf.com').answers, ['CNAME traefik.lab.engineconf.com.', 'A 192.168.1.242']);
    assert.deepEqual(dig('lab.engineconf.com', 'NS').answers, ['NS ns1.lab.engineconf.com.']);
  });

  test('a name that is not in the values does not exist', () => {
    assert.equal(dig('grafana.lab.engineconf.com').status, 'NXDOMAIN');
  });
});
