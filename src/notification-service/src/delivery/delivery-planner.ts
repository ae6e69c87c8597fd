import type { AlertRecord } from '../store/alert-store.ts';
import type { DeliveryPlanner, PlannedDelivery } from '../store/outbox-store.ts';
import { alertLabels } from './alert-labels.ts';
import type { OutputsConfig } from './outputs-config.ts';
import { routeAlert } from './route-tree.ts';

/** Turns stored alerts into outbox rows through the route tree of the outputs file. */
export function createDeliveryPlanner(config: OutputsConfig, onEnqueued: () => void): DeliveryPlanner {
  return {
    plan: (records: readonly AlertRecord[]) => {
      const planned: PlannedDelivery[] = [];
      for (const record of records) {
        for (const match of routeAlert(config.route, alertLabels(record))) {
          const output = config.outputs.get(match.receiver);
          if (output === undefined) continue;
          // The demo stream reaches an output only where a route asked for it (`synthetic: true`).
          if (record.origin === 'synthetic' && !match.route.synthetic) continue;
          planned.push({
            alert_id: record.alert_id,
            output: output.name,
            type: output.type,
            group_key: match.groupKey,
            group_wait_ms: match.route.groupWaitMs,
            repeat_interval_ms: match.route.repeatIntervalMs,
            max_attempts: config.delivery.maxAttempts,
          });
        }
      }
      return planned;
    },
    enqueued: onEnqueued,
  };
}
