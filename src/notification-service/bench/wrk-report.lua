-- Prints wrk's result as the one JSON line api.bench.ts reads (the same fields as http-load.ts).
-- wrk counts answers with a status of 400 or more under errors.status: those are non_200 here.
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"errors":%d,"non_200":%d,"rps":%d,"p50_ms":%.2f,"p99_ms":%.2f}\n',
    summary.requests,
    e.connect + e.read + e.write + e.timeout,
    e.status,
    math.floor(summary.requests / (summary.duration / 1e6) + 0.5),
    latency:percentile(50) / 1000,
    latency:percentile(99) / 1000))
end
