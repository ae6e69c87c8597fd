import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { AuditEvent } from '@auditflow/common';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { type AlertOutcome, AnalysisEngine } from '../src/engine/analysis-engine.ts';
import type { RuleSet } from '../src/rules/rule-set.ts';
import { DEFAULT_RULES_FILE, loadRulesFile } from '../src/rules/rules-file.ts';
import { MemoryWindowStore } from '../src/store/memory-window-store.ts';
import { RedisWindowStore } from '../src/store/redis-window-store.ts';
import type { WindowStore } from '../src/store/window-store.ts';
import { REDIS_URL, uniqueName } from '../../common/test/support.ts';
import { contextOf, makeEvent, T0 } from './fixtures.ts';

const S = 1000;
let rules: RuleSet;
before(async () => {
  rules = await loadRulesFile(DEFAULT_RULES_FILE);
});

/** Small, skewed pools, so events collide in the same windows and episodes (and spray five distinct users). */
const USERS = ['alice', 'alice', 'alice', 'bob', 'bob', 'carol', 'dave', 'erin', 'devops_admin'];
const HOSTS = ['web-1', 'db-1'];
const IPS = ['10.0.0.1', '10.0.0.2', '172.16.0.9'];

const eventArb = fc
  .record({
    kind: fc.constantFrom('failed', 'failed', 'failed', 'success', 'sudo', 'passwd', 'account', 'noise'),
    user: fc.constantFrom(...USERS),
    host: fc.constantFrom(...HOSTS),
    ip: fc.constantFrom(...IPS),
    // Mostly within a few minutes (out of order), sometimes far behind (late), sometimes at night.
    offset: fc.oneof(
      { arbitrary: fc.integer({ min: 0, max: 120 }), weight: 6 },
      { arbitrary: fc.integer({ min: -2_000, max: -400 }), weight: 1 },
      { arbitrary: fc.constant(0), weight: 2 },
    ),
    night: fc.integer({ min: 0, max: 15 }).map((n) => n === 0),
  })
  .map(({ kind, user, host, ip, offset, night }): AuditEvent => {
    const at = T0 + offset * S - (night ? 7 * 3600 * S : 0);
    const login = { user_id: user, server_hostname: host, at };
    switch (kind) {
      case 'failed':
        return makeEvent({ ...login, details: { reason: 'Incorrect password', ip_address: ip, protocol: 'ssh' } });
      case 'success':
        return makeEvent({ ...login, severity: 'INFO', action_result: 'SUCCESS', details: { ip_address: ip, protocol: 'ssh' } });
      case 'sudo':
        return makeEvent({ ...login, event_type: 'sudo_command', action_result: 'SUCCESS', details: { command: '/usr/bin/sudo -i' } } as never);
      case 'passwd':
        return makeEvent({ ...login, event_type: 'file_modified', severity: 'CRITICAL', action_result: 'MODIFIED', details: { resource: '/etc/passwd' } } as never);
      case 'account':
        return makeEvent({ ...login, event_type: 'user_account_management', action_result: 'CREATED', details: { resource: `new_${user}` } } as never);
      default:
        return makeEvent({ at, event_type: 'service_status_change', action_result: 'STARTED', details: { resource: 'nginx.service' } } as never);
    }
  });

const scenarioArb = fc.record({
  events: fc.array(eventArb, { minLength: 1, maxLength: 80, size: 'max' }),
  batchSizes: fc.array(fc.integer({ min: 1, max: 25 }), { minLength: 1, maxLength: 10 }),
  redeliverAt: fc.option(fc.nat(), { nil: undefined }),
});

function engineOn(store: WindowStore, late: string[], indexRules = true): AnalysisEngine {
  return new AnalysisEngine({
    rules,
    store,
    settings: { latenessMs: 300 * S, defaultCooldownMs: 300 * S, environment: 'test' },
    hooks: { lateEvent: (id) => late.push(id) },
    indexRules,
  });
}

/** The outcomes of one event, in a fixed order: the order among one event's alerts carries no meaning (they are published at once). */
function shapes(outcomes: readonly AlertOutcome[]): string[] {
  return outcomes.map(shape).sort();
}

/** What an outcome means for a consumer: everything but the build time. */
function shape(outcome: AlertOutcome): string {
  const { timestamp: _built, ...alert } = outcome.alert;
  return JSON.stringify({ kind: outcome.kind, ...alert });
}

interface Backend {
  name: string;
  make(): WindowStore;
  cleanup(): Promise<void>;
}

const prefixes: string[] = [];
const redisStores: RedisWindowStore[] = [];
const backends: Backend[] = [
  { name: 'memory', make: () => new MemoryWindowStore(), cleanup: async () => undefined },
  {
    name: 'redis',
    make: () => {
      const keyPrefix = `${uniqueName('prop')}:`;
      prefixes.push(keyPrefix);
      const store = new RedisWindowStore({ url: REDIS_URL, keyPrefix });
      redisStores.push(store);
      return store;
    },
    cleanup: async () => {
      for (const store of redisStores.splice(0)) await store.close();
      const admin = new Redis(REDIS_URL);
      for (const prefix of prefixes.splice(0)) {
        const keys = await admin.keys(`${prefix}*`);
        if (keys.length > 0) await admin.del(...keys);
      }
      await admin.quit();
    },
  },
];

for (const backend of backends) {
  // The reference is the simplest reading of the rules: one event at a time (a batch of one), every
  // event tested against every detection; the service runs random batches through the rule index.
  describe(`batched, indexed analysis equals event-by-event analysis of every rule: ${backend.name}`, () => {
    after(() => backend.cleanup());

    test('same alerts, versions, counts and late events on random streams split into random batches', async () => {
      const seenRules = new Set<string>();
      let lateSeen = 0;
      await fc.assert(
        fc.asyncProperty(scenarioArb, async ({ events, batchSizes, redeliverAt }) => {
          // A redelivery repeats an event already seen, as after a lost ack.
          const stream = events.map((event) => ({ event, redelivered: false }));
          if (redeliverAt !== undefined) stream.splice(redeliverAt % (stream.length + 1), 0, { event: events[redeliverAt % events.length]!, redelivered: true });

          const lateOne: string[] = [];
          const single = engineOn(backend.make(), lateOne, false);
          const perEvent: string[][] = [];
          for (const { event, redelivered } of stream) {
            const [outcomes] = await single.processBatch([{ context: contextOf(event), redelivered }]);
            perEvent.push(shapes(outcomes!));
          }

          const lateBatch: string[] = [];
          const batched = engineOn(backend.make(), lateBatch);
          const perBatch: string[][] = [];
          let at = 0;
          for (let b = 0; at < stream.length; b++) {
            const size = batchSizes[b % batchSizes.length]!;
            const slice = stream.slice(at, at + size);
            at += size;
            const outcomes = await batched.processBatch(slice.map(({ event, redelivered }) => ({ context: contextOf(event), redelivered })));
            perBatch.push(...outcomes.map(shapes));
          }
          assert.deepEqual(perBatch, perEvent);
          assert.deepEqual(lateBatch.sort(), lateOne.sort());
          for (const list of perEvent) for (const text of list) seenRules.add(JSON.parse(text).analysis_rule.rule_id);
          lateSeen += lateOne.length;
        }),
        { numRuns: backend.name === 'redis' ? 60 : 200 },
      );
      // The streams exercised correlations of every kind and late events, not only quiet runs.
      for (const id of ['ANLY-SEC-001', 'ANLY-SEC-002', 'ANLY-SEC-003', 'ANLY-SEC-004']) assert.ok(seenRules.has(id), `no ${id} alert in any run: ${[...seenRules]}`);
      assert.ok(lateSeen > 0, 'no late event in any run');
    });
  });
}
