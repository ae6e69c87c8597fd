// Proves each service image would work, without a container engine: the Dockerfile's stages
// are replayed step by step (lib/replay.ts), then the final stage is started exactly as the
// container would start it (ENTRYPOINT + CMD in its WORKDIR with its ENV, as its numeric USER
// when the test runs as root) on a root filesystem with every write bit removed. The services
// must answer /healthz, become ready against real RabbitMQ, Redis and PostgreSQL, pass their own
// HEALTHCHECK, leave the root filesystem untouched and exit 0 after SIGTERM.

import assert from 'node:assert/strict';
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseDockerfile } from './lib/dockerfile.ts';
import { type BuiltImage, replayDockerfile, snapshotTree, treeSize } from './lib/replay.ts';
import { freePort } from '../support/processes.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
// The test runs under the repository's Node 24; that binary stands in for the base image's.
const nodeBin = process.execPath;

interface ServiceSpec {
  name: string;
  /** Env var that sets the HTTP port answering /healthz. */
  portEnv: string;
  /** The port the contract (docs/configuration.md) fixes as the default. */
  defaultPort: number;
  /** Separate metrics port variable, where the service has one. */
  metricsEnv?: string;
  metricsDefault?: number;
}

const SERVICES: ServiceSpec[] = [
  { name: 'audit-event-generator', portEnv: 'APP_PORT', defaultPort: 5000, metricsEnv: 'PROMETHEUS_PORT', metricsDefault: 8000 },
  { name: 'audit-log-analysis', portEnv: 'APP_PORT', defaultPort: 5001, metricsEnv: 'PROMETHEUS_PORT', metricsDefault: 8001 },
  { name: 'notification-service', portEnv: 'API_PORT', defaultPort: 8000 },
  { name: 'event-audit-dashboard', portEnv: 'APP_PORT', defaultPort: 8080 },
];

const RABBITMQ_URL = process.env.TEST_RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SHUTDOWN_TIMEOUT_MS = 10_000;

const runId = randomUUID().slice(0, 8);
const images = new Map<string, BuiltImage>();
let workDir = '';

/** The directory of the npm this machine uses (it runs under the Node found first on PATH). */
function npmDir(): string[] {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir !== '' && existsSync(path.join(dir, 'npm'))) return [dir];
  }
  return [];
}

function hostPath(rootfs: string, containerPath: string): string {
  return path.join(rootfs, path.posix.normalize(containerPath));
}


async function chmodTree(dir: string, writable: boolean): Promise<void> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    if (e.isSymbolicLink()) continue;
    if (e.isDirectory()) await chmodTree(full, writable);
    const mode = (await stat(full)).mode & 0o7777;
    await chmod(full, writable ? mode | 0o200 : mode & ~0o222);
  }
  const mode = (await stat(dir)).mode & 0o7777;
  await chmod(dir, writable ? mode | 0o200 : mode & ~0o222);
}

async function findFiles(dir: string, pred: (rel: string) => boolean, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(path.join(dir, rel), { withFileTypes: true })) {
    const child = rel === '' ? e.name : `${rel}/${e.name}`;
    if (e.isDirectory()) out.push(...(await findFiles(dir, pred, child)));
    else if (pred(child)) out.push(child);
  }
  return out;
}

async function waitFor(url: string, deadlineMs: number, proc: RunningService): Promise<{ status: number; body: string }> {
  const until = Date.now() + deadlineMs;
  let last = 'no answer';
  while (Date.now() < until) {
    if (proc.child.exitCode !== null) {
      throw new Error(`${proc.name} exited with ${proc.child.exitCode} before ${url} answered:\n${proc.output.slice(-4000)}`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      const body = await res.text();
      if (res.status === 200) return { status: res.status, body };
      last = `${res.status} ${body}`;
    } catch (err) {
      last = String(err);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not answer 200 within ${deadlineMs} ms (last: ${last}):\n${proc.output.slice(-4000)}`);
}

interface RunningService {
  name: string;
  child: ChildProcess;
  output: string;
  port: number;
  env: Record<string, string>;
  image: BuiltImage;
}

function startImage(name: string, image: BuiltImage, extraEnv: Record<string, string>, tmpDir: string): RunningService {
  const argv = [...image.entrypoint, ...image.cmd];
  assert.equal(argv[0], 'node', `${name}: node must be PID 1 (no shell or npm in between), got ${argv.join(' ')}`);
  const env: Record<string, string> = {
    ...Object.fromEntries(image.env),
    // What Docker sets for the base image's uid 1000 ("node"); it sits on the read-only root.
    HOME: hostPath(image.rootfs, '/home/node'),
    PATH: `${path.dirname(nodeBin)}:/usr/local/bin:/usr/bin:/bin`,
    HOSTNAME: `${name}-${runId}`,
    // The only writable place, as the emptyDir at /tmp is in the cluster.
    TMPDIR: tmpDir,
    ...extraEnv,
  };
  const options: SpawnOptions = {
    cwd: hostPath(image.rootfs, image.workdir),
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  };
  if (process.getuid?.() === 0) {
    const [uid, gid] = (image.user ?? '').split(':').map(Number);
    options.uid = uid;
    options.gid = gid ?? uid;
  }
  const child = spawn(nodeBin, argv.slice(1), options);
  const running: RunningService = { name, child, output: '', port: Number(env[specOf(name).portEnv]), env, image };
  child.stdout?.on('data', (d: Buffer) => {
    running.output += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    running.output += d.toString();
  });
  return running;
}

function specOf(name: string): ServiceSpec {
  const spec = SERVICES.find((s) => s.name === name);
  assert.ok(spec, name);
  return spec;
}

async function stopGracefully(svc: RunningService): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (svc.child.exitCode !== null) return { code: svc.child.exitCode, signal: null };
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    svc.child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  svc.child.kill(svc.image.stopSignal === undefined ? 'SIGTERM' : (svc.image.stopSignal as NodeJS.Signals));
  const timer = setTimeout(() => svc.child.kill('SIGKILL'), SHUTDOWN_TIMEOUT_MS + 5000);
  try {
    return await exited;
  } finally {
    clearTimeout(timer);
  }
}

before(async () => {
  workDir = await mkdtemp(path.join(os.tmpdir(), 'af-image-build-'));
  // The services may run as uid 1000, which must be able to reach the replayed root filesystems.
  await chmod(workDir, 0o755);
});

after(async () => {
  if (workDir === '') return;
  await chmodTree(workDir, true).catch(() => undefined);
  await rm(workDir, { recursive: true, force: true });
});

describe('service images (Dockerfile replay)', { concurrency: false }, () => {
  const layerCache = new Map<string, string>();
  const npmCache = process.env.npm_config_cache ?? path.join(os.homedir(), '.npm');
  // The host's registry, proxy and CA settings stand in for the build machine's network
  // configuration; nothing else of the host environment reaches a RUN step.
  const runEnv: Record<string, string> = { npm_config_userconfig: path.join(os.homedir(), '.npmrc') };
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && /^(npm_config_(?:registry|cafile|ca|strict_ssl|proxy|https_proxy|noproxy|userconfig)|https?_proxy|no_proxy|HTTPS?_PROXY|NO_PROXY|NODE_EXTRA_CA_CERTS|SSL_CERT_FILE|SSL_CERT_DIR)$/.test(k)) runEnv[k] = v;
  }

  for (const spec of SERVICES) {
    test(`${spec.name}: the Dockerfile builds and yields a lean, non-root, production-only image`, { timeout: 600_000 }, async (t) => {
      // One Dockerfile for every service: SERVICE picks the workspace, the target its final stage.
      const dockerfile = path.join(repoRoot, 'Dockerfile');
      // The replay runs the steps with this process's Node, so it must be the base image's major.
      for (const stage of parseDockerfile(await readFile(dockerfile, 'utf8')).stages) {
        const major = /(?:^|\/)node:(\d+)/.exec(stage.from)?.[1];
        if (major !== undefined) assert.equal(major, process.versions.node.split('.')[0], `stage ${stage.name} base ${stage.from}`);
      }
      const image = await replayDockerfile(dockerfile, {
        context: repoRoot,
        workDir,
        toolPath: [path.dirname(nodeBin), ...npmDir()],
        npmCache,
        runEnv,
        layerCache,
        buildArgs: { SERVICE: spec.name },
        target: spec.name,
        log: (line) => t.diagnostic(line),
      });
      images.set(spec.name, image);

      assert.match(image.user ?? '', /^[1-9][0-9]*:[1-9][0-9]*$/, 'USER must be a numeric, non-root uid:gid');
      assert.equal(image.workdir, `/app/src/${spec.name}`);
      assert.equal(image.env.get('NODE_ENV'), 'production');
      assert.equal(image.env.get(spec.portEnv), String(spec.defaultPort), `${spec.portEnv} default`);
      assert.ok(image.exposed.includes(String(spec.defaultPort)), `EXPOSE ${spec.defaultPort}`);
      if (spec.metricsEnv !== undefined) {
        assert.equal(image.env.get(spec.metricsEnv), String(spec.metricsDefault));
        assert.ok(image.exposed.includes(String(spec.metricsDefault)), `EXPOSE ${spec.metricsDefault}`);
      }
      assert.deepEqual([...image.entrypoint, ...image.cmd], ['node', 'dist/main.js']);
      assert.ok(image.healthcheck, 'HEALTHCHECK');

      const appDir = hostPath(image.rootfs, '/app');
      const main = await stat(hostPath(image.rootfs, `${image.workdir}/dist/main.js`)).catch(() => undefined);
      assert.ok(main?.isFile(), `dist/main.js was not built for ${spec.name}`);
      // The workspace link must resolve inside the image, to built JavaScript.
      const common = await stat(path.join(appDir, 'node_modules/@auditflow/common/dist/index.js')).catch(() => undefined);
      assert.ok(common?.isFile(), '@auditflow/common resolves to its dist/ in the image');
      const link = await lstat(path.join(appDir, 'node_modules/@auditflow/common'));
      assert.ok(link.isSymbolicLink(), 'workspace packages stay symlinks into /app/src');

      for (const devOnly of ['typescript', '@biomejs/biome', '@types/node', 'fast-check', 'playwright-core', 'node']) {
        const present = await stat(path.join(appDir, 'node_modules', devOnly)).catch(() => undefined);
        assert.equal(present, undefined, `devDependency ${devOnly} must not ship in the image`);
      }
      const sources = await findFiles(appDir, (f) => /\.ts$/.test(f) && !/\.d\.ts$/.test(f) && !/(^|\/)node_modules\//.test(f));
      assert.deepEqual(sources, [], 'TypeScript sources must not ship in the image');
      const tests = await findFiles(path.join(appDir, 'src'), (f) => /(^|\/)test\//.test(f) || /\.test\.js$/.test(f));
      assert.deepEqual(tests, [], 'tests must not ship in the image');

      const bytes = await treeSize(appDir);
      t.diagnostic(`${spec.name}: application layer ${(bytes / 1024 / 1024).toFixed(1)} MiB on top of the Node base image`);
      // The Node slim base is about 75 MB compressed; this keeps the whole image near 100 MB.
      assert.ok(bytes < 60 * 1024 * 1024, `application layer is ${bytes} bytes, budget 60 MiB`);
    });
  }

  test('built images start on a read-only root, become healthy and ready, and drain on SIGTERM', { timeout: 300_000 }, async (t) => {
    for (const spec of SERVICES) assert.ok(images.has(spec.name), `${spec.name} image was not built`);

    const { Connection } = await import('rabbitmq-client');
    const { default: pg } = await import('pg');
    const { Redis } = await import('ioredis');

    const eventsQueue = `delivery-${runId}.audit_events`;
    const alertsQueue = `delivery-${runId}.audit_alerts`;
    const keyPrefix = `af-delivery-${runId}:`;
    const schema = `delivery_${runId.replace(/-/g, '')}`;
    const dbUrl = new URL(DATABASE_URL);
    dbUrl.searchParams.set('options', `-c search_path=${schema}`);

    const admin = new pg.Client({ connectionString: DATABASE_URL });
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);

    const running: RunningService[] = [];
    try {
      const ports = new Map<string, number>();
      for (const spec of SERVICES) ports.set(spec.name, await freePort());
      const metricsPorts = new Map<string, number>();
      for (const spec of SERVICES) if (spec.metricsEnv) metricsPorts.set(spec.name, await freePort());

      const common: Record<string, string> = {
        LOG_LEVEL: 'warn',
        ENVIRONMENT: 'delivery-test',
        SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
        RABBITMQ_URL,
        RABBITMQ_QUEUE: eventsQueue,
        RABBITMQ_ALERT_QUEUE: alertsQueue,
      };
      const perService: Record<string, Record<string, string>> = {
        // No background traffic: the test only proves the image starts and is wired up.
        'audit-event-generator': { EVENTS_PER_SECOND: '0', SCENARIO_INTERVAL_SECONDS: '0' },
        'audit-log-analysis': { REDIS_URL, REDIS_KEY_PREFIX: keyPrefix },
        'notification-service': { DATABASE_URL: dbUrl.toString(), API_HOST: '0.0.0.0' },
        // The dashboard has no open mode: here an identity proxy on loopback stands for how people log in.
        'event-audit-dashboard': { NOTIFICATION_SERVICE_URL: `http://127.0.0.1:${ports.get('notification-service')}`, DASHBOARD_FORWARD_AUTH_PROXIES: '127.0.0.1' },
      };

      const rootBefore = new Map<string, Map<string, string>>();
      for (const spec of SERVICES) {
        const image = images.get(spec.name)!;
        await mkdir(hostPath(image.rootfs, '/home/node'), { recursive: true });
        await chmodTree(hostPath(image.rootfs, '/'), false);
        rootBefore.set(spec.name, await snapshotTree(image.rootfs));
      }

      for (const spec of SERVICES) {
        const image = images.get(spec.name)!;
        const tmpDir = path.join(workDir, `tmp-${spec.name}`);
        await mkdir(tmpDir, { recursive: true });
        await chmod(tmpDir, 0o1777);
        const env: Record<string, string> = { ...common, ...perService[spec.name], [spec.portEnv]: String(ports.get(spec.name)) };
        if (spec.metricsEnv) env[spec.metricsEnv] = String(metricsPorts.get(spec.name));
        running.push(startImage(spec.name, image, env, tmpDir));
      }

      for (const svc of running) {
        const health = await waitFor(`http://127.0.0.1:${svc.port}/healthz`, 30_000, svc);
        assert.equal(JSON.parse(health.body).status, 'ok', `${svc.name} /healthz body`);
      }
      for (const svc of running) {
        const ready = await waitFor(`http://127.0.0.1:${svc.port}/readyz`, 60_000, svc);
        assert.equal(JSON.parse(ready.body).status, 'ready', `${svc.name} /readyz body`);
        t.diagnostic(`${svc.name}: healthy and ready on ${svc.port}`);
      }

      // The image's own HEALTHCHECK, run the way the engine runs it.
      for (const svc of running) {
        const [cmd, ...args] = svc.image.healthcheck!;
        assert.equal(cmd, 'node');
        const code = await new Promise<number | null>((resolve) => {
          const probe = spawn(nodeBin, args, { env: svc.env, cwd: hostPath(svc.image.rootfs, svc.image.workdir), stdio: 'ignore' });
          probe.on('exit', (c) => resolve(c));
        });
        assert.equal(code, 0, `${svc.name} HEALTHCHECK`);
      }

      // Drain in reverse dependency order, as a rollout would: the dashboard first.
      for (const svc of [...running].reverse()) {
        const started = Date.now();
        const { code, signal } = await stopGracefully(svc);
        assert.equal(signal, null, `${svc.name} was killed by ${signal}:\n${svc.output.slice(-4000)}`);
        assert.equal(code, 0, `${svc.name} exit code after SIGTERM:\n${svc.output.slice(-4000)}`);
        t.diagnostic(`${svc.name}: drained and exited 0 in ${Date.now() - started} ms`);
      }

      for (const spec of SERVICES) {
        const image = images.get(spec.name)!;
        const rootAfter = await snapshotTree(image.rootfs);
        assert.deepEqual(rootAfter, rootBefore.get(spec.name), `${spec.name} wrote to its root filesystem`);
      }
    } finally {
      for (const svc of running) if (svc.child.exitCode === null && svc.child.signalCode === null) svc.child.kill('SIGKILL');
      const conn = new Connection(RABBITMQ_URL);
      conn.on('error', (err) => t.diagnostic(`rabbitmq cleanup: ${String(err)}`));
      try {
        for (const queue of [eventsQueue, alertsQueue, `${eventsQueue}.dlq`, `${alertsQueue}.dlq`]) {
          await conn.queueDelete({ queue }).catch(() => undefined);
        }
      } finally {
        await conn.close();
      }
      const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
      try {
        await redis.connect();
        let cursor = '0';
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 500);
          if (keys.length > 0) await redis.del(...keys);
          cursor = next;
        } while (cursor !== '0');
      } finally {
        redis.disconnect();
      }
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    }
  });
});
