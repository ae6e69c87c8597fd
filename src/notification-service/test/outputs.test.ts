import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { alertLabels } from '../src/delivery/alert-labels.ts';
import { OutputsConfigError, parseOutputsConfig } from '../src/delivery/outputs-config.ts';
import { routeAlert } from '../src/delivery/route-tree.ts';
import { freePort, startService } from '../../../tests/support/processes.ts';
import { makeAlert, postgresDatabase, type TestDatabase, waitFor } from './helpers.ts';
import { HttpReceiver } from './receivers.ts';
import { type Harness, startHarness } from './service-harness.ts';

const FIXTURES = new URL('./fixtures/', import.meta.url).pathname;

function problemsOf(yaml: string, env: Record<string, string> = {}): string[] {
  try {
    parseOutputsConfig(yaml, 'outputs.yaml', env);
  } catch (error) {
    assert.ok(error instanceof OutputsConfigError);
    return error.problems.map((p) => `${p.line}:${p.column} ${p.message}`);
  }
  assert.fail('expected the file to be refused');
}

describe('outputs file validation (file:line:col)', () => {
  test('every problem is located: unknown keys, inline secrets, unset variables, unknown receivers, bad matchers and durations', () => {
    const problems = problemsOf(
      `outputs:
  - name: hook
    type: webhook
    url: https://hooks.example/x
    secret: hunter2
    colour: red
  - name: chat
    type: slack
    url: { env: AF_UNSET_SLACK_URL }
  - name: page
    type: pager
route:
  receiver: nobody
  group_wait: soon
  routes:
    - matchers: ['severity=~(']
    - matchers: [severity]
`,
      {},
    );
    assert.deepEqual(problems, [
      '5:13 `secret` is a secret: write { env: VARIABLE } or { file: /path }, never the value itself',
      '6:5 unknown key `colour` (allowed: name, type, timeout, url, secret)',
      '9:17 environment variable AF_UNSET_SLACK_URL is not set',
      '11:11 unknown output type "pager" (one of alertmanager, webhook, slack, ntfy, smtp, crowdsec)',
      '13:13 no output is named "nobody"',
      '14:15 `group_wait` is a duration such as 500ms, 30s, 5m or 4h',
      "16:18 invalid regular expression: Invalid regular expression: /^(?:()$/u: Unterminated group",
      '17:18 a matcher reads `name=value`, `name!=value`, `name=~regex` or `name!~regex`',
    ]);
  });

  test('YAML syntax errors and a missing route are refused too', () => {
    assert.match(problemsOf('outputs: [\n')[0]!, /^2:1 /);
    assert.deepEqual(problemsOf('outputs:\n  - { name: a, type: ntfy, url: "https://ntfy.sh", topic: t }\n'), [
      '1:1 `route` is required (the default route names the receiver of every alert)',
    ]);
  });

  test('secrets come from the environment or a file; routes inherit and descend like Alertmanager', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'af-secret-'));
    try {
      await writeFile(join(dir, 'token'), 'tk_from_file\n');
      const config = parseOutputsConfig(
        `outputs:
  - { name: hook, type: webhook, url: "https://h.example/a", secret: { env: HOOK_SECRET } }
  - { name: phone, type: ntfy, url: "https://ntfy.example", topic: sre, token: { file: ${dir}/token } }
route:
  receiver: hook
  group_by: [rule_id]
  repeat_interval: 2h
  routes:
    - matchers: ['severity="CRITICAL"']
      receiver: phone
      group_wait: 5s
`,
        'outputs.yaml',
        { HOOK_SECRET: 's3cret' },
      );
      const hook = config.outputs.get('hook');
      const phone = config.outputs.get('phone');
      assert.equal(hook?.type === 'webhook' && hook.secret, 's3cret');
      assert.equal(phone?.type === 'ntfy' && phone.token, 'tk_from_file');
      const [critical] = routeAlert(config.route, alertLabels({ ...recordOf('CRITICAL') }));
      assert.equal(critical?.receiver, 'phone');
      assert.deepEqual([critical!.route.groupBy, critical!.route.groupWaitMs, critical!.route.repeatIntervalMs], [['rule_id'], 5000, 7_200_000]);
      assert.equal(critical!.groupKey, 'route.routes[0]{rule_id="ANLY-SEC-001"}');
      assert.equal(routeAlert(config.route, alertLabels(recordOf('LOW')))[0]?.receiver, 'hook');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('the service refuses a bad outputs file at start-up: exit 78 naming OUTPUTS_FILE with file:line:col', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'af-bad-outputs-'));
    try {
      const file = join(dir, 'outputs.yaml');
      await writeFile(file, 'outputs:\n  - name: hook\n    type: webhook\n    url: https://x.example\n    secret: inline\nroute:\n  receiver: hook\n');
      const service = startService('notification-service', {
        OUTPUTS_FILE: file,
        DATABASE_URL: 'postgres://127.0.0.1:1/none',
        RABBITMQ_URL: 'amqp://127.0.0.1:1',
      });
      assert.equal(await service.stop('SIGCONT', 20_000), 78);
      assert.match(service.output(), /OUTPUTS_FILE/);
      assert.ok(service.output().includes(`${file}:5:13`), service.output());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

function recordOf(severity: string) {
  return {
    alert_id: '00000000-0000-4000-8000-000000000001',
    alert_name: 'x',
    severity,
    rule_id: 'ANLY-SEC-001',
    server_hostname: 'web-1',
    actor_id: 'bob',
    source_service_name: null,
    group_key: null,
  };
}

describe('Slack, ntfy and SMTP outputs against real receivers (PostgreSQL)', () => {
  let db: TestDatabase;
  let dir: string;
  let receiver: HttpReceiver;
  let smtp: { stop(): Promise<void>; port: number; out: string; cert: string };
  let harness: Harness;

  before(async () => {
    db = await postgresDatabase();
    dir = await mkdtemp(join(tmpdir(), 'af-outputs-'));
    receiver = await HttpReceiver.start();
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    const out = join(dir, 'mail');
    await import('node:fs/promises').then((fs) => fs.mkdir(out));
    const port = await freePort();
    const child = spawn('/usr/bin/python3', [join(FIXTURES, 'smtp_receiver.py'), String(port), cert, key, 'mailer', 'mail-pass', out], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve());
      child.once('exit', (code) => reject(new Error(`smtp receiver exited ${code}`)));
    });
    smtp = {
      port,
      out,
      cert,
      stop: async () => {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGINT');
        await exited;
      },
    };
    process.env.AF_TEST_SLACK_URL = `${receiver.url}/hooks/slack-token`;
    process.env.AF_TEST_NTFY_TOKEN = 'tk_ntfy';
    process.env.AF_TEST_SMTP_PASSWORD = 'mail-pass';
    const file = join(dir, 'outputs.yaml');
    await writeFile(
      file,
      `outputs:
  - name: chat
    type: slack
    url: { env: AF_TEST_SLACK_URL }
    link_url: https://dash.example/alerts
  - name: phone
    type: ntfy
    url: ${receiver.url}/ntfy
    topic: sre-pager
    token: { env: AF_TEST_NTFY_TOKEN }
  - name: mail
    type: smtp
    host: 127.0.0.1
    port: ${port}
    security: starttls
    ca_file: ${cert}
    username: mailer
    password: { env: AF_TEST_SMTP_PASSWORD }
    from: auditflow@example.com
    to: [sre@example.com, oncall@example.com]
    timeout: 5s
route:
  receiver: chat
  group_by: [alert_id]
  group_wait: 0s
  routes:
    - { receiver: chat, continue: true }
    - { receiver: phone, continue: true }
    - { receiver: mail }
`,
    );
    harness = await startHarness(db, { env: { OUTPUTS_FILE: file, OUTBOX_POLL_MS: '50' } });
  });

  after(async () => {
    await harness.stop();
    await receiver.down();
    await smtp.stop();
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  });

  test('one alert reaches the Slack webhook, ntfy and the mailbox (STARTTLS + AUTH)', async () => {
    const alert = makeAlert({ severity: 'CRITICAL' });
    await harness.broker.publish(harness.queue, { body: alert, messageId: alert.alert_id });
    const statuses = await waitFor(
      async () => {
        const response = await harness.handle.app.inject({ url: `/alerts/${alert.alert_id}/deliveries` });
        if (response.statusCode !== 200) return undefined;
        const list = (response.json() as { deliveries: { output: string; status: string; last_error: string | null }[] }).deliveries;
        return list.length === 3 && list.every((d) => d.status !== 'pending') ? list : undefined;
      },
      20_000,
      'three deliveries settled',
    );
    assert.deepEqual(
      statuses.map((d) => [d.output, d.status, d.last_error]).sort(),
      [['chat', 'sent', null], ['mail', 'sent', null], ['phone', 'sent', null]],
    );

    const slack = receiver.requests.find((r) => r.path === '/hooks/slack-token');
    assert.ok(slack);
    const slackBody = slack.json as { text: string; attachments: { title: string; title_link: string; color: string; fields: { title: string; value: string }[] }[] };
    assert.match(slackBody.text, /\[CRITICAL\] Multiple Failed Login Attempts on prod-web-01 \(user attacker_bob\)/);
    assert.equal(slackBody.attachments[0]!.title_link, `https://dash.example/alerts/${alert.alert_id}`);
    assert.equal(slackBody.attachments[0]!.color, '#b71c1c');
    assert.deepEqual(slackBody.attachments[0]!.fields.find((f) => f.title === 'Rule')?.value, 'ANLY-SEC-001');

    const ntfy = receiver.requests.find((r) => r.path === '/ntfy/');
    assert.ok(ntfy);
    assert.equal(ntfy.headers.authorization, 'Bearer tk_ntfy');
    const ntfyBody = ntfy.json as { topic: string; title: string; priority: number; tags: string[]; message: string };
    assert.deepEqual([ntfyBody.topic, ntfyBody.priority], ['sre-pager', 5]);
    assert.match(ntfyBody.title, /Multiple Failed Login Attempts/);
    assert.ok(ntfyBody.tags.includes('critical'));

    const files = await waitFor(async () => {
      const names = (await readdir(smtp.out)).filter((name) => name.endsWith('.eml'));
      return names.length > 0 ? names : undefined;
    });
    assert.equal(files.length, 1);
    const mail = await readFile(join(smtp.out, files[0]!), 'utf8');
    assert.match(mail, /X-Test-TLS: True/);
    assert.match(mail, /X-Test-Mail-From: auditflow@example.com/);
    assert.match(mail, /X-Test-Rcpt-To: sre@example.com,oncall@example.com/);
    assert.match(mail, /Subject: \[AuditFlow FIRING\] \[CRITICAL\] Multiple Failed Login Attempts/);
    assert.match(mail, /rule: ANLY-SEC-001/);
  });
});
