-- wrk script: spreads requests over a list of paths (one per line in the file named by env PATHS) and
-- paces each connection with a fixed delay so the total rate stays near the target.
local paths = {}
for line in io.lines(os.getenv("PATHS")) do paths[#paths + 1] = line end
local token = os.getenv("TOKEN")
local pause = tonumber(os.getenv("DELAY_MS") or "0")
local i = 0

function setup(thread)
  thread:set("id", math.random(1, 1000000))
end

function request()
  i = i + 1
  local p = paths[((i + id) % #paths) + 1]
  return wrk.format("GET", p, { ["Authorization"] = "Bearer " .. token })
end

function delay()
  return pause
end

function done(summary, latency, requests)
  io.write(string.format("RESULT requests=%d errors_status=%d duration_s=%.1f rate=%.0f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f\n",
    summary.requests, summary.errors.status, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
