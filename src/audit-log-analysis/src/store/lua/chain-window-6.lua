--[[
  Adds one event to the stages of a temporal (any order) or temporal_ordered
  chain of one (rule, group) scope, then checks whether a complete chain that
  uses this event fits in `timespan`. The answer depends only on the set of
  entries, never on arrival order. Per-stage sets make each lookup O(log n).

  KEYS[1]  chain sorted set, all stages: member = stage (1-based) .. "\31" .. event id; score = event time ms
           (what an alert episode folds)
  KEYS[2]  watermark string: highest event time (ms) seen in the scope
  KEYS[3]  stage 1 sorted set: member = event id, score = event time ms
  KEYS[4]  stage 2 sorted set
  KEYS[5]  stage 3 sorted set (unused for shorter chains)
  KEYS[6]  stage 4 sorted set (unused for shorter chains)

  ARGV[1]  event id
  ARGV[2]  event time (ms)
  ARGV[3]  timespan (ms)
  ARGV[4]  allowed lateness (ms)
  ARGV[5]  maximum entries kept per set (oldest removed first)
  ARGV[6]  key lifetime (ms), applied with PEXPIRE to every key used
  ARGV[7]  number of stages (2 to 4)
  ARGV[8]  "1" when the stages must occur in order, "0" otherwise
  ARGV[9..] the 1-based stages this event belongs to

  Returns {late, fired, count, range_start, range_end}
    late         1 when the event is older than watermark - lateness (not stored), else 0
    fired        1 when a complete chain containing the event fits in the timespan
    count        the number of stages when fired, 0 otherwise
    range_start  start of the earliest complete chain ("" when none)
    range_end    end of the latest complete chain ("" when none)
]]
local id = ARGV[1]
local ts = tonumber(ARGV[2])
local span = tonumber(ARGV[3])
local lateness = tonumber(ARGV[4])
local cap = tonumber(ARGV[5])
local ttl = tonumber(ARGV[6])
local stageCount = tonumber(ARGV[7])
local ordered = ARGV[8] == '1'
local fmt = function(n) return string.format('%d', n) end

local watermark = tonumber(redis.call('GET', KEYS[2]) or '')
if watermark ~= nil and ts < watermark - lateness then
  return {1, 0, 0, '', ''}
end
if watermark == nil or ts > watermark then watermark = ts end
redis.call('SET', KEYS[2], fmt(watermark), 'PX', ttl)

local own = {}
for i = 9, #ARGV do
  local stage = tonumber(ARGV[i])
  own[stage] = true
  redis.call('ZADD', KEYS[1], ts, ARGV[i] .. '\31' .. id)
  redis.call('ZADD', KEYS[2 + stage], ts, id)
end
-- Nothing older than this can share a chain with an event that is still on time.
local floor = '(' .. fmt(watermark - lateness - span)
local sets = {KEYS[1]}
for k = 1, stageCount do sets[#sets + 1] = KEYS[2 + k] end
for _, key in ipairs(sets) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', floor)
  local size = redis.call('ZCARD', key)
  if size > cap then redis.call('ZREMRANGEBYRANK', key, 0, size - cap - 1) end
  redis.call('PEXPIRE', key, ttl)
end

-- Earliest time of stage k within [from, to], or nil.
local function earliest(k, from, to)
  local r = redis.call('ZRANGEBYSCORE', KEYS[2 + k], from, to, 'WITHSCORES', 'LIMIT', 0, 1)
  if #r == 0 then return nil end
  return tonumber(r[2])
end

-- Cheap impossibility check: a stage with no entry near the event cannot take part.
for k = 1, stageCount do
  if not own[k] and redis.call('ZCOUNT', KEYS[2 + k], ts - span, ts + span) == 0 then
    return {0, 0, 0, '', ''}
  end
end

local rangeStart, rangeEnd = nil, nil
local function widen(s, e)
  if rangeStart == nil or s < rangeStart then rangeStart = s end
  if rangeEnd == nil or e > rangeEnd then rangeEnd = e end
end

if ordered then
  -- End of the chain that starts at s and uses this event as stage c (each other
  -- stage takes its earliest option), or nil.
  local function walk(s, c)
    local cur = s
    for k = 2, stageCount do
      if k == c then
        if ts < cur then return nil end
        cur = ts
      else
        local t = earliest(k, cur, s + span)
        if t == nil then return nil end
        cur = t
      end
    end
    if cur > s + span then return nil end
    return cur
  end
  -- First valid start among the first-stage entries in [ts - span, ts], scanning one way.
  local function scan(c, descending)
    local offset, previous = 0, nil
    while true do
      local chunk
      if descending then
        chunk = redis.call('ZREVRANGEBYSCORE', KEYS[3], ts, ts - span, 'WITHSCORES', 'LIMIT', offset, 64)
      else
        chunk = redis.call('ZRANGEBYSCORE', KEYS[3], ts - span, ts, 'WITHSCORES', 'LIMIT', offset, 64)
      end
      for i = 2, #chunk, 2 do
        local s = tonumber(chunk[i])
        if s ~= previous then
          previous = s
          local e = walk(s, c)
          if e ~= nil then return s, e end
        end
      end
      if #chunk < 128 then return nil, nil end
      offset = offset + 64
    end
  end
  for c in pairs(own) do
    if c == 1 then
      local e = walk(ts, 1)
      if e ~= nil then widen(ts, e) end
    else
      local s, e = scan(c, false)
      if s ~= nil then
        widen(s, e)
        local s2, e2 = scan(c, true)
        widen(s2, e2)
      end
    end
  end
else
  -- Any order: a window [s, s + span] containing the event, starting at an entry, with every stage in it.
  local starts = {ts}
  for k = 1, stageCount do
    local raw = redis.call('ZRANGEBYSCORE', KEYS[2 + k], ts - span, ts, 'WITHSCORES')
    for i = 2, #raw, 2 do starts[#starts + 1] = tonumber(raw[i]) end
  end
  for _, s in ipairs(starts) do
    local complete = true
    for k = 1, stageCount do
      if not own[k] and earliest(k, s, s + span) == nil then complete = false; break end
    end
    if complete then widen(s, s + span) end
  end
end

if rangeStart ~= nil then
  return {0, 1, stageCount, fmt(rangeStart), fmt(rangeEnd)}
end
return {0, 0, 0, '', ''}
