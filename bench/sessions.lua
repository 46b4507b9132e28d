-- wrk's side of the web benchmarks (bench/load.py, bench/sponsor_home.py).
--
-- Environment:
--   WRK_SESSIONS  file of logged-in sessions, one per line: cookie TAB prisoner id TAB the
--                 urlencoded "log an action" form (bench/common.py writes it)
--   WRK_PATH      if set: every request is GET WRK_PATH with the first session's cookie,
--                 and a response counts only if it is 200 and contains WRK_EXPECT
--   WRK_ACCEPT_ENCODING  if set (with WRK_PATH): sent as Accept-Encoding, as browsers do; a
--                 200 answered with that Content-Encoding counts without the marker (which
--                 the caller checks once in the decoded body beforehand)
--   WRK_PAUSE_MS  otherwise (the godparents' loop): pause between a thread's requests
--   WRK_ACTION_EVERY  log an action after every n-th home view (default 5)
--
-- In the loop each wrk thread is one godparent (run with as many threads as connections):
-- GET /sponsor/ (200 with godchild cards, or it is an error), and after every fifth view a
-- POST of the action form (302 to the godchild's page, or it is an error). Latencies are
-- measured here per kind with the monotonic clock, from the moment a request is built to
-- its response, and summed up in done() as one "RESULT {json}" line.

local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } wrk_timespec;
int clock_gettime(int clock_id, wrk_timespec *tp);
]]
local clock = ffi.new("wrk_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, clock)  -- CLOCK_MONOTONIC
  return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6
end

local threads = {}
local next_id = 0

function setup(thread)
  next_id = next_id + 1
  thread:set("thread_id", next_id)
  table.insert(threads, thread)
end

local function read_sessions(path)
  local found = {}
  for line in io.lines(path) do
    local cookie, prisoner, body = line:match("^([^\t]+)\t([^\t]+)\t([^\t]*)$")
    if cookie then table.insert(found, {cookie = cookie, prisoner = prisoner, body = body}) end
  end
  return found
end

function init(args)
  local sessions = read_sessions(os.getenv("WRK_SESSIONS"))
  session = sessions[((thread_id - 1) % #sessions) + 1]
  fixed_path = os.getenv("WRK_PATH")
  accept_encoding = os.getenv("WRK_ACCEPT_ENCODING")
  expect = os.getenv("WRK_EXPECT") or ""
  pause = tonumber(os.getenv("WRK_PAUSE_MS") or "0")
  action_every = tonumber(os.getenv("WRK_ACTION_EVERY") or "5")
  views, action_due, kind, started = 0, false, "home", 0
  home_ms, action_ms = {}, {}
  errors, first_error = 0, ""
  if fixed_path then session = sessions[1] end
  alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
  math.randomseed(os.time() * 1000 + thread_id)
end

function delay()
  return pause
end

function request()
  started = now_ms()
  if fixed_path then
    kind = "home"
    local sent = {Cookie = session.cookie}
    if accept_encoding then sent["Accept-Encoding"] = accept_encoding end
    return wrk.format("GET", fixed_path, sent)
  end
  if action_due then
    action_due, kind = false, "action"
    -- A new form each time, as a browser that opened the form again: its own form_token.
    local token = {}
    for i = 1, 32 do token[i] = string.char(alphabet:byte(math.random(1, #alphabet))) end
    return wrk.format("POST", "/sponsor/prisoners/" .. session.prisoner .. "/actions/new",
                      {Cookie = session.cookie,
                       ["Content-Type"] = "application/x-www-form-urlencoded"},
                      session.body .. "&form_token=" .. table.concat(token))
  end
  kind, views = "home", views + 1
  if views % action_every == 0 then action_due = true end
  return wrk.format("GET", "/sponsor/", {Cookie = session.cookie})
end

local function failed(what)
  errors = errors + 1
  if first_error == "" then first_error = what end
end

function response(status, headers, body)
  local elapsed = now_ms() - started
  if kind == "home" then
    local marker = fixed_path and expect or 'class="card'
    local encoded = accept_encoding and headers["Content-Encoding"] == accept_encoding
    if status == 200 and (encoded or body:find(marker, 1, true)) then
      table.insert(home_ms, elapsed)
    else
      failed(kind .. ": status " .. status)
    end
  else
    local location = headers["Location"] or headers["location"] or ""
    if status == 302 and location:find("/sponsor/prisoners/", 1, true) then
      table.insert(action_ms, elapsed)
    else
      failed(kind .. ": status " .. status .. " to " .. location)
    end
  end
end

local function percentile(sorted, fraction)
  if #sorted == 0 then return nil end
  local index = math.max(1, math.min(#sorted, math.ceil(fraction * #sorted)))
  return sorted[index]
end

local function summary_of(values)
  table.sort(values)
  local total = 0
  for _, v in ipairs(values) do total = total + v end
  return {count = #values, p50 = percentile(values, 0.50), p95 = percentile(values, 0.95),
          p99 = percentile(values, 0.99), max = values[#values],
          mean = #values > 0 and total / #values or nil}
end

local function json(value)
  if type(value) == "table" then
    local parts = {}
    for k, v in pairs(value) do table.insert(parts, string.format("%q:%s", k, json(v))) end
    return "{" .. table.concat(parts, ",") .. "}"
  elseif type(value) == "number" then
    return string.format("%.3f", value)
  elseif type(value) == "string" then
    return string.format("%q", value)
  end
  return "null"
end

function done(summary, latency, requests)
  local homes, actions, errs, first = {}, {}, 0, ""
  for _, thread in ipairs(threads) do
    for _, v in ipairs(thread:get("home_ms")) do table.insert(homes, v) end
    for _, v in ipairs(thread:get("action_ms")) do table.insert(actions, v) end
    errs = errs + thread:get("errors")
    if first == "" then first = thread:get("first_error") end
  end
  local socket = summary.errors
  local result = {
    home = summary_of(homes), action = summary_of(actions),
    errors = errs + socket.connect + socket.read + socket.write + socket.timeout,
    checked_errors = errs, first_error = first,
    socket_errors = socket.connect + socket.read + socket.write + socket.timeout,
    status_errors = socket.status, requests = summary.requests,
    seconds = summary.duration / 1e6,
  }
  io.write("RESULT " .. json(result) .. "\n")
end
