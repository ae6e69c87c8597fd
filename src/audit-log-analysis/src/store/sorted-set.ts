export interface Entry {
  member: string;
  score: number;
}

/** A small in-memory equivalent of a Redis sorted set: ordered by score, then member. */
export class SortedSet {
  readonly #scores = new Map<string, number>();
  #entries: Entry[] = [];

  get size(): number {
    return this.#entries.length;
  }

  /** Returns 1 when the member is new, 0 when it only got a new score (as ZADD). */
  add(score: number, member: string): number {
    const existing = this.#scores.get(member);
    if (existing !== undefined) {
      if (existing === score) return 0;
      this.#entries.splice(this.#indexOf(existing, member), 1);
    }
    this.#scores.set(member, score);
    this.#entries.splice(this.#lowerBound(score, member), 0, { member, score });
    return existing === undefined ? 1 : 0;
  }

  score(member: string): number | undefined {
    return this.#scores.get(member);
  }

  has(member: string): boolean {
    return this.#scores.has(member);
  }

  /** Entries with min <= score <= max, in order. */
  range(min: number, max: number): Entry[] {
    const start = this.#lowerBound(min, '');
    const out: Entry[] = [];
    for (let i = start; i < this.#entries.length; i++) {
      const entry = this.#entries[i]!;
      if (entry.score > max) break;
      out.push(entry);
    }
    return out;
  }

  /** The first `count` entries in order. */
  head(count: number): Entry[] {
    return this.#entries.slice(0, count);
  }

  /** Removes entries with score < bound; returns them. */
  removeBelow(bound: number): Entry[] {
    const end = this.#lowerBound(bound, '');
    if (end === 0) return [];
    const removed = this.#entries.slice(0, end);
    for (const entry of removed) this.#scores.delete(entry.member);
    this.#entries = this.#entries.slice(end);
    return removed;
  }

  /** Keeps only the `keep` highest entries; returns the others. */
  trimTo(keep: number): Entry[] {
    if (this.#entries.length <= keep) return [];
    const drop = this.#entries.length - keep;
    const removed = this.#entries.slice(0, drop);
    for (const entry of removed) this.#scores.delete(entry.member);
    this.#entries = this.#entries.slice(drop);
    return removed;
  }

  #indexOf(score: number, member: string): number {
    return this.#lowerBound(score, member);
  }

  /** First index whose (score, member) is >= the given pair. */
  #lowerBound(score: number, member: string): number {
    let lo = 0;
    let hi = this.#entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const entry = this.#entries[mid]!;
      if (entry.score < score || (entry.score === score && entry.member < member)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
