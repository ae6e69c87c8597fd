import { createHash, randomBytes } from 'node:crypto';

export interface Session {
  person: string;
  expiresAt: number;
}

/**
 * Server-side sessions: the cookie carries only a random 256-bit id, the
 * server keeps who it belongs to and when it ends, so a session can be ended
 * (logout) and nothing about the person travels in the cookie. Ids are kept
 * as SHA-256 digests. In memory: a restart logs everybody out, which one
 * dashboard replica can afford. Oldest sessions give way beyond `max`.
 */
export class SessionStore {
  readonly #sessions = new Map<string, Session>();
  readonly #ttlMs: number;
  readonly #max: number;
  readonly #now: () => number;

  constructor(options: { ttlMs: number; max?: number; now?: () => number }) {
    this.#ttlMs = options.ttlMs;
    this.#max = options.max ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  get ttlMs(): number {
    return this.#ttlMs;
  }

  /** A new session for `person`; returns the id for the cookie. */
  create(person: string): string {
    const id = randomBytes(32).toString('base64url');
    this.#sweep();
    while (this.#sessions.size >= this.#max) this.#sessions.delete(this.#sessions.keys().next().value!);
    this.#sessions.set(digest(id), { person, expiresAt: this.#now() + this.#ttlMs });
    return id;
  }

  get(id: string | undefined): Session | undefined {
    if (id === undefined || id.length > 100) return undefined;
    const key = digest(id);
    const session = this.#sessions.get(key);
    if (session === undefined) return undefined;
    if (session.expiresAt <= this.#now()) {
      this.#sessions.delete(key);
      return undefined;
    }
    return session;
  }

  destroy(id: string | undefined): void {
    if (id !== undefined) this.#sessions.delete(digest(id));
  }

  get size(): number {
    return this.#sessions.size;
  }

  #sweep(): void {
    const now = this.#now();
    for (const [key, session] of this.#sessions) if (session.expiresAt <= now) this.#sessions.delete(key);
  }
}

function digest(id: string): string {
  return createHash('sha256').update(id).digest('base64url');
}
