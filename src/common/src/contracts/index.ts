export * from './alert.ts';
export * from './audit-event.ts';
export * from './message-body.ts';
export * from './notification-api.ts';
export * from './validate.ts';
export * from './event-time.ts';
