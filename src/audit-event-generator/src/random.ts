/**
 * Small helpers over an injected source of randomness, so every generated
 * value is reproducible in tests by passing a seeded `random`.
 */
export type Random = () => number;

/** A deterministic generator (mulberry32) for tests and reproducible demos. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Clamps a random draw into [0, 1) so a misbehaving source cannot index out of range. */
function unit(random: Random): number {
  const value = random();
  if (!Number.isFinite(value) || value < 0) return 0;
  return value >= 1 ? 1 - Number.EPSILON : value;
}

/** An integer in [min, max], both inclusive. */
export function randomInt(random: Random, min: number, max: number): number {
  return min + Math.floor(unit(random) * (max - min + 1));
}

export function pick<T>(random: Random, items: readonly T[]): T {
  if (items.length === 0) throw new RangeError('cannot pick from an empty list');
  return items[Math.floor(unit(random) * items.length)]!;
}

export type Weighted<T> = readonly (readonly [T, number])[];

/** Picks by relative weight; weights need not sum to 1. */
export function pickWeighted<T>(random: Random, items: Weighted<T>): T {
  const total = items.reduce((sum, [, weight]) => sum + weight, 0);
  if (items.length === 0 || total <= 0) throw new RangeError('cannot pick from an empty or weightless list');
  let remaining = unit(random) * total;
  for (const [item, weight] of items) {
    remaining -= weight;
    if (remaining < 0) return item;
  }
  return items[items.length - 1]![0];
}

/** `count` distinct items in random order (a partial Fisher–Yates shuffle). */
export function pickDistinct<T>(random: Random, items: readonly T[], count: number): T[] {
  if (count > items.length) throw new RangeError(`cannot pick ${count} distinct items from ${items.length}`);
  const pool = [...items];
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(unit(random) * (pool.length - i));
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return pool.slice(0, count);
}

/** Lower-case hex digits, like the slices of a UUID the original used. */
export function randomHex(random: Random, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += randomInt(random, 0, 15).toString(16);
  return out;
}
