import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ValidationError } from '@auditflow/common';
import { backendListParams, backendStatsParams, bucketFor, isAlertId, pageQuery, parseFilters } from '../src/http/filters.ts';

const NOW = new Date('2026-03-01T12:00:00.000Z');

describe('parseFilters', () => {
  test('an empty query means the newest page of everything', () => {
    const filters = parseFilters({});
    assert.deepEqual(filters.severity, []);
    assert.equal(filters.range, undefined);
    assert.equal(filters.limit, 50);
    assert.deepEqual(backendListParams(filters, NOW, { paging: true }), { limit: 50 });
  });

  test('repeated and comma-separated severities are merged, upper-cased and deduplicated', () => {
    const filters = parseFilters({ severity: ['critical', 'HIGH,critical'] });
    assert.deepEqual(filters.severity, ['CRITICAL', 'HIGH']);
    assert.equal(backendListParams(filters, NOW, { paging: false }).severity, 'CRITICAL,HIGH');
  });

  test('a preset range becomes an absolute since at request time and ignores explicit times', () => {
    const filters = parseFilters({ range: '1h', since: '2020-01-01T00:00:00Z' });
    const params = backendListParams(filters, NOW, { paging: true });
    assert.equal(params.since, '2026-03-01T11:00:00.000Z');
    assert.equal('until' in params, false);
    assert.equal(pageQuery(filters).toString(), 'range=1h');
  });

  test('custom times are normalised to UTC; a bare datetime-local value is read as UTC', () => {
    const filters = parseFilters({ range: 'custom', since: '2026-02-28T10:00', until: '2026-03-01T01:00:00+01:00' });
    assert.equal(filters.since, '2026-02-28T10:00:00.000Z');
    assert.equal(filters.until, '2026-03-01T00:00:00.000Z');
    const stats = backendStatsParams(filters, NOW);
    assert.equal(stats.bucket, 'hour');
    assert.equal(stats.params.bucket, 'hour');
  });

  test('every filter maps onto the documented backend parameter', () => {
    const filters = parseFilters({ status: 'Open', rule_id: 'ANLY-SEC-001', user: 'bob', host: 'db-1', q: 'passwd', cursor: 'abc_-=', limit: '25' });
    const params = backendListParams(filters, NOW, { paging: true });
    assert.deepEqual(params, {
      limit: 25,
      status: 'open',
      rule_id: 'ANLY-SEC-001',
      user: 'bob',
      host: 'db-1',
      q: 'passwd',
      cursor: 'abc_-=',
    });
    assert.equal('cursor' in backendListParams(filters, NOW, { paging: false }), false);
  });

  test('stats without a time filter cover the last 24 hours by hour', () => {
    const { params, bucket } = backendStatsParams(parseFilters({}), NOW);
    assert.equal(bucket, 'hour');
    assert.equal(params.since, '2026-02-28T12:00:00.000Z');
    assert.equal('limit' in params, false);
  });

  test('buckets keep the chart between a handful and about 120 bars', () => {
    assert.equal(bucketFor(15 * 60_000), 'minute');
    assert.equal(bucketFor(3_600_000), 'minute');
    assert.equal(bucketFor(86_400_000), 'hour');
    assert.equal(bucketFor(7 * 86_400_000), 'day');
  });

  const bad: [string, Record<string, unknown>][] = [
    ['limit 0', { limit: '0' }],
    ['limit 501', { limit: '501' }],
    ['limit text', { limit: '10abc' }],
    ['status', { status: 'closed' }],
    ['range', { range: '2y' }],
    ['since', { since: 'yesterday' }],
    ['since without zone seconds garbage', { since: '2026-13-45T99:99' }],
    ['since after until', { since: '2026-03-01T00:00:00Z', until: '2026-02-01T00:00:00Z' }],
    ['severity with markup', { severity: '<script>' }],
    ['too many severities', { severity: 'A,B,C,D,E,F,G,H,I,J,K' }],
    ['control characters', { user: 'bob\u0000' }],
    ['over-long host', { host: 'h'.repeat(256) }],
    ['cursor with spaces', { cursor: 'a b' }],
    ['repeated single value', { status: ['open', 'resolved'] }],
  ];
  for (const [name, query] of bad) {
    test(`refuses ${name}`, () => {
      assert.throws(() => parseFilters(query), (error: unknown) => error instanceof ValidationError && error.code === 'AF_VALIDATION_FAILED');
    });
  }
});

describe('isAlertId', () => {
  test('accepts UUIDs only', () => {
    assert.equal(isAlertId('3f0c2a9e-8d1b-4c6e-9f7a-1b2c3d4e5f60'), true);
    assert.equal(isAlertId('3F0C2A9E-8D1B-4C6E-9F7A-1B2C3D4E5F60'), true);
    assert.equal(isAlertId('3f0c2a9e'), false);
    assert.equal(isAlertId('../alerts'), false);
    assert.equal(isAlertId('3f0c2a9e-8d1b-4c6e-9f7a-1b2c3d4e5f60?x=1'), false);
  });
});
