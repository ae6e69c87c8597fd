import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError } from '@auditflow/common';
import { loadGeneratorConfig, SCENARIO_NAMES } from '../src/index.ts';

function configError(env: Record<string, string>): ConfigError {
  try {
    loadGeneratorConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    assert.equal(error.code, 'AF_CONFIG_INVALID');
    return error;
  }
  assert.fail(`no ConfigError for ${JSON.stringify(env)}`);
}

describe('loadGeneratorConfig', () => {
  test('defaults follow docs/configuration.md', () => {
    const config = loadGeneratorConfig({});
    assert.equal(config.appPort, 5000);
    assert.equal(config.metricsPort, 8000);
    assert.equal(config.queue, 'audit_events');
    assert.equal(config.eventsPerSecond, 1);
    assert.equal(config.scenarioIntervalSeconds, 45);
    assert.equal(config.firstScenarioDelaySeconds, 5);
    assert.deepEqual(config.scenarios, SCENARIO_NAMES);
    assert.equal(config.host, '0.0.0.0');
    assert.equal(config.rabbit.url, undefined, 'no broker configured: the all-in-one mode may embed one');
    assert.equal(config.base.logLevel, 'info');
  });

  test('RabbitMQ split variables and URL form', () => {
    const split = loadGeneratorConfig({ RABBITMQ_HOST: 'rabbit', RABBITMQ_USER: 'u', RABBITMQ_PASS: 'p@ss', RABBITMQ_QUEUE: 'q1' });
    assert.equal(split.rabbit.url, 'amqp://u:p%40ss@rabbit:5672/%2F');
    assert.equal(split.queue, 'q1');
    const url = loadGeneratorConfig({ RABBITMQ_URL: 'amqp://a:b@h:5673/v', RABBITMQ_HOST: 'ignored' });
    assert.equal(url.rabbit.url, 'amqp://a:b@h:5673/v');
  });

  test('EVENTS_PER_SECOND: fractional, 0 = off, and it wins over the legacy interval', () => {
    assert.equal(loadGeneratorConfig({ EVENTS_PER_SECOND: '0.25' }).eventsPerSecond, 0.25);
    assert.equal(loadGeneratorConfig({ EVENTS_PER_SECOND: '0' }).eventsPerSecond, 0);
    assert.equal(
      loadGeneratorConfig({ EVENTS_PER_SECOND: '3', EVENT_GENERATION_INTERVAL_SECONDS: '10' }).eventsPerSecond,
      3,
    );
  });

  test('legacy EVENT_GENERATION_INTERVAL_SECONDS: seconds between events, fractional, 0 = off (not a busy loop)', () => {
    assert.equal(loadGeneratorConfig({ EVENT_GENERATION_INTERVAL_SECONDS: '5' }).eventsPerSecond, 0.2);
    assert.equal(loadGeneratorConfig({ EVENT_GENERATION_INTERVAL_SECONDS: '0.5' }).eventsPerSecond, 2);
    assert.equal(loadGeneratorConfig({ EVENT_GENERATION_INTERVAL_SECONDS: '0' }).eventsPerSecond, 0);
  });

  test('SCENARIOS restricts and orders the schedule; "all" means every scenario', () => {
    assert.deepEqual(loadGeneratorConfig({ SCENARIOS: 'unexpected-sudo, brute-force' }).scenarios, [
      'unexpected-sudo',
      'brute-force',
    ]);
    assert.deepEqual(loadGeneratorConfig({ SCENARIOS: 'all' }).scenarios, SCENARIO_NAMES);
  });

  test('SCENARIO_INTERVAL_SECONDS: 0 turns the schedule off; a short interval delays the first run less', () => {
    assert.equal(loadGeneratorConfig({ SCENARIO_INTERVAL_SECONDS: '0' }).scenarioIntervalSeconds, 0);
    const quick = loadGeneratorConfig({ SCENARIO_INTERVAL_SECONDS: '2' });
    assert.equal(quick.scenarioIntervalSeconds, 2);
    assert.equal(quick.firstScenarioDelaySeconds, 2);
  });

  const bad: [Record<string, string>, string][] = [
    [{ EVENTS_PER_SECOND: 'fast' }, 'EVENTS_PER_SECOND'],
    [{ EVENTS_PER_SECOND: '-1' }, 'EVENTS_PER_SECOND'],
    [{ EVENTS_PER_SECOND: '100000' }, 'EVENTS_PER_SECOND'],
    [{ EVENT_GENERATION_INTERVAL_SECONDS: 'x' }, 'EVENT_GENERATION_INTERVAL_SECONDS'],
    [{ EVENT_GENERATION_INTERVAL_SECONDS: '-2' }, 'EVENT_GENERATION_INTERVAL_SECONDS'],
    [{ SCENARIO_INTERVAL_SECONDS: '0.5' }, 'SCENARIO_INTERVAL_SECONDS'],
    [{ SCENARIO_INTERVAL_SECONDS: 'soon' }, 'SCENARIO_INTERVAL_SECONDS'],
    [{ SCENARIOS: 'brute-force,not-a-scenario' }, 'SCENARIOS'],
    [{ APP_PORT: '70000' }, 'APP_PORT'],
    [{ PROMETHEUS_PORT: 'metrics' }, 'PROMETHEUS_PORT'],
    [{ RABBITMQ_URL: 'http://rabbit' }, 'RABBITMQ_URL'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
  ];
  for (const [env, variable] of bad) {
    test(`a bad ${variable} (${JSON.stringify(env[variable])}) is a ConfigError naming it`, () => {
      const error = configError(env);
      assert.deepEqual(error.variables, [variable]);
      assert.match(error.message, new RegExp(variable));
    });
  }

  test('every bad variable is reported at once', () => {
    const error = configError({ APP_PORT: 'x', SCENARIOS: 'nope', EVENTS_PER_SECOND: '-3' });
    assert.deepEqual([...error.variables].sort(), ['APP_PORT', 'EVENTS_PER_SECOND', 'SCENARIOS']);
  });
});

describe('standalone entry point', () => {
  test('exits 78 naming RABBITMQ_HOST when no broker is configured', async () => {
    const { spawn } = await import('node:child_process');
    const main = new URL('../src/main.ts', import.meta.url).pathname;
    const child = spawn(process.execPath, ['--conditions=source', main], {
      env: { PATH: process.env['PATH'] ?? '', APP_PORT: '0', PROMETHEUS_PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 78, output);
    assert.match(output, /RABBITMQ_HOST/);
    assert.match(output, /AF_CONFIG_INVALID/);
  });
});
