-- wrk script for bench_flow.py: each connection is one respondent after another, taking the
-- whole flow. Run with as many threads as connections (wrk -tN -cN): a wrk thread's state is
-- then one connection's, so cookies and the page's CSRF token stay with their respondent.
-- FLOW_FILE holds "token<TAB>answers (urlencoded)" per line; threads take disjoint lines.
-- FLOW_PREFIX: "/s" (product), "/b" (same steps: open, page, POST, thanks), "/m" (minimal: form, POST).
local threads = {}
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local flows = {}
local idx = 0
local step = 0
local cookie = nil
local location = nil
local csrf, nonce = "", ""
completed = 0
failed = 0
exhausted = 0 -- flows started after this thread's links ran out (not counted as flows)
local prefix, minimal
local idle = false -- the request in flight only marks time (this thread is out of links)

function init(args)
  local n = tonumber(os.getenv("FLOW_THREADS"))
  prefix = os.getenv("FLOW_PREFIX")
  minimal = prefix == "/m"
  local i = 0
  for line in io.lines(os.getenv("FLOW_FILE")) do
    if i % n == tid then
      local token, answers = line:match("^([^\t]*)\t(.*)$")
      flows[#flows + 1] = {token, answers}
    end
    i = i + 1
  end
  links = #flows
end

local function headers()
  local h = {}
  if cookie then h["Cookie"] = cookie end
  return h
end

function request()
  if step == 0 then
    idx = idx + 1
    if idx > #flows then
      -- Out of links: reusing one would be a 404 (a used link) counted as a driver fault, so
      -- this thread only marks time with a cheap request and says how often it ran out.
      idx = #flows
      exhausted = exhausted + 1
      idle = true
      return wrk.format("GET", "/robots-out-of-links")
    end
    cookie = nil
    if minimal then return wrk.format("GET", prefix .. "/" .. flows[idx][1]) end
    return wrk.format("GET", prefix .. "/t/" .. flows[idx][1])
  end
  local h = headers()
  if step == 1 and minimal then
    h["Content-Type"] = "application/x-www-form-urlencoded"
    return wrk.format("POST", prefix .. "/" .. flows[idx][1], h, "submission_nonce=" .. nonce .. "&" .. flows[idx][2])
  end
  if step == 2 then
    h["Content-Type"] = "application/x-www-form-urlencoded"
    local body = "csrf_token=" .. csrf .. "&submission_nonce=" .. nonce .. "&page=0&action=next&" .. flows[idx][2]
    return wrk.format("POST", prefix .. "/r", h, body)
  end
  return wrk.format("GET", location, h)
end

last_failure = ""
local function fail(status)
  failed = failed + 1
  last_failure = "step " .. step .. " status " .. status
  step = 0
end

function response(status, hdrs, body)
  local set = hdrs["Set-Cookie"] or hdrs["set-cookie"]
  if set then cookie = set:match("^([^;]*)") end
  location = hdrs["Location"] or hdrs["location"]
  if idle then
    idle = false
    return
  end
  if step == 0 then
    if minimal then
      if status ~= 200 then return fail(status) end
      nonce = body:match('name="submission_nonce" value="([^"]+)"') or ""
    elseif status ~= 303 then
      return fail(status)
    end
    step = 1
  elseif step == 1 then
    if minimal then
      if status ~= 303 then return fail(status) end
      completed = completed + 1
      step = 0
      return
    end
    if status ~= 200 then return fail(status) end
    csrf = body:match('name="csrf_token" value="([^"]+)"') or ""
    nonce = body:match('name="submission_nonce" value="([^"]+)"') or ""
    step = 2
  elseif step == 2 then
    if status ~= 303 then return fail(status) end
    step = 3
  else
    if status ~= 200 then return fail(status) end
    completed = completed + 1
    step = 0
  end
end

function done(summary, latency, requests)
  local c, f, x, why = 0, 0, 0, ""
  local most, least, links_each = 0, math.huge, 0
  for _, t in ipairs(threads) do
    local mine = t:get("completed")
    c = c + mine
    most, least = math.max(most, mine), math.min(least, mine)
    links_each = t:get("links")
    f = f + t:get("failed")
    x = x + t:get("exhausted")
    if t:get("last_failure") ~= "" then why = t:get("last_failure") end
  end
  io.write(string.format(
    "FLOWS completed=%d failed=%d exhausted=%d per-connection=%d..%d links=%d last failure: %s\n",
    c, f, x, least, most, links_each, why))
end
