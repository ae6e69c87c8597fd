export * from './broker-probe.ts';
export * from './port-probe.ts';
export * from './redis-probe.ts';
