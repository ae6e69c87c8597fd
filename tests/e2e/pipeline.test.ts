import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { launchBrowser, SCREENSHOT_DIR } from '../support/browser.ts';
import { createTestDatabase } from '../support/databases.ts';
import { freePort, type RunningProcess, startService, waitForHttp } from '../support/processes.ts';
import { deleteQueues, RABBITMQ_URL, REDIS_URL } from '../../src/common/test/support.ts';
import { TEST_PASSWORD, TEST_USER, USERS_FILE } from '../../src/event-audit-dashboard/test/support/login.ts';

/**
 * The whole pipeline as it runs in the cluster: four processes started from
 * their entry points, talking through the machine's real RabbitMQ, Redis and
 * PostgreSQL. A generator scenario must come out as an alert in the
 * notification API and on the dashboard page.
 */
const run = randomUUID().slice(0, 8);
const eventsQueue = `test-e2e-events-${run}`;
const alertsQueue = `test-e2e-alerts-${run}`;
const redisPrefix = `test-e2e-${run}:`;
const token = randomUUID();
const processes: RunningProcess[] = [];
let database: { url: string; drop: () => Promise<void> };
const ports: Record<string, number> = {};

before(async () => {
  database = await createTestDatabase(`test_e2e_${run}`);
  for (const name of ['generator', 'generatorMetrics', 'analysis', 'analysisMetrics', 'notification', 'dashboard']) {
    ports[name] = await freePort();
  }
  const common = { RABBITMQ_URL, LOG_LEVEL: 'info', ENVIRONMENT: 'e2e' };
  processes.push(
    startService('notification-service', {
      ...common,
      RABBITMQ_ALERT_QUEUE: alertsQueue,
      DATABASE_URL: database.url,
      API_HOST: '127.0.0.1',
      API_PORT: String(ports['notification']),
      API_TOKENS: token,
    }),
    startService('audit-log-analysis', {
      ...common,
      RABBITMQ_QUEUE: eventsQueue,
      RABBITMQ_ALERT_QUEUE: alertsQueue,
      REDIS_URL,
      REDIS_KEY_PREFIX: redisPrefix,
      APP_PORT: String(ports['analysis']),
      PROMETHEUS_PORT: String(ports['analysisMetrics']),
    }),
    startService('event-audit-dashboard', {
      ...common,
      APP_PORT: String(ports['dashboard']),
      NOTIFICATION_SERVICE_HOST: '127.0.0.1',
      NOTIFICATION_SERVICE_PORT: String(ports['notification']),
      NOTIFICATION_API_TOKEN: token,
      DASHBOARD_USERS_FILE: USERS_FILE,
    }),
    startService('audit-event-generator', {
      ...common,
      RABBITMQ_QUEUE: eventsQueue,
      APP_PORT: String(ports['generator']),
      PROMETHEUS_PORT: String(ports['generatorMetrics']),
      EVENTS_PER_SECOND: '0',
      SCENARIO_INTERVAL_SECONDS: '0',
    }),
  );
  const ready = (port: number | undefined) => waitForHttp(`http://127.0.0.1:${port}/readyz`, 60_000);
  try {
    await Promise.all([ready(ports['notification']), ready(ports['analysis']), ready(ports['dashboard']), ready(ports['generator'])]);
  } catch (error) {
    for (const p of processes) console.error(p.output().slice(-3000));
    throw error;
  }
});

after(async () => {
  const codes = await Promise.all(processes.map((p) => p.stop('SIGTERM')));
  await deleteQueues([eventsQueue, alertsQueue]);
  await database?.drop();
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`${redisPrefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
  assert.deepEqual(codes, [0, 0, 0, 0], 'every service drains and exits 0 on SIGTERM');
});

test('a brute-force scenario becomes one alert in the API and on the dashboard, carrying the event id as correlation id', async () => {
  const user = `e2e_user_${run}`;
  const response = await fetch(`http://127.0.0.1:${ports['generator']}/scenarios/brute-force`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user, host: 'e2e-host-01' }),
  });
  assert.equal(response.status, 202);
  const scenario = (await response.json()) as { events: string[]; expected_rules: string[] };
  assert.deepEqual(scenario.expected_rules, ['ANLY-SEC-001']);

  const api = `http://127.0.0.1:${ports['notification']}`;
  let alerts: { alert_id: string; rule_id: string; actor_id: string; correlation_id: string; count: number }[] = [];
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    alerts = (await (await fetch(`${api}/alerts?user=${user}`)).json()) as typeof alerts;
    if (alerts.length > 0 && alerts[0]!.count >= 3) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  assert.equal(alerts.length, 1, 'one alert for the burst, repeats folded into it');
  const [alert] = alerts;
  assert.equal(alert!.rule_id, 'ANLY-SEC-001');
  assert.equal(alert!.actor_id, user);
  assert.ok(scenario.events.includes(alert!.correlation_id), 'the correlation id is one of the scenario event ids');

  const browser = await launchBrowser();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`http://127.0.0.1:${ports['dashboard']}/`);
    // The dashboard asks who you are first (docs/dashboard.md, "Logging in").
    await page.getByLabel('User name').fill(TEST_USER);
    await page.getByLabel('Password').fill(TEST_PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByText(user).filter({ visible: true }).first().waitFor({ timeout: 15_000 });
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'e2e-pipeline-dashboard.png'), fullPage: true });
    await page.goto(`http://127.0.0.1:${ports['dashboard']}/alert/${alert!.alert_id}`);
    await page.getByText('Multiple Failed Login Attempts').first().waitFor({ timeout: 10_000 });
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'e2e-pipeline-detail.png'), fullPage: true });
  } finally {
    await browser.close();
  }
});
