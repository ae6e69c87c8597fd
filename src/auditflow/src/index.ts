export * from './all-in-one.ts';
export * from './args.ts';
export * from './commands.ts';
