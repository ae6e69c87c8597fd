/**
 * A closed-loop HTTP load generator, run as its own process so it does not
 * share the service's event loop: `concurrency` keep-alive connections each
 * send the next request as soon as the previous answer is read, for a fixed
 * time. Prints one JSON line: requests, errors, req/s, p50/p99 in ms.
 *   node http-load.ts <url> <concurrency> <seconds>
 *
 * The bench prefers wrk (see api.bench.ts); this is the fallback when it is not
 * installed. On 2 cores the generator competes with the service and PostgreSQL,
 * so it speaks HTTP/1.1 on plain sockets: one prebuilt request, only the status
 * line and Content-Length parsed, body bytes counted but never copied. With
 * node:http's agent and response objects it cost as much CPU per request as a
 * third of the service. Every response is still read in full, and one that is
 * not a 200 or breaks the framing is counted.
 */
import { connect, type Socket } from 'node:net';

const [url = '', concurrencyArg = '32', secondsArg = '10'] = process.argv.slice(2);
const concurrency = Number(concurrencyArg);
const durationMs = Number(secondsArg) * 1000;
const target = new URL(url);
const port = Number(target.port || 80);
const request = Buffer.from(
  `GET ${target.pathname}${target.search} HTTP/1.1\r\nHost: ${target.host}\r\nAccept: application/json\r\n\r\n`,
  'latin1',
);
const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');
const CONTENT_LENGTH = /\r\ncontent-length:[ \t]*(\d+)/i;

let latencies = new Float64Array(1 << 16);
let count = 0;
let errors = 0;
let statusErrors = 0;
const deadline = performance.now() + durationMs;

function record(ms: number): void {
  if (count === latencies.length) {
    const grown = new Float64Array(latencies.length * 2);
    grown.set(latencies);
    latencies = grown;
  }
  latencies[count++] = ms;
}

/** One connection's loop; resolves when the deadline has passed and its last answer is in. */
function drive(): Promise<void> {
  return new Promise((resolve) => {
    let socket: Socket;
    let head: Buffer | undefined;
    let bodyLeft = -1;
    let status = 0;
    let started = 0;
    let waiting = false;
    let done = false;

    const stop = (): void => {
      done = true;
      socket.end();
      resolve();
    };

    const send = (): void => {
      if (performance.now() >= deadline) {
        stop();
        return;
      }
      head = undefined;
      bodyLeft = -1;
      waiting = true;
      started = performance.now();
      socket.write(request);
    };

    const finish = (): void => {
      waiting = false;
      if (status !== 200) statusErrors++;
      record(performance.now() - started);
      send();
    };

    // A broken answer or a connection lost mid-request counts once, then a new connection carries on.
    const fail = (): void => {
      if (done) return;
      if (waiting) errors++;
      waiting = false;
      socket.removeAllListeners();
      socket.on('error', () => undefined);
      socket.destroy();
      if (performance.now() >= deadline) {
        done = true;
        resolve();
      } else open();
    };

    const onData = (chunk: Buffer): void => {
      if (bodyLeft >= 0) {
        bodyLeft -= chunk.length;
      } else {
        head = head === undefined ? chunk : Buffer.concat([head, chunk]);
        const end = head.indexOf(HEAD_END);
        if (end < 0) return;
        const text = head.toString('latin1', 0, end);
        const length = CONTENT_LENGTH.exec(text);
        if (!text.startsWith('HTTP/1.1 ') || length === null) {
          fail();
          return;
        }
        status = Number(text.slice(9, 12));
        bodyLeft = Number(length[1]) - (head.length - end - HEAD_END.length);
        head = undefined;
      }
      if (bodyLeft === 0) finish();
      else if (bodyLeft < 0) fail();
    };

    const open = (): void => {
      socket = connect({ host: target.hostname, port, noDelay: true });
      socket.on('connect', send);
      socket.on('data', onData);
      socket.on('error', fail);
      socket.on('close', fail);
    };
    open();
  });
}

const began = performance.now();
await Promise.all(Array.from({ length: concurrency }, drive));
const elapsed = (performance.now() - began) / 1000;
const sorted = latencies.subarray(0, count).sort();
const pick = (q: number) => sorted[Math.min(count - 1, Math.floor(q * count))] ?? 0;
console.log(
  JSON.stringify({
    requests: count,
    errors,
    non_200: statusErrors,
    rps: Math.round(count / elapsed),
    p50_ms: Math.round(pick(0.5) * 100) / 100,
    p99_ms: Math.round(pick(0.99) * 100) / 100,
  }),
);
