/**
 * A closed-loop HTTP load generator, run as its own process so it does not
 * share the service's event loop: `concurrency` keep-alive connections each
 * send the next request as soon as the previous answer is read, for a fixed
 * time. Prints one JSON line: requests, errors, req/s, p50/p99 in ms.
 *   node http-load.ts <url> <concurrency> <seconds>
 */
import { Agent, request } from 'node:http';

const [url = '', concurrencyArg = '32', secondsArg = '10'] = process.argv.slice(2);
const concurrency = Number(concurrencyArg);
const durationMs = Number(secondsArg) * 1000;
const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
const target = new URL(url);
const latencies: number[] = [];
let errors = 0;
let statusErrors = 0;

function once(): Promise<void> {
  const started = performance.now();
  return new Promise((resolve) => {
    const req = request(
      { agent, host: target.hostname, port: target.port, path: `${target.pathname}${target.search}`, method: 'GET' },
      (res) => {
        res.on('data', () => undefined);
        res.on('end', () => {
          if (res.statusCode !== 200) statusErrors++;
          latencies.push(performance.now() - started);
          resolve();
        });
      },
    );
    req.on('error', () => {
      errors++;
      resolve();
    });
    req.end();
  });
}

const deadline = performance.now() + durationMs;
const began = performance.now();
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (performance.now() < deadline) await once();
  }),
);
const elapsed = (performance.now() - began) / 1000;
agent.destroy();
latencies.sort((a, b) => a - b);
const pick = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
console.log(
  JSON.stringify({
    requests: latencies.length,
    errors,
    non_200: statusErrors,
    rps: Math.round(latencies.length / elapsed),
    p50_ms: Math.round(pick(0.5) * 100) / 100,
    p99_ms: Math.round(pick(0.99) * 100) / 100,
  }),
);
