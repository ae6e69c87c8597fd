import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { escapeHtml, html, raw } from '../assets/js/html.js';
import { chartHtml, fillTimeline, historyHtml, severityKey, statusPanelHtml } from '../assets/js/render.js';
import { groupHeadHtml, tableRowHtml } from '../assets/js/table.js';
import { safeHttpUrl } from '../src/views/detail-page.ts';

describe('html escaping', () => {
  test('escapes every character that could open markup or leave an attribute', () => {
    assert.equal(escapeHtml(`<a href="x" onclick='y'>&\``), '&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&#96;');
    assert.equal(html`<p title="${'"><script>'}">${'<b>'}</p>`.toString(), '<p title="&quot;&gt;&lt;script&gt;">&lt;b&gt;</p>');
    assert.equal(html`<p>${raw('<b>ok</b>')}${['<i>', html`<i>`]}</p>`.toString(), '<p><b>ok</b>&lt;i&gt;<i></p>');
  });

  test('no string survives escaping with markup characters in it (property)', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const out = escapeHtml(text);
        assert.ok(!/[<>"'`]/.test(out));
      }),
    );
  });

  test('a row built from arbitrary field values never carries them as markup (property)', () => {
    const evil = fc.oneof(fc.string(), fc.constantFrom('<x-evil>', '"><x-evil a="', "'><x-evil>", '</li><x-evil>'));
    fc.assert(
      fc.property(fc.record({ alert_id: evil, alert_name: evil, description: evil, severity: evil, status: evil, actor_id: evil, server_hostname: evil, rule_name: evil, rule_id: evil, count: fc.oneof(fc.integer(), evil) }), (row) => {
        const out = tableRowHtml(row).toString() + groupHeadHtml({ key: row.rule_id, label: row.rule_name }, 1, 'rule').toString();
        assert.ok(!out.includes('<x-evil'));
        const panel = statusPanelHtml({ ...row, history: [{ actor: row.actor_id, note: row.description, to_status: row.status }] }, { actionsEnabled: true }).toString();
        assert.ok(!panel.includes('<x-evil'));
      }),
    );
  });
});

describe('alert views', () => {
  test('legacy and unknown severities map onto the five levels or "other"', () => {
    assert.equal(severityKey('CRITICAL'), 'critical');
    assert.equal(severityKey('warning'), 'medium');
    assert.equal(severityKey('ERROR'), 'high');
    assert.equal(severityKey('weird'), 'other');
    assert.equal(severityKey(undefined), 'other');
  });

  test('actions follow the status, and disabled actions explain why', () => {
    const open = statusPanelHtml({ alert_id: 'a', status: 'open' }, { actionsEnabled: true }).toString();
    assert.match(open, />Acknowledge</);
    assert.match(open, />Resolve</);
    assert.doesNotMatch(open, />Reopen</);
    const resolved = statusPanelHtml({ alert_id: 'a', status: 'resolved' }, { actionsEnabled: false }).toString();
    assert.match(resolved, />Reopen</);
    assert.match(resolved, /disabled aria-describedby="actions-disabled"/);
    assert.match(resolved, /NOTIFICATION_API_TOKEN/);
  });

  test('history lists each change with actor and note', () => {
    const out = historyHtml([{ from_status: 'open', to_status: 'acknowledged', actor: 'ops', note: 'mine', at: '2026-01-01T00:00:00Z' }]).toString();
    assert.match(out, /datetime="2026-01-01T00:00:00.000Z"/);
    assert.match(out, /by ops/);
    assert.match(out, /<q>mine<\/q>/);
    assert.match(historyHtml(undefined).toString(), /No status changes yet/);
  });

  test('history is one timeline: status changes and response steps ordered by time, each with who or which rule', () => {
    const status = [
      { from_status: null, to_status: 'open', actor: 'analysis', at: '2026-01-01T00:00:00Z' },
      { from_status: 'open', to_status: 'acknowledged', actor: 'ops', at: '2026-01-01T00:03:00Z' },
    ];
    const rule = 'rule ANLY-SEC-001 via output crowdsec';
    const steps = [
      { decision_id: 'd', action: 'decided', actor: rule, detail: 'ban 203.0.113.7 for 4h (enforce)', at: '2026-01-01T00:00:01Z' },
      { decision_id: 'd', action: 'push-failed', actor: 'output crowdsec', detail: 'fetch failed', at: '2026-01-01T00:00:02Z' },
      { decision_id: 'd', action: 'pushed', actor: 'output crowdsec', detail: 'LAPI alert 1', at: '2026-01-01T00:01:00Z' },
      { decision_id: 'd', action: 'undone', actor: 'event-audit-dashboard user at 192.0.2.1', detail: null, at: '2026-01-01T00:05:00Z' },
      { decision_id: 'e', action: 'skipped', actor: rule, detail: 'allowlisted (10.0.0.0/8)', at: '2026-01-01T00:02:00Z' },
      { decision_id: 'f', action: 'recorded', actor: rule, detail: 'ban 203.0.113.8 for 4h (dry-run)', at: '2026-01-01T00:04:00Z' },
    ];
    const out = historyHtml(status, steps).toString();
    const items = [...out.matchAll(/<li data-history-kind="(\w+)"(?: data-response-action="([\w-]+)")?>.*?<\/li>/g)];
    assert.deepEqual(
      items.map((m) => m[2] ?? m[1]),
      ['status', 'decided', 'push-failed', 'pushed', 'skipped', 'status', 'recorded', 'undone'],
      'ordered by time, both kinds interleaved',
    );
    const text = (action: string) => items.find((m) => m[2] === action)![0];
    assert.match(text('decided'), new RegExp(`Ban decided</span> <span class="muted">by ${rule}</span><q>ban 203\\.0\\.113\\.7 for 4h`));
    assert.match(text('recorded'), /Ban recorded \(dry run\)/);
    assert.match(text('skipped'), /Ban skipped.*<q>allowlisted \(10\.0\.0\.0\/8\)<\/q>/);
    assert.match(text('push-failed'), /Ban push failed.*by output crowdsec.*<q>fetch failed<\/q>/);
    assert.match(text('pushed'), /Ban pushed to CrowdSec/);
    assert.match(text('undone'), /Ban undone<\/span> <span class="muted">by event-audit-dashboard user at 192\.0\.2\.1<\/span>/);
    // The status panel passes the steps through; without them it is the status history alone.
    const panel = statusPanelHtml({ alert_id: 'a', status: 'open', history: status }, { actionsEnabled: true, responseEvents: steps }).toString();
    assert.match(panel, /data-response-action="undone"/);
    assert.doesNotMatch(statusPanelHtml({ alert_id: 'a', status: 'open', history: status }, { actionsEnabled: true }).toString(), /data-history-kind="response"/);
    assert.match(historyHtml([], steps.slice(0, 1)).toString(), /Ban decided/, 'steps alone still make a history');
  });

  test('the timeline is filled with empty buckets and the chart has a text alternative', () => {
    const since = Date.parse('2026-01-01T00:00:00Z');
    const points = fillTimeline([{ bucket: '2026-01-01T02:00:00Z', counts: { CRITICAL: 2, WARNING: 1 } }], 'hour', since, since + 5 * 3_600_000);
    assert.equal(points.length, 6);
    assert.deepEqual(points[2]?.counts, { CRITICAL: 2, WARNING: 1 });
    assert.deepEqual(points[0]?.counts, {});
    const chart = chartHtml(points, { label: (iso) => iso.slice(11, 16), caption: 'Alerts' }).toString();
    assert.match(chart, /role="img"/);
    assert.match(chart, /<desc id="chart-desc">3 alerts in 6 intervals/);
    assert.match(chart, /class="bar-critical"/);
    assert.match(chart, /class="bar-medium"/);
    assert.match(chart, /<th scope="row">02:00<\/th><td>2<\/td><td>0<\/td><td>1<\/td>/);
  });

  test('only http(s) playbook URLs are links', () => {
    assert.equal(safeHttpUrl('https://example.com/p'), 'https://example.com/p');
    assert.equal(safeHttpUrl('http://example.com/p'), 'http://example.com/p');
    assert.equal(safeHttpUrl('javascript:alert(1)'), undefined);
    assert.equal(safeHttpUrl('JaVaScRiPt:alert(1)'), undefined);
    assert.equal(safeHttpUrl('data:text/html,<script>'), undefined);
    assert.equal(safeHttpUrl('/relative'), undefined);
    assert.equal(safeHttpUrl(42), undefined);
  });
});

describe('declarations of the shared browser modules', () => {
  // The server imports html.js and render.js through hand-written .d.ts files: keep them in step.
  for (const name of ['html', 'render']) {
    test(`${name}.d.ts declares exactly what ${name}.js exports`, async () => {
      const { readFile } = await import('node:fs/promises');
      const declared = (await readFile(new URL(`../assets/js/${name}.d.ts`, import.meta.url), 'utf8')).matchAll(
        /export declare (?:function|const|class) (\w+)/g,
      );
      const module = (await import(`../assets/js/${name}.js`)) as Record<string, unknown>;
      assert.deepEqual(new Set([...declared].map((m) => m[1])), new Set(Object.keys(module)));
    });
  }
});
