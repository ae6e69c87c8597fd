import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { REPO_ROOT, type RunningProcess, track, waitForOutput } from '../support/processes.ts';

/**
 * The README's run command on a clean checkout: `npm install && npm start`
 * with no broker, cache or database configured. The dashboard must show an
 * alert from a scenario within 30 s of start, Ctrl-C must drain and exit 0,
 * and a second start must still list the stored alerts.
 */
let checkout: string;

before(() => {
  checkout = mkdtempSync(join(tmpdir(), 'auditflow-checkout-'));
  // Tracked files plus new ones not ignored: exactly what a clone of this tree would hold.
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: REPO_ROOT })
    .toString()
    .split('\0')
    .filter(Boolean);
  for (const file of files) {
    const target = join(checkout, file);
    mkdirSync(dirname(target), { recursive: true });
    try {
      cpSync(join(REPO_ROOT, file), target);
    } catch {
      // A file deleted in the work tree but still tracked is simply absent from the checkout.
    }
  }
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], {
    cwd: checkout,
    stdio: 'ignore',
    timeout: 600_000,
  });
});

after(() => {
  if (checkout) rmSync(checkout, { recursive: true, force: true });
});

function npmStart(): { process: RunningProcess; started: number } {
  const child = spawn('npm', ['start'], {
    cwd: checkout,
    env: {
      PATH: process.env['PATH'] ?? '',
      HOME: process.env['HOME'] ?? '/root',
      // Ephemeral ports: 8080 may be taken on the test machine.
      DASHBOARD_PORT: '0',
      NOTIFICATION_PORT: '0',
      GENERATOR_PORT: '0',
      GENERATOR_METRICS_PORT: '0',
      ANALYSIS_PORT: '0',
      ANALYSIS_METRICS_PORT: '0',
      INGEST_PORT: '0',
      INGEST_METRICS_PORT: '0',
      SYSLOG_PORT: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  return { process: track(child), started: Date.now() };
}

/** Ctrl-C reaches npm and the node process it started, as it would from a terminal. */
async function interrupt(run: RunningProcess): Promise<number | string> {
  const pid = run.child.pid;
  if (pid === undefined) return 'no pid';
  const exited = new Promise<number | string>((resolve) => run.child.once('exit', (code, signal) => resolve(code ?? signal ?? '?')));
  process.kill(-pid, 'SIGINT');
  const timer = setTimeout(() => process.kill(-pid, 'SIGKILL'), 60_000);
  const code = await exited;
  clearTimeout(timer);
  return code;
}

test('npm start on a clean checkout shows a scenario alert within 30 s, drains on Ctrl-C and keeps alerts across restarts', async () => {
  const first = npmStart();
  let alertIds: string[] = [];
  try {
    const [, dashboardUrl] = await waitForOutput(first.process, /dashboard\s+(http:\/\/\S+)/, 30_000);
    // The first start prints the first admin's password once; the dashboard needs it.
    const [, password] = await waitForOutput(first.process, /dashboard login\s+admin \/ (\S+)/, 5_000);
    const [, apiUrl] = await waitForOutput(first.process, /notification API\s+(http:\/\/\S+)/, 5_000);
    const login = await fetch(`${dashboardUrl}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(dashboardUrl!).origin },
      body: new URLSearchParams({ username: 'admin', password: password!, next: '/' }).toString(),
    });
    assert.equal(login.status, 303, 'the printed first-admin password logs in');
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    let html = '';
    while (Date.now() - first.started < 30_000) {
      const alerts = (await (await fetch(`${apiUrl}/alerts?limit=10`)).json()) as { alert_id: string; alert_name: string }[];
      if (alerts.length > 0) {
        html = await (await fetch(`${dashboardUrl}/`, { headers: { cookie } })).text();
        if (alerts.some((a) => html.includes(a.alert_name))) {
          alertIds = alerts.map((a) => a.alert_id);
          break;
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const elapsed = Date.now() - first.started;
    assert.ok(alertIds.length > 0, `no alert on the dashboard within 30 s of npm start (${elapsed} ms)\n${first.process.output().slice(-3000)}`);
    console.log(`first alert on the dashboard ${elapsed} ms after npm start`);
  } finally {
    await interrupt(first.process);
  }
  // npm itself dies of the SIGINT it shares with its child; what matters is the platform's own drain.
  assert.match(first.process.output(), /"msg":"shutdown complete"/);
  assert.doesNotMatch(first.process.output(), /graceful shutdown timed out|shutdown step failed/);

  const second = npmStart();
  try {
    const [, apiUrl] = await waitForOutput(second.process, /notification API\s+(http:\/\/\S+)/, 30_000);
    const alerts = (await (await fetch(`${apiUrl}/alerts?limit=500`)).json()) as { alert_id: string }[];
    const kept = new Set(alerts.map((a) => a.alert_id));
    for (const id of alertIds) assert.ok(kept.has(id), `alert ${id} was lost across the restart`);
  } finally {
    await interrupt(second.process);
  }
  assert.match(second.process.output(), /"msg":"shutdown complete"/);
});
