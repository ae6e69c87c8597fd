// Just enough of a cluster to run a rendered release's pods from their images on the real
// container engine: a Docker network of its own (the pod network), an address on its bridge
// for each Service (its ClusterIP) with a TCP relay per Service port to the ready pod's
// targetPort, or to the shared loopback server standing in for a StatefulSet, and the
// Service DNS names given to every container as host entries. Pods run as the kubelet
// would run them: read-only root, the pod's numeric user and fsGroup, dropped capabilities,
// the memory and CPU limits, env with Secrets resolved, emptyDir as tmpfs, ConfigMap and
// Secret volumes as read-only files at their mount paths, the container's ports and probes.
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IProbe } from 'kubernetes-models/v1/Probe';
import type { IVolume } from 'kubernetes-models/v1/Volume';
import { docker } from '../../support/container-engine.ts';
import type { K8sObject } from '../../k8s/lib/render.ts';
import { configMapValue, named, type RenderedRelease, secretValue, type Workload } from './release.ts';

const run = promisify(execFile);

interface ServicePort {
  name?: string;
  port: number;
  targetPort?: number | string;
  protocol?: string;
}

export interface Backend {
  host: string;
  port: number;
}

export interface RunningPod {
  container: string;
  workload: Workload;
  ip: string;
}

function ipToInt(ip: string): number {
  return ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

export function memoryFlag(quantity: string): string {
  const m = /^(\d+)(Ki|Mi|Gi|K|M|G)?$/.exec(quantity);
  if (!m) throw new Error(`unsupported memory quantity ${quantity}`);
  const factor: Record<string, number> = { '': 1, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, K: 1e3, M: 1e6, G: 1e9 };
  return String(Number(m[1]) * (factor[m[2] ?? ''] ?? 1));
}

export function cpuFlag(quantity: string): string {
  return quantity.endsWith('m') ? String(Number(quantity.slice(0, -1)) / 1000) : String(Number(quantity));
}

export class LocalCluster {
  readonly id: string;
  readonly namespace: string;
  readonly release: RenderedRelease;
  network = '';
  #bridge = '';
  #nextIp = 0;
  readonly #serviceIps = new Map<string, string>();
  readonly #relays: net.Server[] = [];
  readonly #sockets = new Set<net.Socket>();
  readonly #containers: string[] = [];
  readonly #pods = new Map<string, RunningPod>();
  readonly #workDir: string;

  constructor(options: { id: string; release: RenderedRelease; workDir: string }) {
    this.id = options.id;
    this.release = options.release;
    this.namespace = options.release.namespace;
    this.#workDir = options.workDir;
  }

  /** The pod network and one address per Service on its bridge. */
  async start(): Promise<void> {
    this.network = `af-rel-${this.id}`;
    const networkId = (await docker(['network', 'create', '--driver', 'bridge', this.network])).trim();
    this.#bridge = `br-${networkId.slice(0, 12)}`;
    const [config] = JSON.parse(await docker(['network', 'inspect', '--format', '{{json .IPAM.Config}}', this.network])) as [{ Subnet: string }][] | [{ Subnet: string }];
    const subnet = (Array.isArray(config) ? config[0] : config)?.Subnet ?? '';
    const [base, bits] = subnet.split('/');
    const size = 2 ** (32 - Number(bits));
    // Docker hands out pod addresses from the bottom of the subnet; Services take the top.
    this.#nextIp = ipToInt(base ?? '') + size - 2;
  }

  /** Every Service of the release gets its ClusterIP; `backends` maps a Service port to a fixed target (the shared servers). */
  async exposeServices(backends: (service: K8sObject, port: ServicePort) => Backend | undefined): Promise<void> {
    for (const service of this.release.objects.filter((o) => o.kind === 'Service')) {
      const spec = service.spec as { type?: string; clusterIP?: string; ports?: ServicePort[]; selector?: Record<string, string> };
      if (spec.type === 'ExternalName' || spec.clusterIP === 'None') continue;
      const ip = intToIp(this.#nextIp--);
      await run('ip', ['addr', 'add', `${ip}/32`, 'dev', this.#bridge]);
      this.#serviceIps.set(service.metadata.name, ip);
      for (const port of spec.ports ?? []) {
        if ((port.protocol ?? 'TCP') !== 'TCP') continue;
        const fixed = backends(service, port);
        const target = (): Backend | undefined => fixed ?? this.#podTarget(spec.selector ?? {}, port);
        await this.#relay(ip, port.port, target);
      }
    }
  }

  #podTarget(selector: Record<string, string>, port: ServicePort): Backend | undefined {
    for (const pod of this.#pods.values()) {
      const labels = pod.workload.template.labels;
      if (!Object.entries(selector).every(([k, v]) => labels[k] === v)) continue;
      const container = pod.workload.template.spec.containers[0]!;
      const target = port.targetPort ?? port.port;
      const number = typeof target === 'number' ? target : container.ports?.find((p) => p.name === target)?.containerPort;
      if (number !== undefined) return { host: pod.ip, port: number };
    }
    return undefined;
  }

  async #relay(ip: string, port: number, target: () => Backend | undefined): Promise<void> {
    const server = net.createServer((client) => {
      this.#sockets.add(client);
      client.on('close', () => this.#sockets.delete(client));
      const backend = target();
      if (!backend) {
        client.destroy();
        return;
      }
      const upstream = net.connect(backend.port, backend.host);
      this.#sockets.add(upstream);
      upstream.on('close', () => this.#sockets.delete(upstream));
      client.pipe(upstream).pipe(client);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, ip, () => resolve());
    });
    this.#relays.push(server);
  }

  serviceIp(name: string): string {
    const ip = this.#serviceIps.get(name);
    if (!ip) throw new Error(`no ClusterIP for Service ${name}`);
    return ip;
  }

  /** What the cluster DNS would answer for every Service. */
  #hostEntries(): string[] {
    const args: string[] = [];
    for (const [name, ip] of this.#serviceIps) {
      for (const fqdn of [name, `${name}.${this.namespace}`, `${name}.${this.namespace}.svc`, `${name}.${this.namespace}.svc.cluster.local`]) args.push('--add-host', `${fqdn}:${ip}`);
    }
    return args;
  }

  /** Files of a ConfigMap or Secret volume, as the kubelet projects them. */
  #volumeDir(volume: IVolume): string | undefined {
    const source = volume.configMap ?? volume.secret;
    if (!source) return undefined;
    const name = volume.configMap?.name ?? volume.secret?.secretName ?? '';
    const kind = volume.configMap ? 'ConfigMap' : 'Secret';
    const object = named(this.release, kind, name) as K8sObject & { stringData?: Record<string, string> };
    const keys = Object.keys({ ...object.data, ...(object.stringData ?? {}) });
    const items: { key: string; path: string; mode?: number }[] = source.items ?? keys.map((key) => ({ key, path: key }));
    const dir = join(this.#workDir, `vol-${kind.toLowerCase()}-${name}-${volume.name}`);
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    chmodSync(dir, 0o755);
    const mode = source.defaultMode ?? 0o644;
    for (const item of items) {
      const value = kind === 'Secret' ? secretValue(this.release, name, item.key) : configMapValue(this.release, name, item.key);
      const file = join(dir, item.path);
      mkdirSync(join(file, '..'), { recursive: true, mode: 0o755 });
      writeFileSync(file, value, { mode: item.mode ?? mode });
      chmodSync(file, item.mode ?? mode);
    }
    return dir;
  }

  /** `docker run` of the workload's (first) container, as the kubelet would start it. */
  async runPod(workload: Workload, image: string, env: Record<string, string>): Promise<RunningPod> {
    const spec = workload.template.spec;
    const container = spec.containers[0] as IContainer;
    const pod = spec.securityContext ?? {};
    const sc = container.securityContext ?? {};
    const name = `af-rel-${this.id}-${workload.name}`;
    const args = ['run', '--detach', '--name', name, '--network', this.network, '--hostname', workload.name];
    if (sc.readOnlyRootFilesystem) args.push('--read-only');
    const uid = sc.runAsUser ?? pod.runAsUser;
    const gid = sc.runAsGroup ?? pod.runAsGroup;
    if (uid !== undefined) args.push('--user', gid !== undefined ? `${uid}:${gid}` : String(uid));
    if (pod.fsGroup !== undefined) args.push('--group-add', String(pod.fsGroup));
    if (sc.capabilities?.drop?.includes('ALL')) args.push('--cap-drop', 'ALL');
    if (sc.allowPrivilegeEscalation === false) args.push('--security-opt', 'no-new-privileges');
    const limits = (container.resources?.limits ?? {}) as Record<string, string>;
    if (limits['memory']) args.push('--memory', memoryFlag(String(limits['memory'])), '--memory-swap', memoryFlag(String(limits['memory'])));
    if (limits['cpu']) args.push('--cpus', cpuFlag(String(limits['cpu'])));
    for (const key of Object.keys(env)) args.push('--env', key);
    const volumes = new Map((spec.volumes ?? []).map((v) => [v.name, v]));
    for (const mount of container.volumeMounts ?? []) {
      const volume = volumes.get(mount.name);
      if (!volume) throw new Error(`${workload.name}: volume ${mount.name} is not declared`);
      if (volume.emptyDir) {
        const size = volume.emptyDir.sizeLimit ? `,size=${memoryFlag(String(volume.emptyDir.sizeLimit))}` : '';
        args.push('--tmpfs', `${mount.mountPath}:rw,mode=1777${size}`);
        continue;
      }
      const dir = this.#volumeDir(volume);
      if (!dir) throw new Error(`${workload.name}: volume ${mount.name} has an unsupported source`);
      args.push('--volume', `${mount.subPath ? join(dir, mount.subPath) : dir}:${mount.mountPath}:ro`);
    }
    args.push(...this.#hostEntries());
    const [entrypoint, ...commandRest] = container.command ?? [];
    if (entrypoint !== undefined) args.push('--entrypoint', entrypoint);
    args.push(image, ...commandRest, ...(container.args ?? []));
    await docker(args, { env: { ...process.env, ...env } });
    this.#containers.push(name);
    const ip = (await docker(['inspect', '--format', `{{(index .NetworkSettings.Networks "${this.network}").IPAddress}}`, name])).trim();
    const running: RunningPod = { container: name, workload, ip };
    this.#pods.set(workload.name, running);
    return running;
  }

  /** Runs a Pod-shaped workload (a helm test hook) to completion; returns its exit code and logs. */
  async runToCompletion(workload: Workload, image: string, env: Record<string, string>, timeoutMs: number): Promise<{ code: number; logs: string }> {
    const pod = await this.runPod(workload, image, env);
    const code = Number((await docker(['wait', pod.container], { timeout: timeoutMs })).trim());
    return { code, logs: await this.logs(pod) };
  }

  async logs(pod: RunningPod, tail = 200): Promise<string> {
    return docker(['logs', '--tail', String(tail), pod.container]).catch((e: Error) => e.message);
  }

  async isRunning(pod: RunningPod): Promise<boolean> {
    return (await docker(['inspect', '--format', '{{.State.Running}}', pod.container]).catch(() => 'false')).trim() === 'true';
  }

  /** One kubelet probe (httpGet or tcpSocket) against the pod's address; true when it passes. */
  async probe(pod: RunningPod, probe: IProbe): Promise<{ ok: boolean; detail: string }> {
    const container = pod.workload.template.spec.containers[0] as IContainer;
    const portOf = (p: number | string) => (typeof p === 'number' ? p : container.ports?.find((c) => c.name === p)?.containerPort);
    const timeout = (probe.timeoutSeconds ?? 1) * 1000;
    if (probe.httpGet) {
      const port = portOf(probe.httpGet.port as number | string);
      const scheme = probe.httpGet.scheme ?? 'HTTP';
      const url = `${scheme.toLowerCase()}://${pod.ip}:${port}${probe.httpGet.path ?? '/'}`;
      // The kubelet does not verify the serving certificate of an HTTPS probe.
      return new Promise((resolve) => {
        const request = (scheme === 'HTTPS' ? https : http).get(url, { timeout, rejectUnauthorized: false }, (res) => {
          let body = '';
          res.on('data', (d: Buffer) => {
            body += d.toString();
          });
          res.on('end', () => resolve({ ok: (res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 400, detail: `${url} ${res.statusCode} ${body.slice(0, 300)}` }));
        });
        request.on('timeout', () => request.destroy(new Error('timeout')));
        request.on('error', (error) => resolve({ ok: false, detail: `${url} ${error.message}` }));
      });
    }
    if (probe.tcpSocket) {
      const port = portOf(probe.tcpSocket.port as number | string) ?? 0;
      return new Promise((resolve) => {
        const socket = net.connect({ host: pod.ip, port, timeout });
        socket.on('connect', () => {
          socket.destroy();
          resolve({ ok: true, detail: `tcp ${pod.ip}:${port}` });
        });
        socket.on('error', (error) => resolve({ ok: false, detail: `tcp ${pod.ip}:${port} ${error.message}` }));
        socket.on('timeout', () => {
          socket.destroy();
          resolve({ ok: false, detail: `tcp ${pod.ip}:${port} timeout` });
        });
      });
    }
    throw new Error(`${pod.workload.name}: unsupported probe ${JSON.stringify(probe)}`);
  }

  /** Polls a probe until it passes; fails early with the logs when the container exits. */
  async waitForProbe(pod: RunningPod, probe: IProbe, timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < until) {
      const result = await this.probe(pod, probe);
      if (result.ok) return;
      last = result.detail;
      if (!(await this.isRunning(pod))) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(`${pod.workload.name}: probe did not pass within ${timeoutMs} ms (last: ${last}); logs:\n${await this.logs(pod, 60)}`);
  }

  async stop(): Promise<void> {
    for (const name of this.#containers) await docker(['rm', '--force', name]).catch(() => {});
    for (const socket of this.#sockets) socket.destroy();
    await Promise.all(this.#relays.map((r) => new Promise((resolve) => r.close(() => resolve(undefined)))));
    if (this.network) await docker(['network', 'rm', this.network]).catch(() => {});
  }
}
