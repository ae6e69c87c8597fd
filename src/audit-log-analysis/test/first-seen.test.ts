import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { AuditEvent } from '@auditflow/common';
import { Redis } from 'ioredis';
import { type AlertOutcome, AnalysisEngine } from '../src/engine/analysis-engine.ts';
import { parseRules } from '../src/rules/rule-parser.ts';
import { DEFAULT_RULES_FILE, loadRulesFile } from '../src/rules/rules-file.ts';
import { RulesError } from '../src/rules/rules-error.ts';
import { MemoryWindowStore } from '../src/store/memory-window-store.ts';
import { RedisWindowStore } from '../src/store/redis-window-store.ts';
import type { FirstSeenBatchResult, WindowStore } from '../src/store/window-store.ts';
import { REDIS_URL, uniqueName } from '../../common/test/support.ts';
import { seededRandom } from '../../audit-event-generator/src/random.ts';
import { buildEvent } from '../../audit-ingest/src/normalise/event-builder.ts';
import { k8sAuditIdentity, mapK8sAudit } from '../../audit-ingest/src/normalise/k8s-audit.ts';
import { mapProgramLine } from '../../audit-ingest/src/normalise/linux-auth.ts';
import { contextOf, makeEvent, T0 } from './fixtures.ts';

const H = 3_600_000;

const RULES = `
title: Sudo succeeded
id: T-BASE-SUDO
name: sudo_ok
detection:
  sel: { event_type: sudo, action_result: SUCCESS }
  condition: sel
---
title: SSH login succeeded
id: T-BASE-LOGIN
name: login_ok
detection:
  sel: { event_type: ssh_login, action_result: SUCCESS }
  condition: sel
---
title: First sudo by a user on a host
id: T-FS-SUDO
correlation:
  type: first_seen
  rules: [sudo_ok]
  group-by: [server_hostname]
  fields: [user_id]
  learning_period: 1d
level: high
---
title: First login to a host by a user from an address
id: T-FS-LOGIN
correlation:
  type: first_seen
  rules: [login_ok]
  group-by: [server_hostname]
  fields: [user_id, details.ip_address]
  learning_period: 1d
---
title: First login by a user from an address over a protocol
id: T-FS-PROTO
correlation:
  type: first_seen
  rules: [login_ok]
  fields: [user_id, details.ip_address, details.protocol]
  learning_period: 1d
`;
const FS_RULES = ['T-FS-SUDO', 'T-FS-LOGIN', 'T-FS-PROTO'];

interface Labelled {
  event: AuditEvent;
  /** The first_seen rules this event must raise: by construction, the first emission of an intrusion after learning. */
  expect: string[];
  /** Clock time (ms) at which it is processed. */
  at: number;
}

const sudo = (host: string, user: string) =>
  makeEvent({ event_type: 'sudo', action_result: 'SUCCESS', server_hostname: host, user_id: user, details: { command: '/usr/bin/apt update', target_user: 'root' } });
const login = (host: string, user: string, ip: string | undefined, protocol = 'ssh') =>
  makeEvent({ event_type: 'ssh_login', action_result: 'SUCCESS', server_hostname: host, user_id: user, details: { ...(ip ? { ip_address: ip } : {}), protocol } });

/**
 * The labelled stream. Baseline: on each of 4 hosts, `ops` and `admin-<host>`
 * use sudo and alice logs in over ssh from her two addresses; bob does so on
 * pi-1 and pi-2 only. Every baseline combination occurs during the learning
 * period (day 0), so none is new afterwards. Intrusions (from day 1), each
 * emitted 1 to 3 times among the baseline events: an emission is labelled with
 * the rules for which its combination had not been emitted before. Noise
 * during learning (one-off users) and logins without an address are labelled
 * nothing.
 */
function labelledStream(seed: number): { learning: Labelled[]; live: Labelled[] } {
  const rnd = seededRandom(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)]!;
  const hosts = ['pi-1', 'pi-2', 'pi-3', 'pi-4'];
  const ipOf = (user: string, n: number) => `10.0.${user === 'alice' ? 1 : 2}.${n}`;
  const baseline: (() => AuditEvent)[] = [];
  for (const host of hosts) {
    baseline.push(() => sudo(host, 'ops'), () => sudo(host, `admin-${host}`));
    for (const user of host === 'pi-1' || host === 'pi-2' ? ['alice', 'bob'] : ['alice']) for (const n of [1, 2]) baseline.push(() => login(host, user, ipOf(user, n)));
  }
  const learning: Labelled[] = [];
  for (const [i, make] of baseline.entries()) learning.push({ event: make(), expect: [], at: T0 + i * 60_000 });
  for (let i = 0; i < 200; i++) {
    const noise = rnd() < 0.05;
    const event = noise ? sudo(pick(hosts), `oneoff-${i}`) : pick(baseline)();
    learning.push({ event, expect: [], at: T0 + (baseline.length + i) * 60_000 });
  }

  // Each intrusion: how to make it, and per rule the combination it brings (the generator's own naming).
  const intrusions: { make: () => AuditEvent; combos: Record<string, string> }[] = [];
  for (let k = 0; k < 15; k++) {
    const host = pick(hosts);
    const other = hosts[(hosts.indexOf(host) + 1) % hosts.length]!;
    const kind = k % 5;
    if (kind === 0) intrusions.push({ make: () => sudo(host, `intruder-${k}`), combos: { 'T-FS-SUDO': `${host} intruder-${k}` } });
    // Group separation: admin-<other> is known on its own host only.
    if (kind === 1) intrusions.push({ make: () => sudo(host, `admin-${other}`), combos: { 'T-FS-SUDO': `${host} admin-${other}` } });
    if (kind === 2) {
      const ip = `203.0.113.${k}`;
      intrusions.push({ make: () => login(host, 'alice', ip), combos: { 'T-FS-LOGIN': `${host} alice ${ip}`, 'T-FS-PROTO': `alice ${ip} ssh` } });
    }
    // Group separation: bob and his address are known, on pi-1 and pi-2 only; the ungrouped rule knows the pair.
    if (kind === 3) {
      const target = pick(['pi-3', 'pi-4']);
      intrusions.push({ make: () => login(target, 'bob', ipOf('bob', 1)), combos: { 'T-FS-LOGIN': `${target} bob ${ipOf('bob', 1)}` } });
    }
    // Only the third field is new.
    if (kind === 4) intrusions.push({ make: () => login(host, 'alice', ipOf('alice', 1), `proto-${k}`), combos: { 'T-FS-PROTO': `alice ${ipOf('alice', 1)} proto-${k}` } });
  }
  const slots = intrusions.flatMap((_, i) => Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => i));
  const live: Labelled[] = [];
  const emitted = new Set<string>();
  const start = T0 + 25 * H;
  for (let i = 0; live.length < 400 || slots.length > 0; i++) {
    let event: AuditEvent;
    const expect: string[] = [];
    if (slots.length > 0 && rnd() < 0.1) {
      const intrusion = intrusions[slots.splice(Math.floor(rnd() * slots.length), 1)[0]!]!;
      event = intrusion.make();
      for (const [rule, combo] of Object.entries(intrusion.combos)) {
        if (!emitted.has(`${rule} ${combo}`)) expect.push(rule);
        emitted.add(`${rule} ${combo}`);
      }
    } else if (rnd() < 0.03) {
      event = login(pick(hosts), `no-address-${i}`, undefined);
    } else {
      event = pick(baseline)();
    }
    live.push({ event, expect, at: start + i * 60_000 });
  }
  return { learning, live };
}

function fixture(store: WindowStore) {
  const clock = { now: T0 };
  const results: { rule: string; result: FirstSeenBatchResult; relearning: boolean }[] = [];
  const engine = new AnalysisEngine({
    rules: parseRules(RULES, 'first-seen.yaml'),
    store,
    settings: { latenessMs: 300_000, defaultCooldownMs: 300_000, environment: 'test', now: () => clock.now },
    hooks: { firstSeen: (rule, result, relearning) => results.push({ rule, result, relearning }) },
  });
  /** Runs the stream in batches of 1 to 40 events; returns per event the first_seen rules it raised. */
  const run = async (stream: readonly Labelled[], seed: number, redelivered = false) => {
    const rnd = seededRandom(seed);
    const raised: string[][] = [];
    const outcomes: AlertOutcome[] = [];
    for (let i = 0; i < stream.length; ) {
      const size = 1 + Math.floor(rnd() * 40);
      const batch = stream.slice(i, i + size);
      clock.now = batch[0]!.at;
      const answer = await engine.processBatch(batch.map(({ event }) => ({ context: contextOf(event), redelivered })));
      for (const list of answer) {
        const fs = list.filter((o) => FS_RULES.includes(o.rule.id));
        raised.push(fs.map((o) => o.rule.id).sort());
        outcomes.push(...fs);
      }
      i += size;
    }
    return { raised, outcomes };
  };
  return { engine, clock, run, results };
}

interface StoreCase {
  name: string;
  create(): { store: WindowStore; loseState: (rule: string) => Promise<void>; cleanup: () => Promise<void> };
}

const stores: StoreCase[] = [
  {
    name: 'memory',
    create: () => {
      const store = new MemoryWindowStore();
      return { store, loseState: async () => assert.fail('the in-memory store loses its state only with its process'), cleanup: () => store.close() };
    },
  },
  {
    name: 'redis',
    create: () => {
      const prefix = `${uniqueName('fs')}:`;
      const store = new RedisWindowStore({ url: REDIS_URL, keyPrefix: prefix });
      const admin = new Redis(REDIS_URL);
      return {
        store,
        loseState: async (rule) => {
          const keys = store.firstSeenKeys(rule);
          await admin.del(keys.seen, keys.raisedBy);
        },
        cleanup: async () => {
          await store.close();
          const keys = await admin.keys(`${prefix}*`);
          if (keys.length > 0) await admin.del(...keys);
          await admin.quit();
        },
      };
    },
  },
];

for (const storeCase of stores) {
  describe(`first_seen on a labelled stream: ${storeCase.name} store`, () => {
    const { store, loseState, cleanup } = storeCase.create();
    after(cleanup);
    const { learning, live } = labelledStream(42);
    const { engine, clock, run, results } = fixture(store);

    test('nothing during the learning period; after it, exactly the labelled events raise, once per new combination', async () => {
      await engine.startFirstSeen();
      assert.equal(engine.firstSeenRulesLearning(), 3);
      const during = await run(learning, 1);
      assert.deepEqual(during.raised.flat(), [], 'never during learning');
      clock.now = live[0]!.at;
      assert.equal(engine.firstSeenRulesLearning(), 0);
      const { raised, outcomes } = await run(live, 2);
      const expected = live.map((l) => [...l.expect].sort());
      const wrong = live.flatMap((l, i) => (JSON.stringify(raised[i]) === JSON.stringify(expected[i]) ? [] : [`#${i} ${l.event.user_id}@${l.event.server_hostname}: raised ${raised[i]} expected ${expected[i]}`]));
      assert.deepEqual(wrong, []);
      const labelled = expected.flat().length;
      assert.ok(labelled >= 15, `the stream has ${labelled} labelled new values`);
      assert.equal(new Set(outcomes.map((o) => o.alertId)).size, outcomes.length, 'one alert per new combination');
      for (const outcome of outcomes) {
        assert.equal(outcome.kind, 'new');
        const alert = outcome.alert;
        const rule = outcome.rule;
        assert.ok(rule.kind === 'correlation' && rule.firstSeen);
        for (const field of [...rule.groupBy, ...rule.firstSeen.fields]) assert.ok(field.name in alert.group_key!, `${field.name} in the group key`);
        assert.match(alert.description ?? "", new RegExp(`New: user_id=${String(alert.raw_event_data['user_id'])}`));
        if (rule.groupBy.length > 0) assert.match(alert.description ?? "", new RegExp(`for server_hostname=${String(alert.raw_event_data['server_hostname'])}\\.$`));
      }
    });

    test('the same events again (new deliveries) raise nothing; a redelivery of the raising events raises the same alerts again', async () => {
      const again = await run(
        live.map((l) => ({ ...l, event: { ...l.event, event_id: crypto.randomUUID() }, at: l.at + 48 * H })),
        3,
      );
      assert.deepEqual(again.raised.flat(), []);
      const sameIds = await run(live.map((l) => ({ ...l, at: l.at + 49 * H })), 4);
      assert.deepEqual(sameIds.raised.flat(), [], 'the same event ids, not redelivered, raise nothing');
      const redelivered = await run(live.map((l) => ({ ...l, at: l.at + 50 * H })), 5, true);
      const firstRun = new Set(live.flatMap((l, i) => (l.expect.length > 0 ? [i] : [])));
      assert.deepEqual(
        redelivered.raised.flatMap((r, i) => (r.length > 0 ? [i] : [])),
        [...firstRun],
        'only the events that raised, each with the rules it raised',
      );
    });

    if (storeCase.name === 'redis') {
      test('when the Redis state of a rule is lost it re-enters its learning period instead of raising every value', async () => {
        await loseState('T-FS-SUDO');
        results.length = 0;
        const base = live.at(-1)!.at + 60 * H;
        const fresh = ['pi-1', 'pi-2', 'pi-3'].flatMap((host) => ['ops', 'admin-pi-1', 'zed'].map((user) => sudo(host, user)));
        const during = await run(
          fresh.map((event, i) => ({ event, expect: [], at: base + i * 60_000 })),
          6,
        );
        assert.deepEqual(during.raised.flat(), [], 'no flood: every value is learned silently');
        assert.ok(results.some((r) => r.rule === 'T-FS-SUDO' && r.result.started && r.relearning), 'reported as relearning');
        assert.equal(engine.firstSeenRulesLearning(), 1);
        const later = await run(
          [sudo('pi-1', 'zed'), sudo('pi-4', 'newcomer')].map((event, i) => ({ event, expect: [], at: base + 25 * H + i })),
          7,
        );
        assert.deepEqual(later.raised, [[], ['T-FS-SUDO']], 'after the new learning period only a value new since the loss is raised');
      });
    }
  });
}

/** Real log lines and audit events through audit-ingest's own normalisers, as the analysis receives them. */
function normalised(host: string, at: number, source: { program: string; message: string } | Record<string, unknown>): AuditEvent {
  const isLine = 'program' in source && typeof source['message'] === 'string';
  const outcome = isLine
    ? mapProgramLine(source as { program: string; message: string })
    : mapK8sAudit(source, k8sAuditIdentity(source) as Exclude<ReturnType<typeof k8sAuditIdentity>, string>);
  assert.equal(outcome.kind, 'event');
  if (outcome.kind !== 'event') throw new Error('not mapped');
  return buildEvent({
    eventId: crypto.randomUUID(),
    timestampMs: at,
    sourceService: isLine ? 'syslog' : 'kube-apiserver',
    host,
    program: isLine ? (source as { program: string }).program : undefined,
    record: outcome.record,
    meta: { kind: isLine ? 'syslog' : 'k8s_audit', transport: 'tcp', peer: undefined },
    original: isLine ? (source as { message: string }).message : source,
  });
}

describe('the shipped first_seen examples on real log lines and audit events', () => {
  const sshd = (user: string, ip: string) => ({ program: 'sshd', message: `Accepted publickey for ${user} from ${ip} port 52514 ssh2: ED25519 SHA256:abc` });
  const sudoLine = (user: string) => ({ program: 'sudo', message: `${user} : TTY=pts/0 ; PWD=/home/${user} ; USER=root ; COMMAND=/usr/bin/apt update` });
  const exec = (user: string, namespace: string) => ({
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'Metadata',
    auditID: crypto.randomUUID(),
    stage: 'ResponseStarted',
    verb: 'create',
    requestURI: `/api/v1/namespaces/${namespace}/pods/web-0/exec?command=sh`,
    user: { username: user, groups: ['system:authenticated'] },
    sourceIPs: ['192.168.1.20'],
    objectRef: { resource: 'pods', namespace, name: 'web-0', apiVersion: 'v1', subresource: 'exec' },
    responseStatus: { metadata: {}, code: 101 },
    stageTimestamp: new Date(T0).toISOString(),
  });
  const withCountry = (event: AuditEvent, country: string) => ({ ...event, enrichment: { ip: { country } } }) as AuditEvent;

  test('first sudo by a user on a host, first login from an address or a country, first exec into a namespace', async () => {
    const clock = { now: T0 };
    const engine = new AnalysisEngine({
      rules: await loadRulesFile(DEFAULT_RULES_FILE),
      store: new MemoryWindowStore(),
      settings: { latenessMs: 300_000, defaultCooldownMs: 300_000, environment: 'test', now: () => clock.now },
    });
    const raise = async (events: AuditEvent[]) => {
      const answer = await engine.processBatch(events.map((event) => ({ context: contextOf(event), redelivered: false })));
      return answer.map((list) => list.filter((o) => o.rule.id.startsWith('ANLY-FS-')).map((o) => o.rule.id).sort());
    };
    await engine.startFirstSeen();
    const learning = [
      normalised('pi-1', T0, sudoLine('ops')),
      withCountry(normalised('pi-1', T0, sshd('alice', '198.51.100.7')), 'NL'),
      normalised('k3s', T0, exec('alice', 'dev')),
    ];
    assert.deepEqual(await raise(learning), [[], [], []]);
    clock.now = T0 + 7 * 24 * H;
    const live = [
      normalised('pi-1', T0, sudoLine('ops')),
      normalised('pi-1', T0, sudoLine('mallory')),
      normalised('pi-2', T0, sudoLine('ops')),
      withCountry(normalised('pi-1', T0, sshd('alice', '198.51.100.7')), 'NL'),
      withCountry(normalised('pi-1', T0, sshd('alice', '198.51.100.8')), 'NL'),
      withCountry(normalised('pi-1', T0, sshd('alice', '203.0.113.9')), 'BR'),
      normalised('pi-1', T0, sshd('alice', '192.0.2.1')),
      normalised('k3s', T0, exec('alice', 'dev')),
      normalised('k3s', T0, exec('alice', 'prod')),
      normalised('k3s', T0, exec('bob', 'dev')),
    ];
    assert.deepEqual(await raise(live), [
      [],
      ['ANLY-FS-001'],
      ['ANLY-FS-001'],
      [],
      ['ANLY-FS-002'],
      ['ANLY-FS-002', 'ANLY-FS-003'],
      ['ANLY-FS-002'],
      [],
      ['ANLY-FS-004'],
      ['ANLY-FS-004'],
    ]);
  });
});

describe('first_seen rules file', () => {
  const problemsOf = (text: string) => {
    try {
      parseRules(text, 'rules.yaml');
    } catch (error) {
      assert.ok(error instanceof RulesError);
      return error.problems.map((p) => `${p.line}:${p.column}: ${p.message}`);
    }
    return assert.fail('expected a RulesError');
  };
  const base = 'title: b\nid: b1\nname: base\ndetection:\n  sel: { event_type: sudo }\n  condition: sel\n---\ntitle: f\nid: f1\ncorrelation:\n  type: first_seen\n  rules: [base]\n';

  test('a valid rule: defaults and settings', () => {
    const rules = parseRules(`${base}  group-by: [server_hostname]\n  fields: [user_id, details.ip_address]\n  learning_period: 7d\n  forget_after: 90d\n`, 'r.yaml');
    const rule = rules.byId.get('f1');
    assert.ok(rule?.kind === 'correlation' && rule.firstSeen);
    assert.deepEqual(rule.firstSeen.fields.map((f) => f.name), ['user_id', 'details.ip_address']);
    assert.equal(rule.firstSeen.learningMs, 7 * 24 * H);
    assert.equal(rule.firstSeen.forgetAfterMs, 90 * 24 * H);
    assert.equal(rule.firstSeen.maxValues, 10_000);
    assert.equal(rules.byId.get('b1')?.alerts, false, 'the referenced base rule is silent, as for every correlation');
    const zero = parseRules(`${base}  fields: [user_id]\n  learning_period: 0\n  max_values: 5\n`, 'r.yaml').byId.get('f1');
    assert.ok(zero?.kind === 'correlation' && zero.firstSeen?.learningMs === 0 && zero.firstSeen.maxValues === 5);
  });

  test('errors name file position and cause', () => {
    assert.deepEqual(problemsOf(`${base}  learning_period: 7d\n`), ["11:3: first_seen needs 'fields': 1 to 3 fields whose combination of values is learned"]);
    assert.deepEqual(problemsOf(`${base}  fields: [a, b, c, d]\n  learning_period: 7d\n`), ["13:11: first_seen needs 'fields': 1 to 3 fields whose combination of values is learned"]);
    assert.deepEqual(problemsOf(`${base}  fields: [a, a]\n  learning_period: 7d\n`), ["13:11: field 'a' is listed twice"]);
    assert.deepEqual(problemsOf(`${base}  group-by: [a]\n  fields: [a]\n  learning_period: 7d\n`), ["14:11: 'a' is in both fields and group-by; a group already has one value of it"]);
    assert.deepEqual(problemsOf(`${base}  fields: [a]\n`), ["11:3: first_seen needs 'learning_period', a timespan such as 7d"]);
    assert.deepEqual(problemsOf(`${base}  fields: [a]\n  learning_period: a week\n`), ['14:20: learning_period must be a number with s, m, h or d, e.g. 7d']);
    assert.deepEqual(problemsOf(`${base}  fields: [a]\n  learning_period: 7d\n  forget_after: 0\n`), ['15:17: forget_after must be a number with s, m, h or d, e.g. 7d']);
    assert.deepEqual(problemsOf(`${base}  fields: [a]\n  learning_period: 7d\n  max_values: 0\n`), ['15:15: max_values must be an integer from 1 to 1000000']);
    assert.deepEqual(problemsOf(`${base}  fields: [a]\n  learning_period: 7d\n  timespan: 10m\n`), [
      '15:3: first_seen takes no timespan: it fires the first time a value combination is seen after its learning_period',
    ]);
    assert.deepEqual(problemsOf(`${base}  fields: [a]\n  learning_period: 7d\n  condition: { gte: 1 }\n`), [
      '15:3: first_seen takes no condition: it fires the first time a value combination is seen after its learning_period',
    ]);
    assert.deepEqual(
      problemsOf(base.replace('first_seen', 'event_count').concat('  timespan: 1m\n  condition: { gte: 2 }\n  fields: [a]\n')),
      ["15:3: only first_seen takes 'fields'"],
    );
  });

  test('the default rules ship first_seen examples that parse, among them one on enrichment.ip.country', async () => {
    const rules = await loadRulesFile(DEFAULT_RULES_FILE);
    const firstSeen = rules.correlations.filter((rule) => rule.firstSeen);
    assert.ok(firstSeen.length >= 4);
    assert.ok(firstSeen.some((rule) => rule.firstSeen!.fields.some((f) => f.name === 'enrichment.ip.country')));
  });
});
