import { loadGeneratorConfig, type GeneratorHandle, startGenerator, type StartGeneratorOptions } from '../src/index.ts';
import { silentLogger } from '../../common/test/support.ts';
import type { FakeBroker } from './fake-broker.ts';

/** A generator on ephemeral loopback ports with both background schedules off unless `env` turns them on. */
export async function startTestGenerator(
  broker: FakeBroker | StartGeneratorOptions['broker'],
  env: Record<string, string> = {},
  extra: Partial<StartGeneratorOptions> = {},
): Promise<GeneratorHandle> {
  const config = {
    ...loadGeneratorConfig({
      APP_PORT: '0',
      PROMETHEUS_PORT: '0',
      EVENTS_PER_SECOND: '0',
      SCENARIO_INTERVAL_SECONDS: '0',
      ...env,
    }),
    host: '127.0.0.1',
  };
  return startGenerator({ config, logger: silentLogger, broker, ...extra });
}

export async function metricsText(handle: GeneratorHandle): Promise<string> {
  const response = await handle.metricsApp.inject({ method: 'GET', url: '/metrics' });
  return response.body;
}

/** The value of one sample in the Prometheus text format, or undefined when absent. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const match = /^[^{\s]+(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!match) continue;
    const present = Object.fromEntries(
      [...(match[1] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (Object.entries(labels).every(([key, value]) => present[key] === value)) return Number(match[2]);
  }
  return undefined;
}
