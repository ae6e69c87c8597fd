--[[
  Folds an event, and every window entry in a time range, into the open alert
  episode of one (rule, group) scope. An episode stays open while events keep
  arriving within the cooldown (event time) of its span; the anchor recorded
  when it opens makes the alert id stable for redeliveries and replicas.

  KEYS[1]  episode hash: anchor, first, last, count, flo/fhi = interval already folded (times in ms)
  KEYS[2]  episode members sorted set: member = event id, score = event time ms
  KEYS[3]  window sorted set of the scope (members end with "\31" .. event id, or are the event id)

  ARGV[1]  event id
  ARGV[2]  event time (ms)
  ARGV[3]  cooldown (ms)
  ARGV[4]  key lifetime (ms), applied with PEXPIRE to KEYS[1] and KEYS[2]
  ARGV[5]  range start (ms) of window entries to fold too, "" for none
  ARGV[6]  range end (ms)
  ARGV[7]  maximum members kept (oldest removed first; count keeps counting)
  ARGV[8]  sample size: how many of the earliest event ids to return
  ARGV[9]  "1" when the rule's condition is monotone (more events never un-fire a
           window): entries of the already-folded interval are then skipped,
           because any entry added there later fires, and folds, by itself

  Returns {status, anchor, first, last, count, id1, id2, ...}
    status  "new" (episode opened), "updated" (events added), "unchanged"
            (everything folded already) or "stale" (the event precedes the
            open episode by more than the cooldown; nothing changes)
    id*     the earliest event ids of the episode, at most ARGV[8]
]]
local id = ARGV[1]
local ts = tonumber(ARGV[2])
local cooldown = tonumber(ARGV[3])
local ttl = tonumber(ARGV[4])
local cap = tonumber(ARGV[7])
local sampleSize = tonumber(ARGV[8])

local fmt = function(n) return string.format('%d', n) end
local state = redis.call('HMGET', KEYS[1], 'anchor', 'first', 'last', 'count', 'flo', 'fhi')
local anchor, first, last, count = tonumber(state[1]), tonumber(state[2]), tonumber(state[3]), tonumber(state[4])
local flo, fhi = tonumber(state[5]), tonumber(state[6])
local status = 'updated'
if anchor == nil then
  status = 'new'
elseif ts > last + cooldown then
  -- The previous episode is over: a new one opens with a new anchor.
  redis.call('DEL', KEYS[2])
  status = 'new'
elseif ts < first - cooldown then
  return {'stale', fmt(anchor), fmt(first), fmt(last), fmt(count)}
end
if status == 'new' then
  anchor, first, last, count = ts, ts, ts, 0
  flo, fhi = nil, nil
end

local added = redis.call('ZADD', KEYS[2], ts, id)
if ts < first then first = ts end
if ts > last then last = ts end
if ARGV[5] ~= '' then
  local rs, re = tonumber(ARGV[5]), tonumber(ARGV[6])
  local pieces
  if ARGV[9] == '1' and flo ~= nil and rs <= fhi and re >= flo then
    pieces = {}
    if rs < flo then pieces[#pieces + 1] = {ARGV[5], '(' .. fmt(flo)} end
    if re > fhi then pieces[#pieces + 1] = {'(' .. fmt(fhi), ARGV[6]} end
    if rs < flo then flo = rs end
    if re > fhi then fhi = re end
  else
    pieces = {{ARGV[5], ARGV[6]}}
    flo, fhi = rs, re
  end
  for _, piece in ipairs(pieces) do
    local entries = redis.call('ZRANGEBYSCORE', KEYS[3], piece[1], piece[2], 'WITHSCORES')
    for i = 1, #entries, 2 do
      local member = entries[i]
      local eventId = string.match(member, '\31([^\31]*)$') or member
      local s = tonumber(entries[i + 1])
      added = added + redis.call('ZADD', KEYS[2], s, eventId)
      if s < first then first = s end
      if s > last then last = s end
    end
  end
end
-- The anchor is the earliest event time of what opened the episode (the event and the firing
-- windows' entries), a fact of the entries alone: whichever event happened to complete the
-- window first, in any replay or delivery order, the same anchor and so the same alert id.
if status == 'new' then anchor = first end
count = count + added
if status ~= 'new' and added == 0 then status = 'unchanged' end

local size = redis.call('ZCARD', KEYS[2])
if size > cap then redis.call('ZREMRANGEBYRANK', KEYS[2], 0, size - cap - 1) end
redis.call('HSET', KEYS[1], 'anchor', fmt(anchor), 'first', fmt(first), 'last', fmt(last), 'count', fmt(count))
if flo ~= nil then redis.call('HSET', KEYS[1], 'flo', fmt(flo), 'fhi', fmt(fhi)) end
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], ttl)

local result = {status, fmt(anchor), fmt(first), fmt(last), fmt(count)}
local sample = redis.call('ZRANGE', KEYS[2], 0, sampleSize - 1)
for i = 1, #sample do result[#result + 1] = sample[i] end
return result
