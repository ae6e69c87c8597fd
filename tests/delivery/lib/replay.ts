// Replays a Dockerfile's build without a container engine: every stage gets its own directory
// standing in for the container's root filesystem, COPY copies from the .dockerignore-filtered
// context or from an earlier stage, and RUN executes the shell command there with the stage's
// ENV. The base image's Node is the Node that runs this test (the test checks that both are
// the same major version). Like BuildKit, finished RUN layers are cached by a digest of every
// input that led to them, so identical builder stages across services run once.

import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { createHash } from 'node:crypto';
import { cp, lstat, mkdir, readdir, readFile, readlink, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { execForm, keyValues, parseDockerfile, parseMount, splitFlags, substitute } from './dockerfile.ts';
import { isIgnored, parseDockerignore } from './dockerignore.ts';

export interface ReplayOptions {
  /** Repository root, the build context. */
  context: string;
  /** Scratch directory owned by the caller. */
  workDir: string;
  /** PATH directories whose `node` and `npm` stand in for the base image's, node's first. */
  toolPath: string[];
  /** Host directory that `--mount=type=cache,target=/root/.npm` maps to. */
  npmCache: string;
  /** Extra environment for RUN steps (registry settings of the host). */
  runEnv?: Record<string, string>;
  /** `--build-arg` values. */
  buildArgs?: Record<string, string>;
  /** `--target`: the stage whose result is the image (default: the last one). */
  target?: string;
  /** Shared RUN-layer cache across replays. */
  layerCache: Map<string, string>;
  log?: (line: string) => void;
}

export interface BuiltImage {
  rootfs: string;
  /** Container WORKDIR (an absolute in-container path). */
  workdir: string;
  env: Map<string, string>;
  user: string | undefined;
  entrypoint: string[];
  cmd: string[];
  exposed: string[];
  stopSignal: string | undefined;
  healthcheck: string[] | undefined;
}

interface StageState {
  name: string;
  rootfs: string;
  workdir: string;
  env: Map<string, string>;
  args: Map<string, string | undefined>;
  user: string | undefined;
  entrypoint: string[];
  cmd: string[];
  exposed: string[];
  stopSignal: string | undefined;
  healthcheck: string[] | undefined;
  /** Docker drops an inherited CMD when a stage sets its own ENTRYPOINT. */
  cmdFromBase: boolean;
  /** Digest of every input so far: the cache key of the next RUN. */
  key: string;
}

function sha(...parts: string[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\0');
  return h.digest('hex');
}

/** Maps an absolute in-container path onto the stage directory. */
function hostPath(rootfs: string, containerPath: string): string {
  const normalized = path.posix.normalize(containerPath);
  if (!normalized.startsWith('/')) throw new Error(`not an absolute path: ${containerPath}`);
  return path.join(rootfs, normalized);
}

function resolveIn(workdir: string, p: string): string {
  return path.posix.isAbsolute(p) ? path.posix.normalize(p) : path.posix.join(workdir, p);
}

async function exists(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch {
    return false;
  }
}

/** Lists regular files and symlinks under `dir`, relative paths with forward slashes. */
async function walk(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(path.join(dir, rel), { withFileTypes: true });
  for (const e of entries) {
    const child = rel === '' ? e.name : `${rel}/${e.name}`;
    if (e.isDirectory()) out.push(...(await walk(dir, child)));
    else out.push(child);
  }
  return out;
}

async function digestTree(root: string, files: readonly string[]): Promise<string> {
  const h = createHash('sha256');
  for (const f of [...files].sort()) {
    const full = path.join(root, f);
    const st = await lstat(full);
    h.update(f).update('\0');
    if (st.isSymbolicLink()) h.update(`link:${await readlink(full)}`);
    else h.update(await readFile(full));
    h.update('\0');
  }
  return h.digest('hex');
}

const execFileP = promisify(execFile);

/**
 * Snapshots and restores of RUN layers are hard-link trees (`cp -al`): copying a 300 MB
 * node_modules for every cache hit would dominate the test's run time. This is safe because
 * the replayed steps only ever create, replace or delete files, never rewrite one in place.
 */
async function linkTree(from: string, to: string): Promise<void> {
  await mkdir(path.dirname(to), { recursive: true });
  await execFileP('cp', ['-al', from, to]);
}

function run(command: string, cwd: string, env: Record<string, string>, log?: (l: string) => void): Promise<void> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', command], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) {
        log?.(`RUN ${command}: ok in ${Date.now() - started} ms`);
        resolve();
      } else {
        reject(new Error(`RUN ${command} exited ${code}:\n${output.slice(-6000)}`));
      }
    });
  });
}

async function copyFromContext(
  state: StageState,
  sources: string[],
  dest: string,
  opts: ReplayOptions,
  rules: ReturnType<typeof parseDockerignore>,
): Promise<void> {
  const destIsDir = dest.endsWith('/') || sources.length > 1;
  const destContainer = resolveIn(state.workdir, dest);
  const digests: string[] = [];
  for (const src of sources) {
    const rel = path.posix.normalize(src).replace(/^\/+/, '').replace(/\/+$/, '');
    if (rel.startsWith('..')) throw new Error(`COPY source escapes the context: ${src}`);
    const full = path.join(opts.context, rel);
    if (isIgnored(rules, rel) && !(await stat(full).catch(() => undefined))?.isDirectory()) {
      throw new Error(`COPY ${src}: excluded by .dockerignore`);
    }
    const st = await stat(full).catch(() => undefined);
    if (st === undefined) throw new Error(`COPY ${src}: not found in the build context`);
    if (st.isDirectory()) {
      // A directory's contents land in the destination, filtered by .dockerignore.
      const files = (await walk(full)).filter((f) => !isIgnored(rules, `${rel}/${f}`));
      if (files.length === 0) throw new Error(`COPY ${src}: nothing left after .dockerignore`);
      for (const f of files) {
        await placeFile(path.join(full, f), hostPath(state.rootfs, path.posix.join(destContainer, f)));
      }
      digests.push(`${rel}:${await digestTree(full, files)}`);
    } else {
      const targetContainer = destIsDir ? path.posix.join(destContainer, path.posix.basename(rel)) : destContainer;
      await placeFile(full, hostPath(state.rootfs, targetContainer));
      digests.push(`${rel}:${sha((await readFile(full)).toString('base64'))}`);
    }
  }
  state.key = sha(state.key, 'COPY', dest, ...digests);
}

async function copyFromStage(state: StageState, from: StageState, sources: string[], dest: string): Promise<void> {
  const destContainer = resolveIn(state.workdir, dest);
  for (const src of sources) {
    const srcHost = hostPath(from.rootfs, resolveIn(from.workdir, src));
    const st = await lstat(srcHost).catch(() => undefined);
    if (st === undefined) throw new Error(`COPY --from=${from.name} ${src}: not found in that stage`);
    if (st.isDirectory()) {
      // A directory's contents merge into the destination; the workspace symlinks under
      // node_modules/@auditflow must survive as links.
      for (const f of await walk(srcHost)) {
        await placeFile(path.join(srcHost, f), hostPath(state.rootfs, path.posix.join(destContainer, f)));
      }
    } else {
      const targetContainer = dest.endsWith('/') ? path.posix.join(destContainer, path.posix.basename(src)) : destContainer;
      await placeFile(srcHost, hostPath(state.rootfs, targetContainer));
    }
  }
  state.key = sha(state.key, 'COPY', `--from=${from.key}`, dest, ...sources);
}

/** Replaces rather than rewrites the target, so hard-linked layer snapshots stay intact. */
async function placeFile(from: string, to: string): Promise<void> {
  await mkdir(path.dirname(to), { recursive: true });
  await rm(to, { force: true });
  await cp(from, to, { verbatimSymlinks: true });
}

export async function replayDockerfile(dockerfilePath: string, opts: ReplayOptions): Promise<BuiltImage> {
  const text = await readFile(dockerfilePath, 'utf8');
  const parsed = parseDockerfile(text);
  const ignoreFile = path.join(opts.context, '.dockerignore');
  const rules = parseDockerignore(await readFile(ignoreFile, 'utf8'));
  const stages = new Map<string, StageState>();
  const imageId = sha(dockerfilePath, JSON.stringify(opts.buildArgs ?? {}), opts.target ?? '').slice(0, 12);
  let last: StageState | undefined;

  for (const stage of parsed.stages) {
    const stageName = stage.name ?? String(stage.index);
    const rootfs = path.join(opts.workDir, 'stages', `${imageId}-${stage.index}-${stageName}`);
    await rm(rootfs, { recursive: true, force: true });
    const parent = stages.get(stage.from.toLowerCase());
    let state: StageState;
    if (parent) {
      await linkTree(parent.rootfs, rootfs);
      state = {
        ...parent,
        name: stageName,
        rootfs,
        env: new Map(parent.env),
        args: new Map(),
        exposed: [...parent.exposed],
        cmdFromBase: true,
      };
    } else {
      await mkdir(rootfs, { recursive: true });
      state = {
        name: stageName,
        rootfs,
        workdir: '/',
        env: new Map(),
        args: new Map(),
        user: undefined,
        exposed: [],
        stopSignal: undefined,
        healthcheck: undefined,
        key: sha('FROM', stage.from),
        // What the official node image itself declares.
        entrypoint: ['docker-entrypoint.sh'],
        cmd: ['node'],
        cmdFromBase: true,
      };
    }
    for (const ins of stage.instructions) {
      const vars = new Map<string, string | undefined>([...state.args, ...state.env]);
      switch (ins.keyword) {
        case 'ARG':
          for (const [k, v] of keyValues(ins.args)) state.args.set(k, opts.buildArgs?.[k] ?? v ?? parsed.globalArgs.get(k));
          break;
        case 'ENV':
          for (const [k, v] of keyValues(ins.args)) state.env.set(k, substitute(v ?? '', vars));
          state.key = sha(state.key, 'ENV', ins.args);
          break;
        case 'LABEL':
          break;
        case 'WORKDIR': {
          state.workdir = resolveIn(state.workdir, substitute(ins.args, vars));
          await mkdir(hostPath(rootfs, state.workdir), { recursive: true });
          state.key = sha(state.key, 'WORKDIR', state.workdir);
          break;
        }
        case 'COPY': {
          const { flags, rest } = splitFlags(ins.args);
          for (const f of flags.keys()) {
            if (f !== 'from' && f !== 'link') throw new Error(`line ${ins.line}: COPY --${f} is not replayable`);
          }
          const words = (execForm(rest) ?? rest.split(/\s+/)).map((w) => substitute(w, vars));
          const dest = words.pop();
          if (dest === undefined || words.length === 0) throw new Error(`line ${ins.line}: COPY needs a source and a destination`);
          const from = flags.get('from');
          if (from !== undefined) {
            const source = stages.get(from.toLowerCase());
            if (!source) throw new Error(`line ${ins.line}: COPY --from=${from} names no earlier stage`);
            await copyFromStage(state, source, words, dest);
          } else {
            await copyFromContext(state, words, dest, opts, rules);
          }
          break;
        }
        case 'RUN': {
          const { flags, rest } = splitFlags(ins.args);
          const env: Record<string, string> = {
            ...opts.runEnv,
            HOME: hostPath(rootfs, '/root'),
            PATH: [...opts.toolPath, '/usr/local/bin', '/usr/bin', '/bin'].join(':'),
          };
          for (const [k, v] of vars) if (v !== undefined) env[k] = v;
          for (const [name, value] of flags) {
            if (name !== 'mount') throw new Error(`line ${ins.line}: RUN --${name} is not replayable`);
            for (const spec of value.split('\n')) {
              const mount = parseMount(spec);
              if (mount.get('type') !== 'cache' || mount.get('target') !== '/root/.npm') {
                throw new Error(`line ${ins.line}: only the npm cache mount is replayable, got ${spec}`);
              }
              env.npm_config_cache = opts.npmCache;
            }
          }
          state.key = sha(state.key, 'RUN', rest, JSON.stringify([...state.env].sort()), JSON.stringify([...state.args].sort()));
          const cached = opts.layerCache.get(state.key);
          if (cached !== undefined) {
            await rm(rootfs, { recursive: true, force: true });
            await linkTree(cached, rootfs);
            opts.log?.(`RUN ${rest}: cached`);
          } else {
            const cwd = hostPath(rootfs, state.workdir);
            await mkdir(cwd, { recursive: true });
            await run(rest, cwd, env, opts.log);
            const snapshot = path.join(opts.workDir, 'layers', state.key);
            if (!(await exists(snapshot))) await linkTree(rootfs, snapshot);
            opts.layerCache.set(state.key, snapshot);
          }
          break;
        }
        case 'USER':
          state.user = substitute(ins.args, vars);
          break;
        case 'EXPOSE':
          state.exposed.push(...ins.args.split(/\s+/));
          break;
        case 'CMD':
        case 'ENTRYPOINT': {
          const form = execForm(ins.args);
          if (form === undefined) throw new Error(`line ${ins.line}: ${ins.keyword} must use the exec form`);
          if (ins.keyword === 'CMD') {
            state.cmd = form;
            state.cmdFromBase = false;
          } else {
            state.entrypoint = form;
            if (state.cmdFromBase) state.cmd = [];
          }
          break;
        }
        case 'HEALTHCHECK': {
          const { rest } = splitFlags(ins.args);
          const m = /^CMD\s+(.*)$/s.exec(rest);
          state.healthcheck = m ? (execForm(m[1] ?? '') ?? ['/bin/sh', '-c', m[1] ?? '']) : undefined;
          break;
        }
        case 'STOPSIGNAL':
          state.stopSignal = ins.args;
          break;
        default:
          throw new Error(`line ${ins.line}: ${ins.keyword} is not replayable`);
      }
    }
    stages.set(stageName.toLowerCase(), state);
    stages.set(String(stage.index), state);
    last = state;
    if (opts.target !== undefined && stageName === opts.target) break;
  }
  if (opts.target !== undefined && last?.name !== opts.target) throw new Error(`no stage named ${opts.target}`);
  if (last === undefined) throw new Error('no stages');
  return {
    rootfs: last.rootfs,
    workdir: last.workdir,
    env: last.env,
    user: last.user,
    entrypoint: last.entrypoint,
    cmd: last.cmd,
    exposed: last.exposed,
    stopSignal: last.stopSignal,
    healthcheck: last.healthcheck,
  };
}

/** Every path below `root` with its size and mtime, for the read-only check. */
export async function snapshotTree(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const f of await walk(root)) {
    const st = await lstat(path.join(root, f));
    out.set(f, `${st.size}:${st.mtimeMs}:${st.mode}`);
  }
  return out;
}

/** Total bytes of regular files below `dir`. */
export async function treeSize(dir: string): Promise<number> {
  let total = 0;
  for (const f of await walk(dir)) {
    const st = await lstat(path.join(dir, f));
    if (st.isFile()) total += st.size;
  }
  return total;
}
