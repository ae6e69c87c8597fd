export * from './alert.ts';
export * from './audit-event.ts';
export * from './validate.ts';
export * from './notification-api.ts';
