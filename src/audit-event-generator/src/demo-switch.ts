/** Whether the generator's own demo stream (background events and scheduled scenarios) runs. */
export interface DemoState {
  paused: boolean;
  /** Why it is in this state: `operator` (the pause/resume API), `real-source` (the all-in-one saw real input), `config`. */
  reason: string;
  /** Who changed it last (token name), when known. */
  by: string | undefined;
  since: string;
}

/**
 * The pause switch the schedules read on every tick (a paused schedule's rate
 * is 0, so it idles without stopping). Requests to the generator's API still
 * publish while paused: only the made-up background stream stops.
 */
export class DemoSwitch {
  #state: DemoState;
  readonly #clock: () => number;
  readonly #listeners = new Set<(state: DemoState) => void>();

  constructor(clock: () => number = Date.now) {
    this.#clock = clock;
    this.#state = { paused: false, reason: 'config', by: undefined, since: new Date(clock()).toISOString() };
  }

  get paused(): boolean {
    return this.#state.paused;
  }

  get state(): DemoState {
    return { ...this.#state };
  }

  pause(reason: string, by?: string): DemoState {
    return this.#set(true, reason, by);
  }

  resume(reason: string, by?: string): DemoState {
    return this.#set(false, reason, by);
  }

  onChange(listener: (state: DemoState) => void): void {
    this.#listeners.add(listener);
  }

  #set(paused: boolean, reason: string, by: string | undefined): DemoState {
    if (this.#state.paused === paused) return this.state;
    this.#state = { paused, reason, by, since: new Date(this.#clock()).toISOString() };
    for (const listener of this.#listeners) listener(this.state);
    return this.state;
  }
}
