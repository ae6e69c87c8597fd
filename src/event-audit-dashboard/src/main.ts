// First: sizes the heap for this service's memory budget before anything else runs.
import './size-memory.ts';
import { runService } from '@auditflow/common';
import { loadDashboardConfig, startDashboard } from './index.ts';

// Standalone entry point (the container's CMD): exits 78 naming the variable on bad config.
await runService({
  name: 'event-audit-dashboard',
  loadConfig: loadDashboardConfig,
  start: (config, logger) => startDashboard({ config, logger }),
});
