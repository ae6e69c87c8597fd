import { ignored, type MapOutcome, mapped } from './mapped-record.ts';

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const str = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

/** Stages that describe a finished request; the others would count the same request twice. */
const FINAL_STAGES = new Set(['ResponseComplete', 'Panic']);
/**
 * Streaming subresources: the API server writes ResponseStarted when the
 * session opens and ResponseComplete only when it closes (hours later, or
 * never), so the session is an event at whichever stage comes first; both
 * stages get the same event id, so analysis counts it once.
 */
export const SESSION_SUBRESOURCES = new Set(['exec', 'attach', 'portforward']);
export const AUDIT_API_VERSIONS = new Set(['audit.k8s.io/v1', 'audit.k8s.io/v1beta1']);

export interface K8sAuditIdentity {
  auditId: string;
  stage: string;
  /** stageTimestamp (or requestReceivedTimestamp) in epoch ms. */
  timestampMs: number;
  /** An exec/attach/portforward session: one event for its ResponseStarted and ResponseComplete stages. */
  session: boolean;
}

/** Checks the fields every `audit.k8s.io/v1` (or archived `v1beta1`) Event has; returns the reason when the object is not one. */
export function k8sAuditIdentity(event: unknown): K8sAuditIdentity | string {
  if (!isObject(event)) return 'audit event is not a JSON object';
  if (event['kind'] !== undefined && event['kind'] !== 'Event') return `kind "${String(event['kind'])}" is not Event`;
  const apiVersion = event['apiVersion'];
  if (apiVersion !== undefined && !AUDIT_API_VERSIONS.has(String(apiVersion))) return `apiVersion "${String(apiVersion)}" is not audit.k8s.io/v1 or v1beta1`;
  const auditId = str(event['auditID']);
  if (!auditId) return 'audit event has no auditID';
  const stage = str(event['stage']);
  if (!stage) return 'audit event has no stage';
  if (!str(event['verb'])) return 'audit event has no verb';
  if (!isObject(event['user'])) return 'audit event has no user';
  // v1beta1 archives of 1.7-era servers carry only the deprecated `timestamp`.
  const time = str(event['stageTimestamp']) ?? str(event['requestReceivedTimestamp']) ?? str(event['timestamp']);
  const timestampMs = time === undefined ? Number.NaN : Date.parse(time);
  if (Number.isNaN(timestampMs)) return 'audit event has no valid stageTimestamp';
  const objectRef = isObject(event['objectRef']) ? event['objectRef'] : {};
  const session = objectRef['resource'] === 'pods' && SESSION_SUBRESOURCES.has(String(objectRef['subresource']));
  return { auditId, stage, timestampMs, session };
}

/**
 * Maps one Kubernetes API audit event to the fields the rules use:
 * user_id = the authenticated user (`system:anonymous` for anonymous requests),
 * details.ip_address = the first source IP, details.verb / k8s_resource /
 * subresource / namespace / name, action_result from the response code, and
 * the security-relevant facts of the request body (privileged or hostPath
 * pods, the role a binding grants).
 */
export function mapK8sAudit(event: Json, identity: K8sAuditIdentity): MapOutcome {
  const sessionStart = identity.session && identity.stage === 'ResponseStarted';
  if (!FINAL_STAGES.has(identity.stage) && !sessionStart) {
    return ignored(`stage ${identity.stage} (only ResponseComplete and Panic are events, and ResponseStarted of exec, attach and portforward)`);
  }
  const user = event['user'] as Json;
  const username = str(user['username']) ?? 'system:anonymous';
  const groups = Array.isArray(user['groups']) ? user['groups'].filter((g): g is string => typeof g === 'string') : [];
  const objectRef = isObject(event['objectRef']) ? event['objectRef'] : {};
  const responseStatus = isObject(event['responseStatus']) ? event['responseStatus'] : {};
  const code = typeof responseStatus['code'] === 'number' ? responseStatus['code'] : identity.stage === 'Panic' ? 500 : 200;
  const annotations = isObject(event['annotations']) ? event['annotations'] : {};
  const decision = str(annotations['authorization.k8s.io/decision']);
  const sourceIps = Array.isArray(event['sourceIPs']) ? event['sourceIPs'].filter((ip): ip is string => typeof ip === 'string') : [];
  const verb = str(event['verb'])!;
  const resource = str(objectRef['resource']);
  const subresource = str(objectRef['subresource']);
  const namespace = str(objectRef['namespace']);
  const name = str(objectRef['name']);
  const requestUri = str(event['requestURI']);

  const details: Record<string, unknown> = {
    verb,
    ...(resource ? { k8s_resource: resource } : {}),
    ...(subresource ? { subresource } : {}),
    ...(namespace ? { namespace } : {}),
    ...(name ? { name } : {}),
    ...(str(objectRef['apiGroup']) ? { api_group: objectRef['apiGroup'] } : {}),
    resource: resourcePath(resource, subresource, namespace, name, requestUri),
    ...(requestUri ? { request_uri: requestUri.slice(0, 2048) } : {}),
    ...(sourceIps[0] ? { ip_address: sourceIps[0] } : {}),
    ...(sourceIps.length > 1 ? { source_ips: sourceIps.slice(0, 8) } : {}),
    ...(groups.length > 0 ? { groups: groups.slice(0, 32) } : {}),
    ...(str(event['userAgent']) ? { user_agent: String(event['userAgent']).slice(0, 512) } : {}),
    response_code: code,
    ...(decision ? { decision } : {}),
    ...(str(annotations['authorization.k8s.io/reason']) ? { reason: String(annotations['authorization.k8s.io/reason']).slice(0, 1024) } : {}),
    audit_id: identity.auditId,
    protocol: 'https',
  };
  const impersonated = isObject(event['impersonatedUser']) ? str(event['impersonatedUser']['username']) : undefined;
  if (impersonated) details['impersonated_user'] = impersonated;
  details['human_user'] = isHumanUser(username, groups);

  const body = isObject(event['requestObject']) ? event['requestObject'] : undefined;
  const response = isObject(event['responseObject']) ? event['responseObject'] : undefined;
  if (resource === 'pods' && subresource === undefined && verb === 'create') {
    if (body) Object.assign(details, podRisk(body));
    Object.assign(details, podIdentity(body, response, name, identity.auditId));
  }
  if (body && (resource === 'rolebindings' || resource === 'clusterrolebindings')) Object.assign(details, bindingFacts(body));
  if (body && (resource === 'roles' || resource === 'clusterroles')) Object.assign(details, roleFacts(body));
  if (body && resource === 'services' && subresource === undefined) Object.assign(details, serviceFacts(body));
  if (groups.includes('system:masters')) details['system_masters'] = true;

  // 101 is the protocol switch that starts an exec/attach stream.
  const result = code >= 100 && code < 400 ? 'SUCCESS' : code === 401 || code === 403 ? 'DENIED' : 'FAILURE';
  return mapped({
    event_type: 'k8s_api_request',
    action_result: result,
    user_id: username,
    severity: result === 'SUCCESS' ? 'INFO' : 'WARNING',
    details,
  });
}

/**
 * A person, as opposed to a component: not a `system:` identity (service
 * accounts, nodes, controllers, anonymous) and not in a `system:serviceaccounts`
 * or `system:nodes` group. K3s' `system:admin` (group `system:masters`) is both
 * its own controllers' identity and the owner's kubeconfig, so the event says
 * `system_masters: true` and the rules tell them apart by source address
 * (the node addresses are in the rules file, not known here).
 */
export function isHumanUser(username: string, groups: readonly string[]): boolean {
  if (username.startsWith('system:')) return false;
  return !groups.some((group) => group === 'system:serviceaccounts' || group === 'system:nodes' || group.startsWith('system:serviceaccounts:'));
}

function resourcePath(resource?: string, subresource?: string, namespace?: string, name?: string, uri?: string): string {
  if (!resource) return (uri ?? '').split('?')[0]!.slice(0, 1024) || '/';
  return [namespace ? `namespaces/${namespace}` : undefined, resource, name, subresource].filter(Boolean).join('/');
}

/** What makes a pod a way out of its container: privileged containers, host paths, host namespaces. */
function podRisk(pod: Json): Record<string, unknown> {
  const spec = isObject(pod['spec']) ? pod['spec'] : {};
  const containers = ['initContainers', 'containers', 'ephemeralContainers'].flatMap((key) =>
    Array.isArray(spec[key]) ? (spec[key] as unknown[]).filter(isObject) : [],
  );
  const privileged = containers.some((c) => isObject(c['securityContext']) && c['securityContext']['privileged'] === true);
  const volumes = Array.isArray(spec['volumes']) ? spec['volumes'].filter(isObject) : [];
  const hostPaths = volumes.flatMap((v) => (isObject(v['hostPath']) && str(v['hostPath']['path']) ? [String(v['hostPath']['path'])] : []));
  const hostNamespaces = ['hostNetwork', 'hostPID', 'hostIPC'].filter((key) => spec[key] === true);
  return {
    privileged,
    host_path: hostPaths.length > 0,
    ...(hostPaths.length > 0 ? { host_paths: hostPaths.slice(0, 16) } : {}),
    host_namespaces: hostNamespaces,
    images: containers.map((c) => str(c['image'])).filter(Boolean).slice(0, 16),
  };
}

/**
 * Which pod this is. A controller's create request has no name yet (the API
 * server derives it from metadata.generateName), so the response's name and
 * uid are used when the audit level recorded them, else generateName plus the
 * request's auditID: two pods never share a key, and no text reads `pod ''`.
 */
function podIdentity(body: Json | undefined, response: Json | undefined, objectName: string | undefined, auditId: string): Record<string, unknown> {
  const requestMeta = body && isObject(body['metadata']) ? body['metadata'] : {};
  const responseMeta = response && isObject(response['metadata']) ? response['metadata'] : {};
  const realName = str(responseMeta['name']) ?? objectName ?? str(requestMeta['name']);
  const generateName = str(requestMeta['generateName']) ?? str(responseMeta['generateName']);
  const uid = str(responseMeta['uid']);
  const owners = (Array.isArray(requestMeta['ownerReferences']) ? requestMeta['ownerReferences'] : Array.isArray(responseMeta['ownerReferences']) ? responseMeta['ownerReferences'] : []).filter(isObject);
  const owner = owners.find((o) => o['controller'] === true) ?? owners[0];
  const ownerText = owner && str(owner['kind']) && str(owner['name']) ? `${owner['kind']}/${owner['name']}` : undefined;
  const name = realName ?? (generateName ? `${generateName}<generated>` : `<unnamed ${auditId.slice(0, 8)}>`);
  return {
    name,
    pod_key: uid ?? realName ?? `${generateName ?? ''}<generated ${auditId}>`,
    ...(uid ? { object_uid: uid } : {}),
    ...(generateName ? { generate_name: generateName } : {}),
    owner: ownerText ?? 'none',
  };
}

/** The rules of a Role or ClusterRole that let its holder grant itself more: wildcards and bind/escalate/impersonate. */
function roleFacts(role: Json): Record<string, unknown> {
  const rules = Array.isArray(role['rules']) ? role['rules'].filter(isObject) : [];
  const list = (rule: Json, key: string): string[] => (Array.isArray(rule[key]) ? rule[key].filter((v): v is string => typeof v === 'string') : []);
  const verbs = new Set(rules.flatMap((rule) => list(rule, 'verbs')));
  const resources = new Set(rules.flatMap((rule) => list(rule, 'resources')));
  const wildcard = rules.some((rule) => list(rule, 'verbs').includes('*') || list(rule, 'resources').includes('*'));
  const escalation = ['bind', 'escalate', 'impersonate'].filter((verb) => verbs.has(verb) || verbs.has('*'));
  const aggregation = isObject(role['aggregationRule']);
  return {
    role_verbs: [...verbs].slice(0, 32),
    role_resources: [...resources].slice(0, 32),
    role_wildcard: wildcard,
    role_escalation_verbs: escalation,
    ...(aggregation ? { role_aggregated: true } : {}),
  };
}

/** A Service's type and node ports: NodePort and LoadBalancer open a port on every node. */
function serviceFacts(service: Json): Record<string, unknown> {
  const spec = isObject(service['spec']) ? service['spec'] : {};
  const type = str(spec['type']);
  const ports = Array.isArray(spec['ports']) ? spec['ports'].filter(isObject) : [];
  const nodePorts = ports.map((p) => p['nodePort']).filter((p): p is number => typeof p === 'number');
  return { ...(type ? { service_type: type } : {}), ...(nodePorts.length > 0 ? { node_ports: nodePorts.slice(0, 16) } : {}) };
}

function bindingFacts(binding: Json): Record<string, unknown> {
  const roleRef = isObject(binding['roleRef']) ? binding['roleRef'] : {};
  const subjects = Array.isArray(binding['subjects']) ? binding['subjects'].filter(isObject) : [];
  return {
    ...(str(roleRef['name']) ? { role_ref: roleRef['name'] } : {}),
    ...(str(roleRef['kind']) ? { role_ref_kind: roleRef['kind'] } : {}),
    subjects: subjects.map((s) => `${str(s['kind']) ?? '?'}:${str(s['namespace']) ? `${s['namespace']}/` : ''}${str(s['name']) ?? '?'}`).slice(0, 32),
  };
}
