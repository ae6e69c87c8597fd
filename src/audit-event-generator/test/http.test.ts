import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { assertAuditEvent, MAX_EVENT_BYTES, UUID_PATTERN } from '@auditflow/common';
import {
  type GeneratorHandle,
  HOSTS,
  LEGACY_MISSING_EVENT_TYPE,
  MAX_BATCH_EVENTS,
  SCENARIOS,
  SOURCE_SERVICES,
  USERS,
} from '../src/index.ts';
import { FakeBroker } from './fake-broker.ts';
import { metricsText, sample, startTestGenerator } from './helpers.ts';

const PROBLEM = 'application/problem+json; charset=utf-8';

function validEvent(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    source_service: 'external-agent',
    server_hostname: 'prod-web-01',
    event_type: 'user_login',
    severity: 'INFO',
    user_id: 'app_user',
    action_result: 'SUCCESS',
    details: { ip_address: '192.168.1.150', protocol: 'ssh' },
    ...overrides,
  };
}

let broker: FakeBroker;
let generator: GeneratorHandle;

beforeEach(async () => {
  broker = new FakeBroker();
  generator = await startTestGenerator(broker);
});

afterEach(async () => {
  await generator.stop();
});

function post(url: string, payload: unknown, headers: Record<string, string> = {}) {
  return generator.app.inject({ method: 'POST', url, payload: payload as string, headers });
}

describe('POST /generate_event (compatible with the original)', () => {
  test('202 after the confirm; generator-owned fields overwritten, absent fields defaulted, extras kept', async () => {
    const response = await post('/generate_event', {
      event_type: 'custom_thing',
      event_id: 'caller-chosen',
      timestamp: 'yesterday',
      source_service: 'spoofed',
      custom_field: 'kept',
      resource: '/etc/passwd',
    });
    assert.equal(response.statusCode, 202);
    const body = response.json();
    assert.deepEqual(Object.keys(body).sort(), ['event_id', 'status']);
    assert.equal(body.status, 'success');
    assert.match(body.event_id, UUID_PATTERN);

    assert.equal(broker.published.length, 1);
    const { queue, message } = broker.published[0]!;
    assert.equal(queue, 'audit_events');
    assert.equal(message.messageId, body.event_id);
    assert.equal(message.correlationId, body.event_id);
    const event = assertAuditEvent(message.body);
    assert.equal(event.event_id, body.event_id);
    assert.equal(event.source_service, SOURCE_SERVICES.api);
    assert.ok(!Number.isNaN(Date.parse(event.timestamp)) && event.timestamp.endsWith('Z'));
    assert.equal(event.action_result, 'SUCCESS');
    assert.equal(event.severity, 'INFO');
    assert.deepEqual(event.details, {});
    assert.ok((HOSTS as readonly string[]).includes(event.server_hostname));
    assert.ok((USERS as readonly string[]).includes(event.user_id));
    assert.equal((event as Record<string, unknown>)['custom_field'], 'kept');
    assert.equal(event.resource, '/etc/passwd');
  });

  test('given values of the defaulted fields are kept', async () => {
    const response = await post('/generate_event', {
      event_type: 'user_login',
      user_id: 'eve',
      server_hostname: 'edge-01',
      action_result: 'FAILURE',
      severity: 'WARNING',
      details: { ip_address: '203.0.113.5' },
    });
    assert.equal(response.statusCode, 202);
    const event = broker.bodies()[0]!;
    assert.equal(event['user_id'], 'eve');
    assert.equal(event['server_hostname'], 'edge-01');
    assert.equal(event['action_result'], 'FAILURE');
    assert.deepEqual(event['details'], { ip_address: '203.0.113.5' });
  });

  for (const [what, payload] of [
    ['no event_type', { user_id: 'x' }],
    ['an array', [{ event_type: 'x' }]],
    ['a JSON string', '"just a string"'],
  ] as const) {
    test(`400 problem with the legacy error key for ${what}`, async () => {
      const response = await post(
        '/generate_event',
        typeof payload === 'string' ? payload : JSON.stringify(payload),
        { 'content-type': 'application/json' },
      );
      assert.equal(response.statusCode, 400);
      assert.equal(response.headers['content-type'], PROBLEM);
      const body = response.json();
      assert.equal(body.code, 'AF_VALIDATION_FAILED');
      assert.equal(body.status, 400);
      assert.equal(body.error, LEGACY_MISSING_EVENT_TYPE);
      assert.equal(broker.published.length, 0);
    });
  }

  test('400 without a body at all', async () => {
    const response = await generator.app.inject({ method: 'POST', url: '/generate_event' });
    assert.equal(response.statusCode, 400);
    assert.equal(response.json().code, 'AF_VALIDATION_FAILED');
  });

  test('wrong types are rejected after filling, naming the field', async () => {
    const response = await post('/generate_event', { event_type: 'user_login', user_id: 42, details: 'nope' });
    assert.equal(response.statusCode, 400);
    const body = response.json();
    assert.equal(body.code, 'AF_VALIDATION_FAILED');
    assert.equal(typeof body.error, 'string');
    const paths = body.errors.map((e: { path: string }) => e.path);
    assert.ok(paths.includes('/user_id'), JSON.stringify(body.errors));
    assert.ok(paths.includes('/details'), JSON.stringify(body.errors));
    assert.equal(broker.published.length, 0);
  });

  test('415 problem for a non-JSON content type', async () => {
    const response = await post('/generate_event', 'event_type=x', { 'content-type': 'text/plain' });
    assert.equal(response.statusCode, 415);
    assert.equal(response.headers['content-type'], PROBLEM);
    assert.equal(response.json().status, 415);
    assert.equal(typeof response.json().error, 'string');
    const form = await post('/generate_event', 'event_type=x', { 'content-type': 'application/x-www-form-urlencoded' });
    assert.equal(form.statusCode, 415);
    assert.equal(response.json().code, 'AF_UNSUPPORTED_MEDIA_TYPE');
    assert.equal(form.json().code, 'AF_UNSUPPORTED_MEDIA_TYPE');
    assert.equal(broker.published.length, 0);
  });

  test('400 problem for malformed JSON', async () => {
    const response = await post('/generate_event', '{"event_type": ', { 'content-type': 'application/json' });
    assert.equal(response.statusCode, 400);
    assert.equal(response.headers['content-type'], PROBLEM);
    assert.equal(response.json().status, 400);
    assert.equal(response.json().code, 'AF_BAD_REQUEST');
    assert.equal(broker.published.length, 0);
  });

  test('413 problem for a body over 64 KiB', async () => {
    const response = await post('/generate_event', { event_type: 'x', details: { blob: 'a'.repeat(MAX_EVENT_BYTES) } });
    assert.equal(response.statusCode, 413);
    assert.match(response.json().code, /^AF_(BODY|EVENT)_TOO_LARGE$/);
    assert.equal(response.headers['content-type'], PROBLEM);
    assert.equal(broker.published.length, 0);
  });

  test('a failed publish is a 503 problem, never 202, and is counted', async () => {
    broker.failPublish = true;
    const response = await post('/generate_event', { event_type: 'user_login' });
    assert.equal(response.statusCode, 503);
    assert.equal(response.headers['content-type'], PROBLEM);
    assert.equal(response.json().code, 'AF_PUBLISH_FAILED');
    const text = await metricsText(generator);
    assert.equal(sample(text, 'audit_event_generator_published_failure_total'), 1);
    assert.equal(sample(text, 'audit_event_generator_published_success_total'), 0);
  });
});

describe('POST /events', () => {
  test('one event: event_id and timestamp filled when absent, 202 with the ids', async () => {
    const response = await post('/events', validEvent());
    assert.equal(response.statusCode, 202);
    const body = response.json();
    assert.equal(body.accepted, 1);
    assert.equal(body.event_ids.length, 1);
    assert.match(body.event_ids[0], UUID_PATTERN);
    const event = assertAuditEvent(broker.published[0]!.message.body);
    assert.equal(event.event_id, body.event_ids[0]);
    assert.equal(broker.published[0]!.message.messageId, event.event_id);
    assert.equal(event.source_service, 'external-agent', 'the producer keeps its own source_service');
  });

  test('a batch keeps given ids and timestamps and publishes all of them', async () => {
    const given = '4b0a3a58-8b8e-4d35-9c1c-9a0f1f0e5a11';
    const batch = [
      validEvent({ event_id: given, timestamp: '2026-01-02T03:04:05.000Z' }),
      validEvent({ action_result: 'FAILURE' }),
      validEvent({ event_type: 'file_modified', details: { resource: '/etc/shadow' } }),
    ];
    const response = await post('/events', batch);
    assert.equal(response.statusCode, 202);
    const body = response.json();
    assert.equal(body.accepted, 3);
    assert.equal(body.event_ids[0], given);
    assert.deepEqual(
      broker.published.map((p) => p.message.messageId).sort(),
      [...body.event_ids].sort(),
    );
    assert.equal(broker.bodies().find((b) => b['event_id'] === given)!['timestamp'], '2026-01-02T03:04:05.000Z');
  });

  test('one invalid item: 400 with per-item errors and nothing published', async () => {
    const batch = [validEvent(), validEvent({ user_id: undefined }), 'not an object', validEvent({ timestamp: 'soon' })];
    const response = await post('/events', batch);
    assert.equal(response.statusCode, 400);
    assert.equal(response.headers['content-type'], PROBLEM);
    const body = response.json();
    assert.equal(body.code, 'AF_VALIDATION_FAILED');
    const byIndex = (i: number) => body.errors.filter((e: { index: number }) => e.index === i);
    assert.equal(byIndex(0).length, 0);
    assert.match(byIndex(1)[0].message, /user_id/);
    assert.equal(byIndex(2)[0].path, '/');
    assert.equal(byIndex(3)[0].path, '/timestamp');
    for (const error of body.errors) assert.deepEqual(Object.keys(error).sort(), ['index', 'message', 'path']);
    assert.equal(broker.published.length, 0);
  });

  test('duplicate event ids inside one batch are rejected', async () => {
    const id = '4b0a3a58-8b8e-4d35-9c1c-9a0f1f0e5a12';
    const response = await post('/events', [validEvent({ event_id: id }), validEvent({ event_id: id })]);
    assert.equal(response.statusCode, 400);
    assert.deepEqual(response.json().errors.map((e: { index: number }) => e.index), [1]);
  });

  test('an empty batch is 400, more than the limit is 413', async () => {
    assert.equal((await post('/events', [])).statusCode, 400);
    const tooMany = Array.from({ length: MAX_BATCH_EVENTS + 1 }, () => ({ event_type: 'x' }));
    const response = await post('/events', tooMany);
    assert.equal(response.statusCode, 413);
    assert.equal(response.headers['content-type'], PROBLEM);
    assert.equal(broker.published.length, 0);
  });

  test('a full batch of the maximum size is accepted', async () => {
    const batch = Array.from({ length: MAX_BATCH_EVENTS }, () => validEvent());
    const response = await post('/events', batch);
    assert.equal(response.statusCode, 202);
    assert.equal(response.json().accepted, MAX_BATCH_EVENTS);
    assert.equal(broker.published.length, MAX_BATCH_EVENTS);
  });

  test('a failed publish is 503 problem', async () => {
    broker.failPublish = true;
    const response = await post('/events', [validEvent(), validEvent()]);
    assert.equal(response.statusCode, 503);
    assert.equal(response.headers['content-type'], PROBLEM);
    const body = response.json();
    assert.equal(body.code, 'AF_PUBLISH_FAILED');
    assert.equal(body.accepted, 0);
    assert.equal(body.failed_event_ids.length, 2);
  });

  test('415 for a non-JSON content type, 400 for malformed JSON', async () => {
    assert.equal((await post('/events', 'x', { 'content-type': 'text/plain' })).statusCode, 415);
    assert.equal((await post('/events', '[{', { 'content-type': 'application/json' })).statusCode, 400);
  });
});

describe('scenarios API', () => {
  test('GET /scenarios lists every scenario with its expected rules', async () => {
    const response = await generator.app.inject({ method: 'GET', url: '/scenarios' });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(
      response.json().scenarios.map((s: { name: string; expected_rules: string[] }) => [s.name, s.expected_rules]),
      SCENARIOS.map((s) => [s.name, [...s.expectedRules]]),
    );
  });

  test('POST /scenarios/brute-force publishes its events in order and answers 202', async () => {
    const response = await post('/scenarios/brute-force', { user: 'iso_user', host: 'iso-host', ip: '198.51.100.1' });
    assert.equal(response.statusCode, 202);
    const body = response.json();
    assert.equal(body.scenario, 'brute-force');
    assert.deepEqual(body.expected_rules, ['ANLY-SEC-001']);
    assert.equal(body.events.length, 5);
    assert.deepEqual(
      broker.published.map((p) => p.message.messageId),
      body.events,
    );
    for (const event of broker.bodies()) {
      assert.equal(event['scenario'], 'brute-force');
      assert.equal(event['source_service'], SOURCE_SERVICES.scenario);
      assert.equal(event['user_id'], 'iso_user');
    }
    const text = await metricsText(generator);
    assert.equal(sample(text, 'audit_event_generator_scenarios_total', { scenario: 'brute-force' }), 1);
    assert.equal(sample(text, 'audit_event_generator_scenarios_total', { scenario: 'password-spraying' }), 0);
  });

  test('every scenario can be run without a body', async () => {
    for (const scenario of SCENARIOS) {
      const response = await generator.app.inject({ method: 'POST', url: `/scenarios/${scenario.name}` });
      assert.equal(response.statusCode, 202, `${scenario.name}: ${response.body}`);
    }
  });

  test('unknown scenario is a 404 problem', async () => {
    const response = await post('/scenarios/no-such-thing', {});
    assert.equal(response.statusCode, 404);
    assert.equal(response.headers['content-type'], PROBLEM);
    assert.equal(response.json().code, 'AF_UNKNOWN_SCENARIO');
  });

  test('bad options are 400 problems, and nothing is published', async () => {
    const wrongType = await post('/scenarios/brute-force', { user: 5 });
    assert.equal(wrongType.statusCode, 400);
    assert.equal(wrongType.json().code, 'AF_VALIDATION_FAILED');
    const allowlisted = await post('/scenarios/unexpected-sudo', { user: 'devops_admin' });
    assert.equal(allowlisted.statusCode, 400);
    assert.equal(allowlisted.json().code, 'AF_SCENARIO_OPTION_INVALID');
    assert.equal(broker.published.length, 0);
  });

  test('a failed publish is a 503 problem and the run is not counted', async () => {
    broker.failPublish = true;
    const response = await post('/scenarios/audit-service-stopped', {});
    assert.equal(response.statusCode, 503);
    assert.equal(response.json().code, 'AF_PUBLISH_FAILED');
    const text = await metricsText(generator);
    assert.equal(sample(text, 'audit_event_generator_scenarios_total', { scenario: 'audit-service-stopped' }), 0);
  });
});

describe('probes', () => {
  test('/healthz is 200 and asks nothing', async () => {
    const before = broker.checks;
    const response = await generator.app.inject({ method: 'GET', url: '/healthz' });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), { status: 'ok' });
    assert.equal(broker.checks, before);
  });

  test('/readyz asks the broker each time and turns 503 when it is down', async () => {
    const before = broker.checks;
    const ready = await generator.app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(ready.statusCode, 200);
    assert.equal(ready.json().status, 'ready');
    assert.equal(broker.checks, before + 1);
    broker.connected = false;
    const down = await generator.app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(down.statusCode, 503);
    assert.equal(down.json().checks.rabbitmq.ok, false);
  });

  test('unknown routes are 404 problems', async () => {
    const response = await generator.app.inject({ method: 'GET', url: '/nope' });
    assert.equal(response.statusCode, 404);
    assert.equal(response.headers['content-type'], PROBLEM);
  });
});

describe('metrics', () => {
  test('served as text/plain; version=0.0.4 with the documented names', async () => {
    const response = await generator.metricsApp.inject({ method: 'GET', url: '/metrics' });
    assert.equal(response.statusCode, 200);
    assert.equal(response.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
    for (const name of [
      'audit_event_generator_events_total',
      'audit_event_generator_published_success_total',
      'audit_event_generator_published_failure_total',
      'audit_event_generator_rabbitmq_connection_status',
      'audit_event_generator_scenarios_total',
    ]) {
      assert.match(response.body, new RegExp(`# TYPE ${name} `));
    }
    assert.match(response.body, /service="audit-event-generator"/);
  });

  test('label values outside the known sets become "other" (bounded cardinality)', async () => {
    await post('/generate_event', { event_type: 'weird-type-123', server_hostname: 'attacker-host-9', action_result: 'PWNED' });
    await post('/generate_event', { event_type: 'user_login', server_hostname: 'prod-db-02', action_result: 'FAILURE' });
    const text = await metricsText(generator);
    assert.equal(
      sample(text, 'audit_event_generator_events_total', { event_type: 'other', server_hostname: 'other', action_result: 'other' }),
      1,
    );
    assert.equal(
      sample(text, 'audit_event_generator_events_total', {
        event_type: 'user_login',
        server_hostname: 'prod-db-02',
        action_result: 'FAILURE',
      }),
      1,
    );
    assert.doesNotMatch(text, /weird-type-123|attacker-host-9|PWNED/);
    assert.equal(sample(text, 'audit_event_generator_published_success_total'), 2);
  });

  test('the connection gauge follows the broker', async () => {
    assert.equal(sample(await metricsText(generator), 'audit_event_generator_rabbitmq_connection_status'), 1);
    broker.setConnected(false);
    assert.equal(sample(await metricsText(generator), 'audit_event_generator_rabbitmq_connection_status'), 0);
    broker.setConnected(true);
    assert.equal(sample(await metricsText(generator), 'audit_event_generator_rabbitmq_connection_status'), 1);
  });

  test('each generator instance has its own registry', async () => {
    const other = await startTestGenerator(new FakeBroker());
    try {
      await post('/generate_event', { event_type: 'user_login' });
      assert.equal(sample(await metricsText(other), 'audit_event_generator_published_success_total'), 0);
      assert.equal(sample(await metricsText(generator), 'audit_event_generator_published_success_total'), 1);
    } finally {
      await other.stop();
    }
  });
});
