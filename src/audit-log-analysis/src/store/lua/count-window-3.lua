--[[
  Adds one event to the sliding window of one (rule, group) scope and evaluates
  the count condition over every window of length `timespan` that starts at an
  entry of the scope and contains the event. The answer depends only on the set
  of entries, never on the order in which events arrived.

  KEYS[1]  window sorted set: member = event id (event counting) or
           value .. "\31" .. event id (distinct-value counting); score = event time ms
  KEYS[2]  values sorted set (distinct-value counting only): member = value, score = its latest event time ms
  KEYS[3]  watermark string: highest event time (ms) seen in the scope

  ARGV[1]  member
  ARGV[2]  event time (ms)
  ARGV[3]  timespan (ms)
  ARGV[4]  allowed lateness (ms)
  ARGV[5]  maximum entries kept in the window (oldest removed first)
  ARGV[6]  key lifetime (ms), applied with PEXPIRE to every key
  ARGV[7]  mode: "events" or "values"
  ARGV[8]  condition gt  ("" when absent)
  ARGV[9]  condition gte ("" when absent)
  ARGV[10] condition lt  ("" when absent)
  ARGV[11] condition lte ("" when absent)
  ARGV[12] condition eq  ("" when absent)

  Returns {late, fired, count, range_start, range_end}
    late         1 when the event is older than watermark - lateness (not stored), else 0
    fired        1 when a window containing the event meets the condition, else 0
    count        when fired, the count of the trailing window [ts - timespan, ts]
                 (events, or distinct values); 0 when not fired
    range_start  start of the earliest firing window ("" when none fired)
    range_end    end of the latest firing window ("" when none fired)

  Fast paths, with the same answers as the full slide, when the condition only
  has lower bounds (gt/gte): for the newest event of the scope the fullest window
  starts at the first entry >= ts - timespan, so ZCOUNT and two ranked lookups
  answer in O(log n); for an older event (counting events) the earliest and the
  latest firing start are found by scanning the candidate starts from both ends
  with one ZCOUNT each, stopping at the first that fires.
]]
local ts = tonumber(ARGV[2])
local span = tonumber(ARGV[3])
local lateness = tonumber(ARGV[4])
local cap = tonumber(ARGV[5])
local ttl = tonumber(ARGV[6])
local byValue = ARGV[7] == 'values'
local gt, gte, lt, lte, eq = tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10]), tonumber(ARGV[11]), tonumber(ARGV[12])

local watermark = tonumber(redis.call('GET', KEYS[3]) or '')
if watermark ~= nil and ts < watermark - lateness then
  return {1, 0, 0, '', ''}
end
local newest = watermark == nil or ts >= watermark
if newest then watermark = ts end
redis.call('SET', KEYS[3], string.format('%d', watermark), 'PX', ttl)

redis.call('ZADD', KEYS[1], ts, ARGV[1])
-- Nothing older than this can share a window with an event that is still on time.
local floor = '(' .. string.format('%d', watermark - lateness - span)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', floor)
local size = redis.call('ZCARD', KEYS[1])
if size > cap then redis.call('ZREMRANGEBYRANK', KEYS[1], 0, size - cap - 1) end
redis.call('PEXPIRE', KEYS[1], ttl)
if byValue then
  redis.call('ZADD', KEYS[2], 'GT', ts, string.match(ARGV[1], '^(.*)\31') or '')
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', floor)
  redis.call('PEXPIRE', KEYS[2], ttl)
end

local monotone = lt == nil and lte == nil and eq == nil
local need = 1
if gte ~= nil and gte > need then need = gte end
if gt ~= nil and gt + 1 > need then need = gt + 1 end

if monotone and newest then
  local n
  if byValue then n = redis.call('ZCOUNT', KEYS[2], ts - span, ts) else n = redis.call('ZCOUNT', KEYS[1], ts - span, ts) end
  if n < need then return {0, 0, 0, '', ''} end
  local first = redis.call('ZRANGEBYSCORE', KEYS[1], ts - span, ts, 'WITHSCORES', 'LIMIT', 0, 1)
  local last
  if byValue then
    last = redis.call('ZREVRANGEBYSCORE', KEYS[2], ts, '-inf', 'WITHSCORES', 'LIMIT', need - 1, 1)
  else
    last = redis.call('ZRANGEBYSCORE', KEYS[1], ts - span, ts, 'WITHSCORES', 'LIMIT', n - need, 1)
  end
  return {0, 1, n, first[2], string.format('%d', tonumber(last[2]) + span)}
end

-- Upper bound for every window containing the event: all entries (or values seen) within a timespan of it.
if monotone then
  local bound
  if byValue then bound = redis.call('ZCOUNT', KEYS[2], ts - span, '+inf') else bound = redis.call('ZCOUNT', KEYS[1], ts - span, ts + span) end
  if bound < need then return {0, 0, 0, '', ''} end
end

if monotone and not byValue then
  local trailing = redis.call('ZCOUNT', KEYS[1], ts - span, ts)
  -- Scans distinct start times in one direction; returns the first whose window fires.
  local function firstFiring(descending)
    local offset, previous = 0, nil
    while true do
      local chunk
      if descending then
        chunk = redis.call('ZREVRANGEBYSCORE', KEYS[1], ts, ts - span, 'WITHSCORES', 'LIMIT', offset, 64)
      else
        chunk = redis.call('ZRANGEBYSCORE', KEYS[1], ts - span, ts, 'WITHSCORES', 'LIMIT', offset, 64)
      end
      for i = 2, #chunk, 2 do
        local s = tonumber(chunk[i])
        if s ~= previous then
          previous = s
          if redis.call('ZCOUNT', KEYS[1], s, s + span) >= need then return s end
        end
      end
      if #chunk < 128 then return nil end
      offset = offset + 64
    end
  end
  local earliest = firstFiring(false)
  if earliest == nil then return {0, 0, 0, '', ''} end
  local latest = firstFiring(true)
  return {0, 1, trailing, string.format('%d', earliest), string.format('%d', latest + span)}
end

local function meets(c)
  if gt ~= nil and not (c > gt) then return false end
  if gte ~= nil and not (c >= gte) then return false end
  if lt ~= nil and not (c < lt) then return false end
  if lte ~= nil and not (c <= lte) then return false end
  if eq ~= nil and c ~= eq then return false end
  return true
end

local raw = redis.call('ZRANGEBYSCORE', KEYS[1], ts - span, ts + span, 'WITHSCORES')
local n = #raw / 2
local scores, values = {}, {}
for i = 1, n do
  scores[i] = tonumber(raw[2 * i])
  if byValue then values[i] = string.match(raw[2 * i - 1], '^(.*)\31') or '' end
end

local counts, distinct = {}, 0
local lo, hi = 1, 0
local fired = 0
local rangeStart, rangeEnd = nil, nil
for i = 1, n do
  local s = scores[i]
  if s > ts then break end
  if s >= ts - span and (i == 1 or scores[i - 1] ~= s) then
    while lo < i do
      if byValue and lo <= hi then
        local v = values[lo]
        counts[v] = counts[v] - 1
        if counts[v] == 0 then distinct = distinct - 1 end
      end
      lo = lo + 1
    end
    if hi < lo - 1 then hi = lo - 1 end
    while hi < n and scores[hi + 1] <= s + span do
      hi = hi + 1
      if byValue then
        local v = values[hi]
        local c = counts[v] or 0
        if c == 0 then distinct = distinct + 1 end
        counts[v] = c + 1
      end
    end
    local count = hi - lo + 1
    if byValue then count = distinct end
    if meets(count) then
      fired = 1
      if rangeStart == nil then rangeStart = s end
      rangeEnd = s + span
    end
  end
end
local trailing, seen = 0, {}
for i = 1, n do
  local s = scores[i]
  if s >= ts - span and s <= ts then
    if not byValue then
      trailing = trailing + 1
    elseif not seen[values[i]] then
      seen[values[i]] = true
      trailing = trailing + 1
    end
  end
end
if fired == 1 then
  return {0, 1, trailing, string.format('%d', rangeStart), string.format('%d', rangeEnd)}
end
return {0, 0, 0, '', ''}
