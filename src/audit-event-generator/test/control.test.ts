import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeBroker } from './fake-broker.ts';
import { startTestGenerator } from './helpers.ts';

const TOKEN = 'generator-control-token-0123456789';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('the demo stream is synthetic, and pauses and resumes only for a token with the scope generator:control', async () => {
  const broker = new FakeBroker();
  const generator = await startTestGenerator(broker, { EVENTS_PER_SECOND: '50', GENERATOR_CONTROL_TOKENS: TOKEN });
  try {
    await sleep(400);
    assert.ok(broker.published.length > 0, 'the stream runs');
    const body = broker.bodies()[0]!;
    assert.deepEqual(body.source, { kind: 'synthetic', host: 'audit-event-generator', program: 'loop' });

    const status = await generator.app.inject({ url: '/generator/status' });
    assert.equal(status.json().running, true);
    assert.equal((await generator.app.inject({ method: 'POST', url: '/generator/pause' })).statusCode, 401);
    const wrong = await generator.app.inject({ method: 'POST', url: '/generator/pause', headers: { authorization: 'Bearer not-the-token-at-all' } });
    assert.equal(wrong.statusCode, 403);
    assert.equal(wrong.json().code, 'AF_FORBIDDEN');
    assert.equal(generator.demo.paused, false);

    const paused = await generator.app.inject({ method: 'POST', url: '/generator/pause', headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(paused.statusCode, 200);
    assert.equal(paused.json().running, false);
    assert.equal(paused.json().reason, 'operator');
    await sleep(200);
    const before = broker.published.length;
    await sleep(1500);
    assert.equal(broker.published.length, before, 'nothing is published while paused');

    const resumed = await generator.app.inject({ method: 'POST', url: '/generator/resume', headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(resumed.json().running, true);
    await sleep(1500);
    assert.ok(broker.published.length > before, 'the stream runs again');
  } finally {
    await generator.stop();
  }
});
