-- wrk script for bench_answer.py: every request is one prepared submission (its own session
-- cookie, CSRF token, nonce and answers), read from the file named by ANSWER_REQUESTS
-- ("cookie<TAB>path<TAB>body" per line). Threads take disjoint lines, so no link is reused.
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end

local reqs = {}
local idx = 0
function init(args)
  local nthreads = tonumber(os.getenv("ANSWER_THREADS"))
  local i = 0
  for line in io.lines(os.getenv("ANSWER_REQUESTS")) do
    if i % nthreads == tid then
      local cookie, path, body = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
      local headers = {["Content-Type"] = "application/x-www-form-urlencoded"}
      if cookie ~= "" then headers["Cookie"] = cookie end
      reqs[#reqs + 1] = wrk.format("POST", path, headers, body)
    end
    i = i + 1
  end
end

function request()
  idx = idx + 1
  if idx > #reqs then idx = 1 end
  return reqs[idx]
end
