import { generateEvent, type Random } from '@auditflow/audit-event-generator';
import type { AuditEvent } from '@auditflow/common';
import type { BatchEvent } from '../src/engine/analysis-engine.ts';
import { EventClock, EventContext } from '../src/rules/event-context.ts';

/** Deliveries per batch, as the service consumes them (ANALYSIS_BATCH_SIZE's default). */
export const BATCH = 250;

/**
 * `total` events of the generator, 10 ms apart and ending now, in batches of BATCH: the stream the
 * engine benches feed it. `adjust` changes each event after it is generated (same draws of `random`).
 */
export function generatedBatches(total: number, random: Random, adjust?: (event: AuditEvent) => void): BatchEvent[][] {
  const start = Date.now() - total * 10;
  const clock = new EventClock('UTC');
  const batches: BatchEvent[][] = [];
  for (let i = 0; i < total; i += BATCH) {
    batches.push(
      Array.from({ length: Math.min(BATCH, total - i) }, (_, j) => {
        const at = start + (i + j) * 10;
        const event = generateEvent(undefined, { random, clock: () => at });
        adjust?.(event);
        return { context: new EventContext(event, at, clock), redelivered: false };
      }),
    );
  }
  return batches;
}
