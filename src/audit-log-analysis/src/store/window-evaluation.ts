import { type CountCondition, meetsCondition } from '../rules/rule-set.ts';
import type { Entry } from './sorted-set.ts';
import { memberTag, type WindowResult } from './window-store.ts';

/*
 * The in-memory adapter's evaluation, a line-by-line twin of
 * lua/count-window-2.lua and lua/chain-window-2.lua (the contract suite runs
 * both against the same cases).
 */

/**
 * Slides every window of length span that starts at an entry in [ts - span, ts];
 * when it fires, the count reported is that of the trailing window [ts - span, ts].
 */
export function evaluateCountWindow(
  entries: readonly Entry[],
  ts: number,
  span: number,
  byValue: boolean,
  condition: CountCondition,
): WindowResult {
  const n = entries.length;
  const values = byValue ? entries.map((entry) => memberTag(entry.member) ?? '') : [];
  const counts = new Map<string, number>();
  let distinct = 0;
  let lo = 0;
  let hi = -1;
  let rangeStart: number | undefined;
  let rangeEnd: number | undefined;
  for (let i = 0; i < n; i++) {
    const s = entries[i]!.score;
    if (s > ts) break;
    if (s < ts - span || (i > 0 && entries[i - 1]!.score === s)) continue;
    while (lo < i) {
      if (byValue && lo <= hi) {
        const v = values[lo]!;
        const c = counts.get(v)! - 1;
        counts.set(v, c);
        if (c === 0) distinct--;
      }
      lo++;
    }
    if (hi < lo - 1) hi = lo - 1;
    while (hi < n - 1 && entries[hi + 1]!.score <= s + span) {
      hi++;
      if (byValue) {
        const v = values[hi]!;
        const c = counts.get(v) ?? 0;
        if (c === 0) distinct++;
        counts.set(v, c + 1);
      }
    }
    const count = byValue ? distinct : hi - lo + 1;
    if (meetsCondition(count, condition)) {
      rangeStart ??= s;
      rangeEnd = s + span;
    }
  }
  if (rangeStart === undefined) return { late: false, fired: false, count: 0, rangeStart: undefined, rangeEnd: undefined };
  const trailingEntries = entries.filter((entry) => entry.score >= ts - span && entry.score <= ts);
  const trailing = byValue ? new Set(trailingEntries.map((entry) => memberTag(entry.member) ?? '')).size : trailingEntries.length;
  return { late: false, fired: true, count: trailing, rangeStart, rangeEnd };
}

function firstAtLeast(list: readonly number[], from: number): number | undefined {
  let a = 0;
  let b = list.length - 1;
  let found: number | undefined;
  while (a <= b) {
    const m = (a + b) >>> 1;
    if (list[m]! >= from) {
      found = list[m];
      b = m - 1;
    } else a = m + 1;
  }
  return found;
}

/** Checks for a complete chain containing the event (as one of its own stages) within span. */
export function evaluateChain(
  entries: readonly Entry[],
  ts: number,
  span: number,
  stageCount: number,
  ordered: boolean,
  own: readonly number[],
): WindowResult {
  const stages: number[][] = Array.from({ length: stageCount }, () => []);
  const starts: number[] = [];
  for (const entry of entries) {
    const k = Number(memberTag(entry.member));
    stages[k - 1]?.push(entry.score);
    if (entry.score <= ts && entry.score >= ts - span) starts.push(entry.score);
  }
  const ownSet = new Set(own.map((stage) => stage + 1));
  let fired = false;
  let rangeStart: number | undefined;
  let rangeEnd: number | undefined;
  for (const s of starts) {
    if (ordered) {
      for (const c of ownSet) {
        let ok = c === 1 ? s === ts : firstAtLeast(stages[0]!, s) === s;
        let cur = s;
        if (ok) {
          for (let k = 2; k <= stageCount; k++) {
            if (k === c) {
              if (ts < cur) {
                ok = false;
                break;
              }
              cur = ts;
            } else {
              const t = firstAtLeast(stages[k - 1]!, cur);
              if (t === undefined || t > s + span) {
                ok = false;
                break;
              }
              cur = t;
            }
          }
        }
        if (ok && cur <= s + span) {
          fired = true;
          if (rangeStart === undefined || s < rangeStart) rangeStart = s;
          if (rangeEnd === undefined || cur > rangeEnd) rangeEnd = cur;
        }
      }
    } else {
      let present = 0;
      for (let k = 1; k <= stageCount; k++) {
        const t = firstAtLeast(stages[k - 1]!, s);
        if (ownSet.has(k) || (t !== undefined && t <= s + span)) present++;
      }
      if (present === stageCount) {
        fired = true;
        if (rangeStart === undefined || s < rangeStart) rangeStart = s;
        if (rangeEnd === undefined || s + span > rangeEnd) rangeEnd = s + span;
      }
    }
  }
  if (fired) return { late: false, fired: true, count: stageCount, rangeStart, rangeEnd };
  return { late: false, fired: false, count: 0, rangeStart: undefined, rangeEnd: undefined };
}
