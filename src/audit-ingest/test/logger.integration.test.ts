import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { waitFor } from '../../common/test/support.ts';
import { cleanup, QueueCollector, type RunningAnalysis, startTestAnalysis, testNames } from '../../audit-log-analysis/test/integration-support.ts';
import { expectedLinuxAlerts, type LinuxLine, linuxLines } from './samples.ts';
import { type RunningIngest, signatures, startTestIngest } from './support.ts';

const run = promisify(execFile);

const FACILITIES = ['kern', 'user', 'mail', 'daemon', 'auth', 'syslog', 'lpr', 'news', 'uucp', 'cron', 'authpriv'];
const LEVELS = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'];

/** logger's -p takes `facility.level` names only. */
function priorityName(pri: number): string {
  return `${FACILITIES[pri >> 3]}.${LEVELS[pri & 7]}`;
}

/**
 * The samples sent by util-linux `logger`, the tool an operator tries first:
 * over TCP in RFC 5424 with octet counting, and over UDP in RFC 3164. Each
 * transport gets its own analysis, since logger always names this machine as
 * the host and the two runs would otherwise share alert episodes.
 */
for (const transport of [
  { label: 'TCP, RFC 5424, octet counting', flags: ['-T', '--rfc5424', '--octet-count'], ip: { brute: '203.0.113.30', spray: '198.51.100.30', admin: '192.0.2.30' } },
  { label: 'UDP, RFC 3164', flags: ['-d', '--rfc3164'], ip: { brute: '203.0.113.31', spray: '198.51.100.31', admin: '192.0.2.31' } },
]) {
  describe(`logger over ${transport.label}`, () => {
    const names = testNames('ingest-logger');
    let analysis: RunningAnalysis;
    let ingest: RunningIngest;
    let alerts: QueueCollector;
    let dir: string;
    // logger writes gethostname(); RFC 3164 and 5424 both carry it as HOSTNAME.
    const host = hostname();

    before(async () => {
      analysis = await startTestAnalysis(names);
      ingest = await startTestIngest(names);
      alerts = new QueueCollector(names.alertQueue);
      dir = await mkdtemp(join(tmpdir(), 'af-logger-'));
      const byProgram = new Map<string, LinuxLine[]>();
      for (const line of linuxLines(transport.ip)) byProgram.set(line.program, [...(byProgram.get(line.program) ?? []), line]);
      const port = String(ingest.handle.syslog!.tcpPort);
      for (const [program, lines] of byProgram) {
        const file = join(dir, `${program}.log`);
        await writeFile(file, `${lines.map((line) => line.message).join('\n')}\n`);
        await run('logger', ['-n', '127.0.0.1', '-P', port, ...transport.flags, '-t', program, `--id=${lines[0]!.pid}`, '-p', priorityName(lines[0]!.pri), '-f', file]);
      }
      const expected = expectedLinuxAlerts(host, transport.ip);
      await waitFor(() => signatures(alerts.alerts).length >= expected.length || undefined, 30_000, 'the expected alerts');
      await new Promise((resolve) => setTimeout(resolve, 1000));
    });

    after(async () => {
      await alerts.close();
      await ingest.stop();
      await analysis.stop();
      await cleanup(names);
      await rm(dir, { recursive: true, force: true });
    });

    test('raises exactly the expected alerts', () => {
      assert.deepEqual(signatures(alerts.alerts), expectedLinuxAlerts(host, transport.ip));
    });

    test('the events keep the line logger sent', () => {
      const alert = alerts.alerts.find((a) => a.analysis_rule?.rule_id === 'ANLY-SRC-006')!;
      const source = alert.raw_event_data['source'] as { kind: string; transport: string; original: string };
      assert.equal(source.kind, 'syslog');
      assert.equal(source.transport, transport.flags[0] === '-T' ? 'tcp' : 'udp');
      assert.match(source.original, /sudo(\[\d+\]:| \d+ - ).*alice : TTY=pts\/1 ; PWD=\/home\/alice ; USER=root ; COMMAND=\/usr\/bin\/cat \/etc\/shadow$/);
    });
  });
}
