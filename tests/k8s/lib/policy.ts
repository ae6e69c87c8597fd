// Production policy over rendered manifests. Each check returns human-readable violations.
import type { IContainer } from 'kubernetes-models/v1/Container';
import { type K8sObject, isHook, podTemplateOf } from './render.ts';

const LONG_RUNNING = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);

function containersOf(obj: K8sObject): IContainer[] {
  const spec = podTemplateOf(obj)?.spec;
  return [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])];
}

function id(obj: K8sObject, container?: IContainer): string {
  return `${obj.kind}/${obj.metadata.name}${container ? ` container ${container.name}` : ''}`;
}

/** Tag or digest required; `latest` (explicit or implied) refused. */
export function imagePinning(objects: K8sObject[]): string[] {
  const out: string[] = [];
  for (const obj of objects) {
    for (const c of containersOf(obj)) {
      const image = c.image ?? '';
      const [withoutDigest] = image.split('@');
      const lastSegment = (withoutDigest ?? '').split('/').at(-1) ?? '';
      const tag = lastSegment.includes(':') ? lastSegment.split(':').at(-1) : undefined;
      if (!image) out.push(`${id(obj, c)}: no image`);
      else if (tag === 'latest') out.push(`${id(obj, c)}: uses the latest tag (${image})`);
      else if (!tag && !image.includes('@sha256:')) out.push(`${id(obj, c)}: no tag or digest (${image})`);
    }
  }
  return out;
}

export function resourcesAndProbes(objects: K8sObject[]): string[] {
  const out: string[] = [];
  for (const obj of objects) {
    for (const c of containersOf(obj)) {
      for (const kind of ['requests', 'limits'] as const) {
        for (const res of ['cpu', 'memory']) {
          if (!c.resources?.[kind]?.[res]) out.push(`${id(obj, c)}: no ${kind}.${res}`);
        }
      }
      if (LONG_RUNNING.has(obj.kind)) {
        if (!c.livenessProbe) out.push(`${id(obj, c)}: no livenessProbe`);
        if (!c.readinessProbe) out.push(`${id(obj, c)}: no readinessProbe`);
      }
    }
  }
  return out;
}

export function hardening(objects: K8sObject[]): string[] {
  const out: string[] = [];
  for (const obj of objects) {
    const tpl = podTemplateOf(obj);
    if (!tpl) continue;
    const pod = tpl.spec.securityContext ?? {};
    if (tpl.spec.hostNetwork || tpl.spec.hostPID || tpl.spec.hostIPC) out.push(`${id(obj)}: shares a host namespace`);
    for (const v of tpl.spec.volumes ?? []) if (v.hostPath) out.push(`${id(obj)}: hostPath volume ${v.name}`);
    if (tpl.spec.automountServiceAccountToken !== false) out.push(`${id(obj)}: mounts a service account token`);
    for (const c of containersOf(obj)) {
      const sc = c.securityContext ?? {};
      const nonRoot = sc.runAsNonRoot ?? pod.runAsNonRoot;
      const uid = sc.runAsUser ?? pod.runAsUser;
      if (nonRoot !== true) out.push(`${id(obj, c)}: runAsNonRoot is not true`);
      if (uid === 0) out.push(`${id(obj, c)}: runs as uid 0`);
      if (sc.privileged) out.push(`${id(obj, c)}: privileged`);
      if (sc.allowPrivilegeEscalation !== false) out.push(`${id(obj, c)}: allowPrivilegeEscalation is not false`);
      if (sc.readOnlyRootFilesystem !== true) out.push(`${id(obj, c)}: root filesystem is writable`);
      if (!sc.capabilities?.drop?.includes('ALL')) out.push(`${id(obj, c)}: capabilities not dropped`);
      if (sc.capabilities?.add?.length) out.push(`${id(obj, c)}: adds capabilities`);
      const seccomp = sc.seccompProfile?.type ?? pod.seccompProfile?.type;
      if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') out.push(`${id(obj, c)}: no seccomp profile`);
    }
  }
  return out;
}

interface Selector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

export function selects(selector: Selector, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const value = labels[e.key];
    if (e.operator === 'In' && !(has && e.values?.includes(value ?? ''))) return false;
    if (e.operator === 'NotIn' && has && e.values?.includes(value ?? '')) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

/** Every long-running workload and Job is confined by a policy covering ingress and egress. */
export function networkPolicyCoverage(objects: K8sObject[]): string[] {
  const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
  const out: string[] = [];
  for (const obj of objects) {
    if (!LONG_RUNNING.has(obj.kind) && obj.kind !== 'Job') continue;
    const tpl = podTemplateOf(obj);
    if (!tpl) continue;
    const covering = policies.filter((p) => selects((p.spec?.['podSelector'] ?? {}) as Selector, tpl.labels));
    const types = new Set(covering.flatMap((p) => (p.spec?.['policyTypes'] as string[] | undefined) ?? []));
    if (!covering.length) out.push(`${id(obj)}: no NetworkPolicy selects its pods`);
    else if (!types.has('Ingress') || !types.has('Egress')) out.push(`${id(obj)}: its NetworkPolicies do not restrict both ingress and egress`);
  }
  return out;
}

/** Scrape annotations on every long-running pod, and the metrics port they name exists. */
export function scrapeAnnotations(objects: K8sObject[]): string[] {
  const out: string[] = [];
  for (const obj of objects) {
    if (!LONG_RUNNING.has(obj.kind)) continue;
    const tpl = podTemplateOf(obj);
    if (!tpl) continue;
    if (tpl.annotations['prometheus.io/scrape'] !== 'true') {
      out.push(`${id(obj)}: no prometheus.io/scrape annotation`);
      continue;
    }
    const port = Number(tpl.annotations['prometheus.io/port']);
    const ports = tpl.spec.containers.flatMap((c) => c.ports ?? []).map((p) => p.containerPort);
    if (!ports.includes(port)) out.push(`${id(obj)}: prometheus.io/port ${tpl.annotations['prometheus.io/port']} is not a container port`);
  }
  return out;
}

export function rolloutHygiene(objects: K8sObject[]): string[] {
  const out: string[] = [];
  for (const obj of objects) {
    if (!LONG_RUNNING.has(obj.kind) || isHook(obj)) continue;
    if (typeof obj.spec?.['revisionHistoryLimit'] !== 'number') out.push(`${id(obj)}: no revisionHistoryLimit`);
    const tpl = podTemplateOf(obj);
    if (tpl && !Object.keys(tpl.annotations).some((k) => k.startsWith('checksum/'))) out.push(`${id(obj)}: no checksum annotation to roll pods on config changes`);
    if (tpl && (!tpl.spec.serviceAccountName || tpl.spec.serviceAccountName === 'default')) out.push(`${id(obj)}: uses the default ServiceAccount`);
  }
  return out;
}

/** A PDB per long-running workload; topology spread wherever several replicas run. */
export function availability(objects: K8sObject[]): string[] {
  const pdbs = objects.filter((o) => o.kind === 'PodDisruptionBudget');
  const out: string[] = [];
  for (const obj of objects) {
    if (!LONG_RUNNING.has(obj.kind)) continue;
    const tpl = podTemplateOf(obj);
    if (!tpl) continue;
    if (!pdbs.some((p) => selects((p.spec?.['selector'] ?? {}) as Selector, tpl.labels))) out.push(`${id(obj)}: no PodDisruptionBudget`);
    const replicas = obj.spec?.['replicas'];
    if (typeof replicas === 'number' && replicas > 1 && !tpl.spec.topologySpreadConstraints?.length) out.push(`${id(obj)}: ${replicas} replicas without topologySpreadConstraints`);
  }
  return out;
}

export function allPolicies(objects: K8sObject[], opts: { requireAvailability?: boolean } = {}): string[] {
  return [
    ...imagePinning(objects),
    ...resourcesAndProbes(objects),
    ...hardening(objects),
    ...networkPolicyCoverage(objects),
    ...scrapeAnnotations(objects),
    ...rolloutHygiene(objects),
    ...(opts.requireAvailability ? availability(objects) : []),
  ];
}
