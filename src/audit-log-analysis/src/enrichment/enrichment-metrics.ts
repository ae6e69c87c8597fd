import { Counter, Gauge, type Registry } from '@auditflow/common';
import type { IpDatabase } from './ip-database.ts';

/** Metrics of the enrichment (docs/observability.md), on the service's registry. */
export class EnrichmentMetrics {
  readonly #cache: Counter<'result'>;
  readonly #lookups: Counter<'database'>;
  readonly #hosts: Counter<'result'>;
  readonly #info: Gauge<'database' | 'format' | 'build_date'>;
  readonly #hits: { inc(): void };
  readonly #misses: { inc(): void };

  constructor(registry: Registry) {
    const registers = [registry];
    this.#cache = new Counter({
      name: 'audit_analysis_enrichment_cache_total',
      help: 'Source addresses enriched, by whether the answer came from the cache',
      labelNames: ['result'],
      registers,
    });
    this.#lookups = new Counter({
      name: 'audit_analysis_enrichment_lookups_total',
      help: 'Lookups of public addresses in the offline databases (cache misses only)',
      labelNames: ['database'],
      registers,
    });
    this.#hosts = new Counter({
      name: 'audit_analysis_enrichment_hosts_total',
      help: 'Event hosts looked up in the hosts file, by whether it knows them',
      labelNames: ['result'],
      registers,
    });
    this.#info = new Gauge({
      name: 'audit_analysis_enrichment_database_info',
      help: 'The offline databases in use (value 1), with their format and build date',
      labelNames: ['database', 'format', 'build_date'],
      registers,
    });
    this.#hits = this.#cache.labels({ result: 'hit' });
    this.#misses = this.#cache.labels({ result: 'miss' });
  }

  cacheHit(): void {
    this.#hits.inc();
  }

  cacheMiss(): void {
    this.#misses.inc();
  }

  lookup(database: 'country' | 'asn'): void {
    this.#lookups.inc({ database });
  }

  host(known: boolean): void {
    this.#hosts.inc({ result: known ? 'known' : 'unknown' });
  }

  database(name: 'country' | 'asn', database: IpDatabase<unknown>): void {
    this.#info.set({ database: name, format: database.format, build_date: database.buildDate?.toISOString().slice(0, 10) ?? 'unknown' }, 1);
  }
}
