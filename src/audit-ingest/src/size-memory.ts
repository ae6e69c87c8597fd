// main.ts imports this module first, so the process is re-executed with its
// heap flags (see sizeMemory) before the rest of the service is evaluated.
import { sizeMemory } from '@auditflow/common/memory/self-size';

sizeMemory('audit-ingest');
