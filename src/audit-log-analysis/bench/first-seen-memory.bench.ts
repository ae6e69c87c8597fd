/**
 * Memory of first_seen state in Redis (not a test): fills one rule's seen set
 * through the real Lua script with N value combinations shaped as the shipped
 * examples' (`server_hostname=pi-07,details.ip_address=10.0.113.45`, about
 * 50 bytes) and prints MEMORY USAGE (exact, SAMPLES 0) per stored value:
 * learned silently (seen set only) and raised (seen set plus the raised-by
 * hash entry holding the event id). The figures are in docs/analysis-rules.md.
 *
 *   npm run bench -- first-seen
 *   node --conditions=source src/audit-log-analysis/bench/first-seen-memory.bench.ts
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { RedisWindowStore } from '../src/store/redis-window-store.ts';

const url = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const prefix = `bench-fs-${randomUUID().slice(0, 8)}:`;
const store = new RedisWindowStore({ url, keyPrefix: prefix });
const admin = new Redis(url);
const combination = (i: number) => `server_hostname=pi-${String(i % 16).padStart(2, '0')},details.ip_address=10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

async function fill(rule: string, count: number, learningMs: number): Promise<number> {
  const now = Date.now();
  for (let i = 0; i < count; i += 500) {
    const events = Array.from({ length: Math.min(500, count - i) }, (_, j) => ({ eventId: randomUUID(), combination: combination(i + j) }));
    await store.firstSeenBatch({ rule, now, learningMs, forgetAfterMs: undefined, maxValues: 1_000_000, events });
  }
  const keys = store.firstSeenKeys(rule);
  let bytes = 0;
  for (const key of [keys.seen, keys.raisedBy]) bytes += Number((await admin.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) ?? 0);
  return bytes;
}

try {
  await store.connect();
  console.log('values  learned B/value  raised B/value');
  for (const count of [100, 1_000, 10_000, 100_000]) {
    const learned = await fill(`learned-${count}`, count, 3_600_000);
    const raised = await fill(`raised-${count}`, count, 0);
    console.log(`${String(count).padStart(6)}  ${(learned / count).toFixed(1).padStart(15)}  ${(raised / count).toFixed(1).padStart(14)}`);
  }
} finally {
  const keys = await admin.keys(`${prefix}*`);
  if (keys.length > 0) await admin.del(...keys);
  await admin.quit();
  await store.close();
}
