import type { EventPublisher } from '../publisher.ts';
import type { Random } from '../random.ts';
import type { ScenarioRun } from '../scenario-runner.ts';
import type { ScenarioOptions } from '../scenarios.ts';

/** What the HTTP routes need, injected so tests can swap the clock, randomness and broker. */
export interface RouteDeps {
  publisher: EventPublisher;
  clock: () => number;
  random: Random;
  /** Runs a scenario now (publishing and counting it) and reports its event ids. */
  runScenario: (name: string, options: ScenarioOptions) => Promise<ScenarioRun>;
}
