/**
 * The services of the platform, in one place: the CLI (`--only`), the all-in-one, the root
 * `services.json` (generated from this for scripts, CI and the bake file; a test regenerates it
 * and checks package.json workspaces, docker-bake.hcl and the image workflow against it).
 */
export const SERVICES = [
  { name: 'audit-event-generator', does: 'synthetic and posted audit events to RabbitMQ `audit_events`', ports: { app: 5000, metrics: 8000 } },
  { name: 'audit-log-analysis', does: 'rules over events with sliding-window state in Redis; alerts on `audit_alerts`', ports: { app: 5001, metrics: 8001 } },
  { name: 'notification-service', does: 'alerts to PostgreSQL; REST API', ports: { app: 8000 } },
  { name: 'event-audit-dashboard', does: 'web UI over the notification API', ports: { app: 8080 } },
  { name: 'audit-ingest', does: 'K3s audit webhook, syslog, journald to `audit_events`', ports: { app: 5002, metrics: 8002, syslog: 5514 } },
] as const;

export type ServiceName = (typeof SERVICES)[number]['name'];
export const SERVICE_NAMES: readonly ServiceName[] = SERVICES.map((service) => service.name);

/** Where a service's workspace lives. */
export function serviceDir(name: ServiceName): string {
  return `src/${name}`;
}
