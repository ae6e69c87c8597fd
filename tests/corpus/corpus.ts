import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

/**
 * The labelled corpus (tests/corpus/*.yaml): cases of Linux program lines and
 * Kubernetes audit events, each with the alerts it must raise, expanded into
 * one variant per wire format with names and addresses unique to the variant.
 */
export const CORPUS_DIR = import.meta.dirname;

export const LINUX_FORMATS = ['rfc3164', 'rfc5424', 'journald'] as const;
export const K8S_FORMATS = ['eventlist', 'ndjson'] as const;
export type LinuxFormat = (typeof LINUX_FORMATS)[number];
export type K8sFormat = (typeof K8S_FORMATS)[number];

interface CaseBase {
  id: string;
  label: 'attack' | 'benign';
  why?: string;
  /** Rule ids of the alerts the case raises; a rule listed twice raises two alerts. */
  expect: string[];
  /** Alert `count` per rule where the number of events folded in matters. */
  counts?: Record<string, number>;
}
export interface LinuxCase extends CaseBase {
  kind: 'linux';
  formats?: LinuxFormat[];
  /** `program[pid]: message`. */
  lines: string[];
}
export interface K8sCase extends CaseBase {
  kind: 'k8s';
  formats?: K8sFormat[];
  repeat?: number;
  events: Record<string, unknown>[];
}
export type CorpusCase = LinuxCase | K8sCase;

export interface LinuxLine {
  program: string;
  pid: number;
  message: string;
}

export interface Variant {
  /** Unique tag: case number and format letter. */
  tag: string;
  case: CorpusCase;
  format: LinuxFormat | K8sFormat;
  /** Host of a Linux variant. */
  host?: string;
  lines?: LinuxLine[];
  events?: Record<string, unknown>[];
  /** auditIDs of a Kubernetes variant, to tell its alerts from the others'. */
  auditIds?: Set<string>;
}

export function loadCorpus(dir = CORPUS_DIR): CorpusCase[] {
  const linux = (parse(readFileSync(join(dir, 'linux.yaml'), 'utf8')) as Omit<LinuxCase, 'kind'>[]).map((c) => ({ ...c, kind: 'linux' as const }));
  const k8s = (parse(readFileSync(join(dir, 'kubernetes.yaml'), 'utf8')) as Omit<K8sCase, 'kind'>[]).map((c) => ({ ...c, kind: 'k8s' as const }));
  const cases: CorpusCase[] = [...linux, ...k8s];
  const ids = new Set<string>();
  for (const c of cases) {
    if (ids.has(c.id)) throw new Error(`corpus case id ${c.id} is used twice`);
    ids.add(c.id);
    if (c.label === 'benign' && c.expect.length > 0) throw new Error(`benign corpus case ${c.id} expects alerts`);
    if (c.label === 'attack' && c.expect.length === 0) throw new Error(`attack corpus case ${c.id} expects no alert`);
  }
  return cases;
}

const LINE = /^([^\s[\]]+)\[(\d+)\]: (.*)$/;

export function parseLine(line: string): LinuxLine {
  const match = LINE.exec(line);
  if (!match) throw new Error(`corpus line is not "program[pid]: message": ${line}`);
  return { program: match[1]!, pid: Number(match[2]), message: match[3]! };
}

/** A deterministic UUID-shaped id from text, so variants and reruns are reproducible. */
function uuidOf(text: string): string {
  const hex = createHash('sha256').update(text).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * Every case in each of its formats. `run` makes audit ids unique to one
 * test run; `nowMs` is the time the events claim (RFC 3164 lines a second
 * apart, so ordered rules see the order).
 */
export function expandCorpus(cases: readonly CorpusCase[], run: string, nowMs: number): Variant[] {
  const variants: Variant[] = [];
  cases.forEach((c, index) => {
    const number = String(index + 1).padStart(2, '0');
    if (c.kind === 'linux') {
      (c.formats ?? LINUX_FORMATS).forEach((format, f) => {
        const tag = `l${number}${'abc'[f]}`;
        const fill = (text: string) =>
          text
            .replaceAll('{ip}', `198.18.${index}.${f * 16 + 1}`)
            .replaceAll('{ip2}', `198.18.${index}.${f * 16 + 2}`)
            .replaceAll('{ip6}', `2001:db8:${(index + 1).toString(16)}:${f}::1`)
            .replaceAll('{epoch}', String(Math.floor(nowMs / 1000)));
        variants.push({ tag, case: c, format, host: `corpus-${tag}`, lines: c.lines.map((line) => parseLine(fill(line))) });
      });
    } else {
      (c.formats ?? K8S_FORMATS).forEach((format, f) => {
        const tag = `k${number}${'ab'[f]}`;
        const ip = `198.19.${index}.${f * 16 + 1}`;
        const auditIds = new Set<string>();
        const events: Record<string, unknown>[] = [];
        for (let r = 0; r < (c.repeat ?? 1); r++) {
          c.events.forEach((template, e) => {
            const filled = JSON.parse(
              JSON.stringify(template)
                .replaceAll('{v}', tag)
                .replaceAll('{ip}', ip)
                .replaceAll('{now}', new Date(nowMs).toISOString()),
            ) as Record<string, unknown>;
            const token = typeof filled['auditID'] === 'string' ? filled['auditID'] : `${r}-${e}`;
            const auditId = uuidOf(`${run}|${tag}|${token}`);
            auditIds.add(auditId);
            const at = new Date(nowMs + (r * c.events.length + e) * 10).toISOString().replace('Z', '000Z');
            const { auditID: _token, ...rest } = filled;
            events.push({
              kind: 'Event',
              apiVersion: 'audit.k8s.io/v1',
              level: rest['requestObject'] ? 'Request' : 'Metadata',
              auditID: auditId,
              stage: 'ResponseComplete',
              ...(rest['timestamp'] === undefined ? { requestReceivedTimestamp: at, stageTimestamp: at } : {}),
              annotations: { 'authorization.k8s.io/decision': 'allow', 'authorization.k8s.io/reason': '' },
              ...rest,
            });
          });
        }
        variants.push({ tag, case: c, format, events, auditIds });
      });
    }
  });
  return variants;
}
