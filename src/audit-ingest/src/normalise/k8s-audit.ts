import { ignored, type MapOutcome, mapped } from './mapped-record.ts';

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const str = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

/** Stages that describe a finished request; the others would count the same request twice. */
const FINAL_STAGES = new Set(['ResponseComplete', 'Panic']);

export interface K8sAuditIdentity {
  auditId: string;
  stage: string;
  /** stageTimestamp (or requestReceivedTimestamp) in epoch ms. */
  timestampMs: number;
}

/** Checks the fields every `audit.k8s.io/v1` Event has; returns the reason when the object is not one. */
export function k8sAuditIdentity(event: unknown): K8sAuditIdentity | string {
  if (!isObject(event)) return 'audit event is not a JSON object';
  if (event['kind'] !== undefined && event['kind'] !== 'Event') return `kind "${String(event['kind'])}" is not Event`;
  const apiVersion = event['apiVersion'];
  if (apiVersion !== undefined && apiVersion !== 'audit.k8s.io/v1') return `apiVersion "${String(apiVersion)}" is not audit.k8s.io/v1`;
  const auditId = str(event['auditID']);
  if (!auditId) return 'audit event has no auditID';
  const stage = str(event['stage']);
  if (!stage) return 'audit event has no stage';
  if (!str(event['verb'])) return 'audit event has no verb';
  if (!isObject(event['user'])) return 'audit event has no user';
  const time = str(event['stageTimestamp']) ?? str(event['requestReceivedTimestamp']);
  const timestampMs = time === undefined ? Number.NaN : Date.parse(time);
  if (Number.isNaN(timestampMs)) return 'audit event has no valid stageTimestamp';
  return { auditId, stage, timestampMs };
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
  if (!FINAL_STAGES.has(identity.stage)) return ignored(`stage ${identity.stage} (only ResponseComplete and Panic are events)`);
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
  if (body && resource === 'pods' && subresource === undefined && verb === 'create') Object.assign(details, podRisk(body));
  if (body && (resource === 'rolebindings' || resource === 'clusterrolebindings')) Object.assign(details, bindingFacts(body));

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
 * or `system:nodes` group. K3s' own admin user is `system:admin`, and counts
 * as a component too; people get named client certificates or OIDC users.
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

function bindingFacts(binding: Json): Record<string, unknown> {
  const roleRef = isObject(binding['roleRef']) ? binding['roleRef'] : {};
  const subjects = Array.isArray(binding['subjects']) ? binding['subjects'].filter(isObject) : [];
  return {
    ...(str(roleRef['name']) ? { role_ref: roleRef['name'] } : {}),
    ...(str(roleRef['kind']) ? { role_ref_kind: roleRef['kind'] } : {}),
    subjects: subjects.map((s) => `${str(s['kind']) ?? '?'}:${str(s['namespace']) ? `${s['namespace']}/` : ''}${str(s['name']) ?? '?'}`).slice(0, 32),
  };
}
