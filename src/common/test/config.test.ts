import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, EnvReader, readRabbitConfig, redactUrl } from '../src/index.ts';

test('every bad variable is named in one ConfigError', () => {
  const reader = new EnvReader({ APP_PORT: 'eighty', RABBITMQ_PORT: '70000', LOG_ENABLED: 'maybe' });
  reader.port('APP_PORT', 5000);
  reader.port('RABBITMQ_PORT', 5672);
  reader.bool('LOG_ENABLED', true);
  assert.throws(
    () => reader.done(),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.code, 'AF_CONFIG_INVALID');
      assert.deepEqual(error.variables, ['APP_PORT', 'RABBITMQ_PORT', 'LOG_ENABLED']);
      return true;
    },
  );
});

test('defaults apply to unset and blank variables', () => {
  const reader = new EnvReader({ APP_PORT: '  ' });
  assert.equal(reader.port('APP_PORT', 5000), 5000);
  assert.equal(reader.string('ENVIRONMENT', 'development'), 'development');
  reader.done();
});

test('RabbitMQ: the URL form wins; the split form is assembled with escaping; neither means embedded', () => {
  const url = readRabbitConfig(new EnvReader({ RABBITMQ_URL: 'amqp://a:b@h:1/v', RABBITMQ_HOST: 'ignored' }), 10);
  assert.equal(url.url, 'amqp://a:b@h:1/v');
  const split = readRabbitConfig(
    new EnvReader({ RABBITMQ_HOST: 'rabbit', RABBITMQ_USER: 'svc', RABBITMQ_PASS: 'p@ss/word' }),
    10,
  );
  assert.equal(split.url, 'amqp://svc:p%40ss%2Fword@rabbit:5672/%2F');
  assert.equal(split.queueType, 'quorum');
  assert.equal(readRabbitConfig(new EnvReader({}), 10).url, undefined);
});

test('passwords never reach a printed URL', () => {
  assert.equal(redactUrl('amqp://u:secret@h:5672/'), 'amqp://u:***@h:5672/');
});
