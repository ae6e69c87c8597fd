// Every service target of the root Dockerfile, built by a real engine (Debian's docker.io)
// on a Debian bookworm base made with debootstrap plus this repository's Node 24
// (scripts/build-base-image.sh; the Dockerfile's pinned digest stays the default base).
// Each image is inspected, its content listed from inside, and it is started the way the
// cluster starts it: read-only root filesystem, the image's own numeric non-root user, no
// capabilities, a tmpfs at /tmp. It must answer /healthz, become ready against the real
// RabbitMQ, Redis and PostgreSQL, pass its own HEALTHCHECK and exit 0 on SIGTERM.
// Where no engine can start, the suite says so and skips; CI (root) always has one.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { type BuildResult, buildAllServiceImages, docker, ensureEngine, inspectImage, SERVICE_IMAGES, type ServiceImage } from '../support/container-engine.ts';
import { freePort } from '../support/processes.ts';

interface ServiceSpec {
  portEnv: string;
  defaultPort: number;
  metricsEnv?: string;
  metricsDefault?: number;
}

const SPECS: Record<ServiceImage, ServiceSpec> = {
  'audit-event-generator': { portEnv: 'APP_PORT', defaultPort: 5000, metricsEnv: 'PROMETHEUS_PORT', metricsDefault: 8000 },
  'audit-log-analysis': { portEnv: 'APP_PORT', defaultPort: 5001, metricsEnv: 'PROMETHEUS_PORT', metricsDefault: 8001 },
  'notification-service': { portEnv: 'API_PORT', defaultPort: 8000 },
  'event-audit-dashboard': { portEnv: 'APP_PORT', defaultPort: 8080 },
  'audit-ingest': { portEnv: 'APP_PORT', defaultPort: 5002, metricsEnv: 'PROMETHEUS_PORT', metricsDefault: 8002 },
};

const RABBITMQ_URL = process.env['TEST_RABBITMQ_URL'] ?? 'amqp://guest:guest@127.0.0.1:5672';
const REDIS_URL = process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const DATABASE_URL = process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const runId = randomUUID().slice(0, 8);

let skipReason: string | undefined;
let images = new Map<ServiceImage, BuildResult>();

before(async () => {
  skipReason = await ensureEngine();
  if (skipReason === undefined) images = await buildAllServiceImages();
});

/** Lists, from inside the image as its own user, what it ships. */
const CONTENT_PROBE = `
const fs = require('node:fs'); const path = require('node:path');
const walk = (d, out = []) => { for (const e of fs.readdirSync(d, { withFileTypes: true })) { const f = path.join(d, e.name); if (e.isDirectory()) { if (e.name !== 'node_modules') walk(f, out); } else out.push(f); } return out; };
// The workspaces' own files; what dependencies ship in node_modules is theirs.
const app = walk('/app/src');
const nm = (p) => fs.existsSync(path.join('/app/node_modules', p));
let writable = false; try { fs.writeFileSync('/app/probe', 'x'); writable = true; } catch {}
console.log(JSON.stringify({
  main: fs.existsSync(path.join(process.cwd(), 'dist/main.js')),
  commonDist: fs.existsSync('/app/node_modules/@auditflow/common/dist/index.js'),
  commonLink: fs.lstatSync('/app/node_modules/@auditflow/common').isSymbolicLink(),
  sources: app.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')),
  tests: app.filter((f) => /\\/test\\//.test(f) || f.endsWith('.test.js')),
  devDeps: ['typescript', '@biomejs/biome', '@types/node', 'fast-check', 'playwright-core', 'node'].filter(nm),
  uid: process.getuid(), gid: process.getgid(), writable, node: process.version,
}));`;

describe('service images built by a real engine', { concurrency: false }, () => {
  for (const service of SERVICE_IMAGES) {
    test(`${service}: a lean, non-root, production-only image`, async (t) => {
      if (skipReason) return t.skip(skipReason);
      const built = images.get(service);
      assert.ok(built, `${service} was not built`);
      const spec = SPECS[service];
      const facts = await inspectImage(built.ref);
      t.diagnostic(`${service}: image ${(facts.size / 1e6).toFixed(1)} MB (${built.ref}, build ${built.seconds.toFixed(0)} s)`);
      assert.match(facts.user, /^[1-9][0-9]*:[1-9][0-9]*$/, 'USER must be a numeric, non-root uid:gid');
      assert.equal(facts.workingDir, `/app/src/${service}`);
      assert.equal(facts.env['NODE_ENV'], 'production');
      assert.equal(facts.env[spec.portEnv], String(spec.defaultPort));
      assert.ok(facts.exposed.includes(`${spec.defaultPort}/tcp`), `EXPOSE ${spec.defaultPort}`);
      if (spec.metricsEnv) {
        assert.equal(facts.env[spec.metricsEnv], String(spec.metricsDefault));
        assert.ok(facts.exposed.includes(`${spec.metricsDefault}/tcp`));
      }
      assert.deepEqual([...facts.entrypoint, ...facts.cmd], ['node', 'dist/main.js'], 'node is PID 1, no shell or npm in between');
      assert.ok(facts.healthcheck, 'HEALTHCHECK');

      const content = JSON.parse(await docker(['run', '--rm', '--read-only', '--network', 'none', '--entrypoint', 'node', built.ref, '-e', CONTENT_PROBE])) as Record<string, unknown>;
      assert.equal(content['main'], true, 'dist/main.js is built');
      assert.equal(content['commonDist'], true, '@auditflow/common resolves to its dist/ in the image');
      assert.equal(content['commonLink'], true, 'workspace packages stay symlinks into /app/src');
      assert.deepEqual(content['sources'], [], 'TypeScript sources must not ship');
      assert.deepEqual(content['tests'], [], 'tests must not ship');
      assert.deepEqual(content['devDeps'], [], 'devDependencies must not ship');
      assert.equal(content['writable'], false, 'the application is read-only to its user');
      assert.equal(`${content['uid']}:${content['gid']}`, facts.user);
      assert.match(String(content['node']), /^v24\./);
      // The slim base is about 200 MB unpacked; the application adds its production dependencies.
      assert.ok(facts.size < 400e6, `${service} image is ${facts.size} bytes, budget 400 MB`);
    });
  }

  test('every image starts read-only as its own non-root user, becomes healthy and ready, passes its HEALTHCHECK and drains on SIGTERM', async (t) => {
    if (skipReason) return t.skip(skipReason);
    const { default: pg } = await import('pg');
    const { Connection } = await import('rabbitmq-client');
    const { Redis } = await import('ioredis');
    const eventsQueue = `images-${runId}.audit_events`;
    const alertsQueue = `images-${runId}.audit_alerts`;
    const keyPrefix = `af-images-${runId}:`;
    const schema = `images_${runId.replace(/-/g, '')}`;
    const dbUrl = new URL(DATABASE_URL);
    dbUrl.searchParams.set('options', `-c search_path=${schema}`);
    const admin = new pg.Client({ connectionString: DATABASE_URL });
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    const containers: string[] = [];
    try {
      const ports = new Map<ServiceImage, number>();
      for (const service of SERVICE_IMAGES) ports.set(service, await freePort());
      const perService: Record<ServiceImage, Record<string, string>> = {
        'audit-event-generator': { EVENTS_PER_SECOND: '0', SCENARIO_INTERVAL_SECONDS: '0' },
        'audit-log-analysis': { REDIS_URL, REDIS_KEY_PREFIX: keyPrefix },
        'notification-service': { DATABASE_URL: dbUrl.toString(), API_HOST: '0.0.0.0' },
        'event-audit-dashboard': { NOTIFICATION_SERVICE_URL: `http://127.0.0.1:${ports.get('notification-service')}` },
        'audit-ingest': { INGEST_TOKENS: `images-${runId}-token-0123456789abcdef`, SYSLOG_PORT: String(await freePort()) },
      };
      for (const service of SERVICE_IMAGES) {
        const spec = SPECS[service];
        const env: Record<string, string> = {
          LOG_LEVEL: 'warn',
          ENVIRONMENT: 'image-test',
          SHUTDOWN_TIMEOUT_MS: '10000',
          RABBITMQ_URL,
          RABBITMQ_QUEUE: eventsQueue,
          RABBITMQ_ALERT_QUEUE: alertsQueue,
          ...perService[service],
          [spec.portEnv]: String(ports.get(service)),
        };
        if (spec.metricsEnv) env[spec.metricsEnv] = String(await freePort());
        const name = `af-image-${runId}-${service}`;
        const args = ['run', '--detach', '--name', name, '--read-only', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges', '--tmpfs', '/tmp:size=64m', '--network', 'host'];
        for (const key of Object.keys(env)) args.push('--env', key);
        await docker([...args, images.get(service)!.ref], { env: { ...process.env, ...env } });
        containers.push(name);
      }
      for (const service of SERVICE_IMAGES) {
        const name = `af-image-${runId}-${service}`;
        for (const path of ['/healthz', '/readyz']) {
          const body = await waitFor(`http://127.0.0.1:${ports.get(service)}${path}`, 60_000, name);
          assert.match(body, path === '/healthz' ? /"status":"ok"/ : /"status":"ready"/, `${service} ${path}`);
        }
        const user = JSON.parse(await docker(['inspect', '--format', '{{json .Config.User}}', name])) as string;
        const top = await docker(['exec', name, 'node', '-e', 'console.log(process.getuid(), process.pid)']);
        assert.match(top.trim(), /^[1-9]\d* \d+$/, `${service} runs as a non-root uid`);
        const healthcheck = (await inspectImage(images.get(service)!.ref)).healthcheck ?? [];
        assert.equal(healthcheck[0], 'CMD');
        await docker(['exec', name, ...healthcheck.slice(1)]);
        t.diagnostic(`${service}: healthy, ready and HEALTHCHECK passes as uid ${top.trim().split(' ')[0]} (image USER ${user || 'unset'})`);
      }
      for (const name of [...containers].reverse()) {
        await docker(['stop', '--time', '20', name]);
        const state = JSON.parse(await docker(['inspect', '--format', '{{json .State}}', name])) as { ExitCode: number; OOMKilled: boolean };
        const logs = await docker(['logs', '--tail', '40', name]).catch(() => '');
        assert.equal(state.ExitCode, 0, `${name} exit code after SIGTERM:\n${logs}`);
      }
    } finally {
      for (const name of containers) await docker(['rm', '--force', name]).catch(() => {});
      const conn = new Connection(RABBITMQ_URL);
      conn.on('error', () => {});
      for (const queue of [eventsQueue, alertsQueue, `${eventsQueue}.dlq`, `${alertsQueue}.dlq`]) await conn.queueDelete({ queue }).catch(() => undefined);
      await conn.close();
      const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
      await redis.connect();
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 500);
        if (keys.length > 0) await redis.del(...keys);
        cursor = next;
      } while (cursor !== '0');
      redis.disconnect();
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    }
  });
});

after(() => {});

async function waitFor(url: string, deadlineMs: number, container: string): Promise<string> {
  const until = Date.now() + deadlineMs;
  let last = 'no answer';
  while (Date.now() < until) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      const body = await res.text();
      if (res.status === 200) return body;
      last = `${res.status} ${body}`;
    } catch (error) {
      last = String(error);
    }
    const running = (await docker(['inspect', '--format', '{{.State.Running}}', container]).catch(() => 'false')).trim();
    if (running !== 'true') break;
    await new Promise((r) => setTimeout(r, 300));
  }
  const logs = await docker(['logs', '--tail', '60', container]).catch((e: Error) => e.message);
  throw new Error(`${url} did not answer 200 within ${deadlineMs} ms (last: ${last}); ${container} logs:\n${logs}`);
}
