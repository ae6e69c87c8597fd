export { readLayout, runAllInOne, startAllInOne } from './all-in-one.ts';
export type { AllInOneLayout, RunningPlatform, StartOutput } from './all-in-one.ts';
export { SERVICES, UsageError, parseCommand } from './args.ts';
export type { Command, ServiceName } from './args.ts';
export { MemoryBroker, generate, migrate, validateRules } from './commands.ts';
export type { Output } from './commands.ts';
