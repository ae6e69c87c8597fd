export * from './amqp-broker.ts';
export * from './delivery-count.ts';
export * from './delivery-policy.ts';
export * from './memory-broker.ts';
export * from './port.ts';
export * from './queue-declaration.ts';
