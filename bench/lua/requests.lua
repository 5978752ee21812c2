-- wrk script: requests come from a tab-separated file (method, path, bearer token, JSON body; the last two may be
-- empty). Each wrk thread takes every n-th line and sends its lines in order, wrapping around at the end; `done`
-- writes a JSON summary for bench/load.py to the file named by $WRK_SUMMARY_PATH (`done` runs in wrk's main Lua
-- state, which never sees the thread arguments).
-- Arguments after `--`: <requests.tsv> <thread count>

local thread_counter = 0

function setup(thread)
  thread:set("thread_index", thread_counter)
  thread_counter = thread_counter + 1
end

function init(args)
  local thread_count = tonumber(args[2])
  prepared = {}
  local line_number = 0
  for line in io.lines(args[1]) do
    if line_number % thread_count == thread_index then
      local method, path, token, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
      local headers = {}
      if token ~= "" then
        headers["Authorization"] = "Bearer " .. token
      end
      if body == "" then
        body = nil
      else
        headers["Content-Type"] = "application/json"
      end
      prepared[#prepared + 1] = wrk.format(method, path, headers, body)
    end
    line_number = line_number + 1
  end
  next_index = 1
end

function request()
  local next_request = prepared[next_index]
  next_index = next_index + 1
  if next_index > #prepared then
    next_index = 1
  end
  return next_request
end

function done(summary, latency, requests)
  local errors = summary.errors
  local file = assert(io.open(os.getenv("WRK_SUMMARY_PATH"), "w"))
  file:write(string.format(
    '{"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"latency_us": {"p50": %d, "p90": %d, "p99": %d, "max": %d, "mean": %.1f}}\n',
    summary.requests, summary.duration, summary.bytes,
    errors.connect, errors.read, errors.write, errors.status, errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
  file:close()
end
