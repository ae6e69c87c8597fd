import type { Labels } from './alert-labels.ts';
import { matchesAll } from './matchers.ts';
import type { RouteConfig } from './outputs-config.ts';

export interface RouteMatch {
  route: RouteConfig;
  receiver: string;
  /** The route plus the values of its group_by labels: alerts sharing it are notified together. */
  groupKey: string;
}

/**
 * Alertmanager's routing in small: an alert enters at the default route and descends into the
 * first child whose matchers all hold (and into later ones too while the matched child says
 * `continue`); where no child matches, the node it reached is its route. Children inherit
 * receiver, group_by, group_wait and repeat_interval from their parent (outputs-config.ts).
 * One alert can so reach several receivers; each receiver is listed once.
 */
export function routeAlert(root: RouteConfig, labels: Labels): RouteMatch[] {
  const found: RouteMatch[] = [];
  descend(root, labels, found);
  const seen = new Set<string>();
  return found.filter((match) => !seen.has(match.receiver) && seen.add(match.receiver));
}

function descend(node: RouteConfig, labels: Labels, found: RouteMatch[]): void {
  let matchedChild = false;
  for (const child of node.routes) {
    if (!matchesAll(child.matchers, labels)) continue;
    matchedChild = true;
    descend(child, labels, found);
    if (!child.continue) break;
  }
  if (!matchedChild) found.push({ route: node, receiver: node.receiver, groupKey: groupKeyOf(node, labels) });
}

/** `group_by: ['...']` groups by every label (Alertmanager's notation): one notification per alert. */
function groupKeyOf(route: RouteConfig, labels: Labels): string {
  const names = route.groupBy.includes('...') ? Object.keys(labels).sort() : route.groupBy;
  const values = names.map((name) => `${name}=${JSON.stringify(labels[name] ?? '')}`);
  return `${route.id}{${values.join(',')}}`;
}
