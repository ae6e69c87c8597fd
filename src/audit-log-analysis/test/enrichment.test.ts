import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError, IP_SCOPES, type IpScope } from '@auditflow/common';
import { decodeEvent } from '../src/engine/event-decoder.ts';
import { AsnCsvTable } from '../src/enrichment/asn-csv-table.ts';
import { asnOf, countryOf } from '../src/enrichment/ip-database.ts';
import { readEnrichmentConfig } from '../src/enrichment/enrichment-config.ts';
import { Enricher } from '../src/enrichment/enricher.ts';
import { HostsFileError, parseHostsFile } from '../src/enrichment/hosts-file.ts';
import { parseAddress, scopeOf } from '../src/enrichment/ip-scope.ts';
import { loadEnrichment } from '../src/enrichment/load-enrichment.ts';
import { LruCache } from '../src/enrichment/lru-cache.ts';
import { EnvReader } from '@auditflow/common';
import { makeEvent } from './fixtures.ts';

function thrown<E>(fn: () => unknown, type: new (...args: never[]) => E): E {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof type, String(error));
    return error;
  }
  assert.fail('expected an error');
}

/** The documented answers (docs/enrichment.md, "Special ranges"), IPv4 and IPv6. */
const SCOPES: [string, IpScope][] = [
  ['10.0.0.1', 'private'],
  ['172.16.5.4', 'private'],
  ['172.31.255.255', 'private'],
  ['192.168.1.150', 'private'],
  ['fd12:3456::1', 'private'],
  ['fc00::1', 'private'],
  ['127.0.0.1', 'loopback'],
  ['127.255.0.9', 'loopback'],
  ['::1', 'loopback'],
  ['169.254.10.1', 'link-local'],
  ['fe80::1', 'link-local'],
  ['fe80::1%eth0', 'link-local'],
  ['100.64.0.1', 'cgnat'],
  ['100.127.255.254', 'cgnat'],
  ['192.0.2.10', 'documentation'],
  ['198.51.100.7', 'documentation'],
  ['203.0.113.7', 'documentation'],
  ['2001:db8::7', 'documentation'],
  ['2001:DB8:ffff::1', 'documentation'],
  ['3fff::1', 'documentation'],
  ['224.0.0.1', 'multicast'],
  ['239.255.255.250', 'multicast'],
  ['ff02::1', 'multicast'],
  ['0.0.0.0', 'unspecified'],
  ['::', 'unspecified'],
  ['0.1.2.3', 'reserved'],
  ['192.0.0.8', 'reserved'],
  ['198.18.0.1', 'reserved'],
  ['240.0.0.1', 'reserved'],
  ['255.255.255.255', 'reserved'],
  ['100::1', 'reserved'],
  ['4000::1', 'reserved'],
  ['::ffff:10.1.2.3', 'private'],
  ['::ffff:c000:20a', 'documentation'],
  ['172.32.0.1', 'public'],
  ['100.128.0.1', 'public'],
  ['8.8.8.8', 'public'],
  ['2001:4860:4860::8888', 'public'],
];

describe('address scope', () => {
  for (const [address, scope] of SCOPES) {
    test(`${address} is ${scope}`, () => {
      const parsed = parseAddress(address);
      assert.ok(parsed, `${address} parses`);
      assert.equal(scopeOf(parsed), scope);
    });
  }

  test('every scope of the contract is covered by the table', () => {
    assert.deepEqual(new Set(SCOPES.map(([, scope]) => scope)), new Set(IP_SCOPES));
  });

  test('what is not an address has no scope', () => {
    for (const text of ['N/A', '', 'pi-1.lan', '10.0.0.0/8', '300.1.1.1', '1.2.3']) assert.equal(parseAddress(text), undefined, text);
  });
});

describe('enrichment with the packaged databases', () => {
  const loaded = loadEnrichment(readEnrichmentConfig(new EnvReader({})))!;
  const enricher = new Enricher({ country: loaded.country, asn: loaded.asn });

  test('the packaged databases are the documented ones, with their build dates', () => {
    assert.equal(loaded.country?.format, 'mmdb');
    assert.match(loaded.country!.file, /@ip-location-db\/geo-whois-asn-country-mmdb\/geo-whois-asn-country\.mmdb$/);
    assert.equal(loaded.asn?.format, 'csv');
    assert.ok(loaded.asn!.size > 100_000, `${loaded.asn!.size} ASN ranges`);
    assert.ok(loaded.country!.buildDate instanceof Date && loaded.asn!.buildDate instanceof Date);
  });

  // Anycast resolvers of large operators: their AS and country have not changed in years.
  const PUBLIC: [string, string, number, string][] = [
    ['1.1.1.1', 'AU', 13335, 'Cloudflare, Inc.'],
    ['8.8.8.8', 'US', 15169, 'Google LLC'],
    ['9.9.9.9', 'US', 19281, 'Quad9'],
    ['2606:4700:4700::1111', 'US', 13335, 'Cloudflare, Inc.'],
    ['2001:4860:4860::8888', 'US', 15169, 'Google LLC'],
    ['::ffff:8.8.8.8', 'US', 15169, 'Google LLC'],
  ];
  for (const [address, country, asn, org] of PUBLIC) {
    test(`${address} is in ${country}, AS${asn}`, () => {
      assert.deepEqual(enricher.ip(address), { address, scope: 'public', country, asn, as_org: org });
    });
  }

  test('addresses that are not public get their scope and no country or AS, even where a database has an answer', () => {
    // The country database places 2001:db8::/32 in JP: a documentation address must not get it.
    assert.equal(loaded.country!.lookup(parseAddress('2001:db8::1')!)?.country, 'JP');
    for (const [address, scope] of SCOPES.filter(([, s]) => s !== 'public')) {
      assert.deepEqual(enricher.ip(address), { address, scope }, address);
    }
  });

  test('an event gets ip from details.ip_address or the legacy client_ip, and nothing for N/A', () => {
    assert.deepEqual(enricher.enrich(makeEvent({ details: { ip_address: '8.8.8.8' } }))?.ip?.country, 'US');
    assert.deepEqual(enricher.enrich(makeEvent({ details: {}, client_ip: '1.1.1.1' }))?.ip?.asn, 13335);
    assert.equal(enricher.enrich(makeEvent({ details: { ip_address: 'N/A' } })), undefined);
  });
});

describe('lookups are cached', () => {
  test('a repeated address is answered from the cache; the least recently used is evicted', () => {
    const counts = { hit: 0, miss: 0, lookups: 0 };
    const lookup = () => {
      counts.lookups++;
      return { country: 'ZZ' };
    };
    const enricher = new Enricher({
      country: { format: 'mmdb', file: 'x', buildDate: undefined, size: 0, lookup },
      cacheSize: 2,
      hooks: { cacheHit: () => counts.hit++, cacheMiss: () => counts.miss++ },
    });
    for (const address of ['8.8.8.8', '8.8.8.8', '1.1.1.1', '8.8.8.8', '9.9.9.9', '1.1.1.1']) enricher.ip(address);
    assert.deepEqual(counts, { hit: 2, miss: 4, lookups: 4 });
    assert.ok(Object.isFrozen(enricher.ip('9.9.9.9')), 'answers are shared, so frozen');
  });

  test('LruCache keeps at most its size', () => {
    const cache = new LruCache<string, number>(2);
    cache.set('a', 1);
    cache.set('b', 2);
    cache.get('a');
    cache.set('c', 3);
    assert.equal(cache.get('b'), undefined);
    assert.equal(cache.get('a'), 1);
    assert.equal(cache.size, 2);
  });
});

const HOSTS = `hosts:
  pi-1:
    owner: alice
    role: k3s-server
    groups: [k3s_server, pis]
    addresses: [192.168.1.11, "fd00::11"]
  pi-2:
    owner: bob
    role: k3s-agent
`;

describe('hosts file', () => {
  test('hosts are found by name (any case, or the first label of a longer name) and by address', () => {
    const hosts = parseHostsFile(HOSTS, 'hosts.yaml');
    const pi1 = { name: 'pi-1', owner: 'alice', role: 'k3s-server', groups: ['k3s_server', 'pis'] };
    assert.deepEqual(hosts.find('pi-1'), pi1);
    assert.deepEqual(hosts.find('PI-1'), pi1);
    assert.deepEqual(hosts.find('pi-1.lan.example'), pi1);
    assert.deepEqual(hosts.find('192.168.1.11'), pi1);
    assert.deepEqual(hosts.find('fd00:0::11'), pi1);
    assert.deepEqual(hosts.find('pi-2'), { name: 'pi-2', owner: 'bob', role: 'k3s-agent' });
    const fqdn = parseHostsFile('hosts:\n  pi3.jdevlab.local: { role: k3s-server }\n  a.one.lan: {}\n  a.two.lan: {}\n', 'h.yaml');
    assert.equal(fqdn.find('pi3')?.name, 'pi3.jdevlab.local', 'syslog names the host by its short name');
    assert.equal(fqdn.find('PI3.other.domain')?.name, 'pi3.jdevlab.local');
    assert.equal(fqdn.find('a'), undefined, 'a first label two hosts share matches neither');
    assert.equal(hosts.find('pi-3'), undefined);
    assert.equal(hosts.find('192.168.1.12'), undefined);
  });

  test('the enricher adds the host of an event', () => {
    const enricher = new Enricher({ hosts: parseHostsFile(HOSTS, 'hosts.yaml') });
    const enrichment = enricher.enrich(makeEvent({ server_hostname: 'pi-2', details: { ip_address: '10.0.0.9' } }));
    assert.deepEqual(enrichment, { ip: { address: '10.0.0.9', scope: 'private' }, host: { name: 'pi-2', owner: 'bob', role: 'k3s-agent' } });
  });

  test('every problem is reported at file:line:col', () => {
    const text = `hosts:
  pi-1:
    owner: alice
    colour: red
    addresses: [192.168.1.11, not-an-address]
  pi-2:
    role: 7
    addresses: [192.168.1.11]
  "bad name!": {}
other: 1
`;
    const error = thrown(() => parseHostsFile(text, 'hosts.yaml'), HostsFileError);
    const lines = error.message.split('; ');
    assert.deepEqual(lines, [
      "hosts.yaml:4:5: unknown key 'colour' (known: owner, role, groups, addresses, description)",
      "hosts.yaml:5:31: 'not-an-address' is not an IPv4 or IPv6 address",
      'hosts.yaml:7:11: role must be a non-empty string of at most 255 characters',
      "hosts.yaml:8:17: address 192.168.1.11 is also listed for host 'pi-1'",
      "hosts.yaml:9:3: 'bad name!' is not a host name",
      "hosts.yaml:10:1: unknown key 'other' (known: hosts)",
    ]);
  });

  test('a YAML syntax error is located too', () => {
    assert.throws(() => parseHostsFile('hosts:\n  pi-1: [\n', 'h.yaml'), /h\.yaml:3:1: /);
  });
});

describe('configuration', () => {
  test('unusable databases and hosts files fail the start naming their variable', () => {
    const dir = mkdtempSync(join(tmpdir(), 'enrichment-'));
    try {
      const corrupt = join(dir, 'corrupt.mmdb');
      writeFileSync(corrupt, 'not a database at all');
      const hosts = join(dir, 'hosts.yaml');
      writeFileSync(hosts, 'hosts:\n  pi-1:\n    owner: [x]\n');
      const config = readEnrichmentConfig(new EnvReader({ ENRICHMENT_COUNTRY_DATABASE: corrupt, ENRICHMENT_ASN_DATABASE: join(dir, 'missing'), HOSTS_FILE: hosts }));
      const error = thrown(() => loadEnrichment(config), ConfigError);
      assert.deepEqual(error.variables, ['ENRICHMENT_COUNTRY_DATABASE', 'ENRICHMENT_ASN_DATABASE', 'HOSTS_FILE']);
      assert.match(error.message, /corrupt\.mmdb is not a readable MaxMind DB file/);
      assert.ok(error.message.includes(`HOSTS_FILE: ${hosts}:3:12: owner must be a non-empty string`), error.message);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('off switches: ENRICHMENT_ENABLED=false opens nothing; `off` leaves one database out', () => {
    assert.equal(loadEnrichment(readEnrichmentConfig(new EnvReader({ ENRICHMENT_ENABLED: 'false', HOSTS_FILE: '/nonexistent' }))), undefined);
    const config = readEnrichmentConfig(new EnvReader({ ENRICHMENT_ASN_DATABASE: 'off' }));
    assert.equal(config.asnDatabase, undefined);
    const loaded = loadEnrichment(config)!;
    assert.equal(loaded.asn, undefined);
    assert.deepEqual(loaded.enricher.ip('8.8.8.8'), { address: '8.8.8.8', scope: 'public', country: 'US' });
  });
});

describe('a producer cannot set the enrichment', () => {
  test('the decoder drops an enrichment the event arrives with, whatever its shape', () => {
    for (const forged of [{ ip: { address: '8.8.8.8', scope: 'private', country: 'XX' } }, 'trusted', null]) {
      const { event } = decodeEvent(Buffer.from(JSON.stringify({ ...makeEvent(), enrichment: forged })));
      assert.equal('enrichment' in event, false);
    }
  });
});

describe('ASN CSV ranges', () => {
  const table = (text: string) => AsnCsvTable.load([{ name: 'asn.csv', data: Buffer.from(text) }]);

  test('IPv4 and IPv6 ranges in one file, quoted organisations, overlaps clipped to the earlier range', () => {
    const asn = table(
      [
        '1.0.0.0,1.0.0.255,13335,"Cloudflare, Inc."',
        '1.0.0.128,1.0.1.255,64500,"Says ""overlap"""',
        '1.0.2.0,1.0.2.255,0,',
        '2001:db8::,2001:db8:0:ffff:ffff:ffff:ffff:ffff,64501,Doc Net',
        '2001:db8:1::,2001:db8:1::2f,64502,Tiny',
        '2001:db8:1::30,2001:db8:1::ffff:192.0.2.255,64503,Tail',
      ].join('\r\n'),
    );
    assert.equal(asn.size, 6);
    assert.deepEqual(asn.lookup('1.0.0.200', 4), { asn: 13335, as_org: 'Cloudflare, Inc.' }, 'the earlier range keeps the overlap');
    assert.deepEqual(asn.lookup('1.0.1.7', 4), { asn: 64500, as_org: 'Says "overlap"' });
    assert.equal(asn.lookup('1.0.2.1', 4), undefined, 'AS 0 is no AS');
    assert.equal(asn.lookup('1.0.3.1', 4), undefined);
    assert.deepEqual(asn.lookup('2001:db8::1', 6), { asn: 64501, as_org: 'Doc Net' });
    assert.deepEqual(asn.lookup('2001:db8:1::2f', 6), { asn: 64502, as_org: 'Tiny' });
    assert.deepEqual(asn.lookup('2001:db8:1::ffff:c000:2ff', 6), { asn: 64503, as_org: 'Tail' });
    assert.equal(asn.lookup('2001:db8:1:0:1::', 6), undefined);
  });

  test('a malformed or unsorted file is refused at its line', () => {
    assert.throws(() => table('1.0.0.0,1.0.0.255,13335,A\n1.0.0.0/8,1.2.3.4,1,B\n'), /asn\.csv:2: '1\.0\.0\.0\/8,1\.2\.3\.4' is not an address range/);
    assert.throws(() => table('1.0.0.0,1.0.0.255,AS13335,A\n'), /asn\.csv:1: 'AS13335' is not an AS number/);
    assert.throws(() => table('2.0.0.0,2.0.0.255,1,A\n1.0.0.0,1.0.0.255,2,B\n'), /asn\.csv:2: ranges must be sorted by their start/);
    assert.throws(() => table('1.0.0.0;1.0.0.255;1;A\n'), /asn\.csv:1: expected start,end,asn,organisation/);
    assert.throws(() => table('2001:db8:::1,2001:db8::2,1,A\n'), /not an address range/);
  });

  test('records of the GeoIP2 layouts are read too', () => {
    assert.deepEqual(countryOf({ country: { iso_code: 'DE' } }), { country: 'DE' });
    assert.deepEqual(countryOf({ registered_country: { iso_code: 'FR' } }), { country: 'FR' });
    assert.deepEqual(countryOf({ country_code: 'AU' }), { country: 'AU' });
    assert.equal(countryOf({}), undefined);
    assert.deepEqual(asnOf({ autonomous_system_number: 15169, autonomous_system_organization: 'GOOGLE' }), { asn: 15169, as_org: 'GOOGLE' });
    assert.equal(asnOf({ country_code: 'AU' }), undefined);
  });
});
