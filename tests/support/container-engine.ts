// The real container engine (Debian's docker.io) and the service images built by it from the
// root Dockerfile, shared by the delivery and release tests. Images are built once per
// checkout and reused: the builds take a file lock, and BuildKit's cache makes a rebuild of
// unchanged sources a matter of seconds, so several test files of one run share the work.
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './processes.ts';

const run = promisify(execFile);

/** Debian's client matches Debian's engine; a newer client elsewhere on PATH may want buildx. */
export const DOCKER = process.env['DOCKER_BIN'] ?? '/usr/bin/docker';

export const SERVICE_IMAGES = ['audit-event-generator', 'audit-log-analysis', 'notification-service', 'event-audit-dashboard', 'audit-ingest'] as const;
export type ServiceImage = (typeof SERVICE_IMAGES)[number];

export async function docker(args: string[], options: { input?: string; timeout?: number; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(DOCKER, args, { env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const timer = options.timeout ? setTimeout(() => child.kill('SIGKILL'), options.timeout) : undefined;
    child.on('error', reject);
    child.on('close', (code) => {
      if (timer) clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`docker ${args.slice(0, 3).join(' ')} exited ${code}: ${(err || out).slice(-4000)}`));
    });
    child.stdin.end(options.input ?? '');
  });
}

let engine: Promise<string | undefined> | undefined;

/**
 * Starts the engine when it is not running (scripts/ensure-docker.sh). Resolves to
 * undefined when it answers, or to the reason it cannot run here (the caller skips).
 */
export function ensureEngine(): Promise<string | undefined> {
  engine ??= run('bash', [join(REPO_ROOT, 'scripts', 'ensure-docker.sh')], { timeout: 180_000 }).then(
    () => undefined,
    (error: { stderr?: string; message: string }) => `no container engine: ${(error.stderr || error.message).trim()}`,
  );
  return engine;
}

/** The local stand-in of the pinned Node 24 bookworm base (debootstrap + the repository's Node). */
export async function baseImage(arch: 'amd64' | 'arm64' = 'amd64'): Promise<string> {
  const { stdout } = await run('bash', [join(REPO_ROOT, 'scripts', 'build-base-image.sh'), arch], {
    timeout: 1_200_000,
    env: { ...process.env, PATH: `${join(REPO_ROOT, 'node_modules', '.bin')}:${process.env['PATH'] ?? ''}` },
  });
  return stdout.trim().split('\n').at(-1) ?? '';
}

/** Per checkout, so engineers sharing one engine never overwrite each other's images. */
const checkoutTag = createHash('sha256').update(REPO_ROOT).digest('hex').slice(0, 10);

export function imageRef(service: ServiceImage): string {
  return `auditflow-local/${service}:${checkoutTag}`;
}

export interface BuildResult {
  ref: string;
  seconds: number;
}

/**
 * `docker build --target <service>` of the root Dockerfile with SERVICE and NODE_IMAGE as
 * build arguments. The only change to the file is its `# syntax=` line: that frontend is an
 * image on Docker Hub, which this network cannot reach, so the engine's built-in Dockerfile
 * frontend parses it instead.
 */
export async function buildServiceImage(service: ServiceImage, base: string): Promise<BuildResult> {
  const dockerfile = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8').replace(/^# syntax=.*\n/m, '');
  const lockDir = join(REPO_ROOT, '.tools');
  mkdirSync(lockDir, { recursive: true });
  const started = Date.now();
  const args = ['build', '--quiet', '-f', '-', '--target', service, '--build-arg', `SERVICE=${service}`, '--build-arg', `NODE_IMAGE=${base}`, '-t', imageRef(service), REPO_ROOT];
  await new Promise<void>((resolve, reject) => {
    // flock serialises builds of this checkout across concurrently running test files.
    const child = spawn('flock', [join(lockDir, 'image-build.lock'), DOCKER, ...args], { env: { ...process.env, DOCKER_BUILDKIT: '1' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let log = '';
    child.stdout.on('data', (d: Buffer) => {
      log += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      log += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`docker build --target ${service} exited ${code}:\n${log.slice(-6000)}`))));
    child.stdin.end(dockerfile);
  });
  return { ref: imageRef(service), seconds: (Date.now() - started) / 1000 };
}

let built: Promise<Map<ServiceImage, BuildResult>> | undefined;

/** Every service image, built once per test process (and cached by the engine across processes). */
export function buildAllServiceImages(): Promise<Map<ServiceImage, BuildResult>> {
  built ??= (async () => {
    const base = await baseImage();
    const results = new Map<ServiceImage, BuildResult>();
    for (const service of SERVICE_IMAGES) results.set(service, await buildServiceImage(service, base));
    return results;
  })();
  return built;
}

export interface ImageFacts {
  size: number;
  user: string;
  workingDir: string;
  env: Record<string, string>;
  entrypoint: string[];
  cmd: string[];
  exposed: string[];
  healthcheck: string[] | undefined;
}

export async function inspectImage(ref: string): Promise<ImageFacts> {
  const [info] = JSON.parse(await docker(['image', 'inspect', ref])) as {
    Size: number;
    Config: { User: string; WorkingDir: string; Env: string[] | null; Entrypoint: string[] | null; Cmd: string[] | null; ExposedPorts?: Record<string, unknown>; Healthcheck?: { Test: string[] } };
  }[];
  if (!info) throw new Error(`no image ${ref}`);
  const c = info.Config;
  return {
    size: info.Size,
    user: c.User,
    workingDir: c.WorkingDir,
    env: Object.fromEntries((c.Env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)])),
    entrypoint: c.Entrypoint ?? [],
    cmd: c.Cmd ?? [],
    exposed: Object.keys(c.ExposedPorts ?? {}),
    healthcheck: c.Healthcheck?.Test,
  };
}

/**
 * An image with a POSIX shell, curl and od for the charts' helm test pods, whose own image
 * (curlimages/curl) lives on Docker Hub: Debian's curl on the same local base, from apt.
 */
export async function curlImage(base: string): Promise<string> {
  const ref = `auditflow-local/curl:${checkoutTag}`;
  const dockerfile = `FROM ${base}\nRUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends curl >/dev/null && rm -rf /var/lib/apt/lists/*\n`;
  await docker(['image', 'inspect', ref]).catch(async () => {
    await docker(['build', '--quiet', '-t', ref, '-'], { input: dockerfile, timeout: 600_000, env: { ...process.env, DOCKER_BUILDKIT: '1' } });
  });
  return ref;
}
