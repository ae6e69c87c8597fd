--[[
  Runs the events of one batch that feed one first_seen rule, in order, as one
  atomic unit: each value combination (group and learned fields) is looked up
  in the rule's seen set; a combination not in it is learned, and raised when
  the rule's learning period is over. Memory is bounded: combinations unseen
  for `forget_after` are forgotten and, past `max_values`, the least recently
  seen are evicted (both through first-seen-drop-2.lua, inlined below by the
  @include line when the package is built). A dropped combination is new
  again when it is next seen.

  Times are the analysis' clock (ms), passed in (not Redis TIME), so the
  learning period, last-seen scores and forgetting follow one injected clock.

  KEYS[1]  seen sorted set: member = combination (the alert's group key text),
           score = when it was last seen. The empty member is the learning-start
           marker: its score is when the rule was first seen by this Redis. It
           lives in the same key as the values, so the two can only be lost
           together: a rule whose values are gone re-learns instead of raising
           every value it sees (ZADD NX: the first writer's start wins).
  KEYS[2]  raised-by hash: combination -> id of the event that raised it, so a
           redelivery of that event raises the same alert again (the publish
           may have failed) while any other event of the combination does not.

  ARGV[1]  now (ms)
  ARGV[2]  learning period (ms)
  ARGV[3]  forget_after (ms), "" for never
  ARGV[4]  max_values: combinations kept (the marker not counted)
  ARGV[5]  number of events n, then per event: event id, combination

  Returns {learning_start, started, learned, evicted, forgotten, size, status1, ...}
    learning_start  when the learning period began (ms)
    started         1 when it began with this call (first use, or the state was lost)
    learned         combinations added (during learning or raised)
    evicted         combinations dropped for max_values
    forgotten       combinations dropped for forget_after
    size            combinations kept now
    status*         per event: "learning" (new, learned silently), "new" (new,
                    raise), "repeat" (the event that raised it, again) or "known"
]]
local function drop(KEYS, ARGV)
--- @include "first-seen-drop-2.lua"
end

local now = tonumber(ARGV[1])
local learning = tonumber(ARGV[2])
local forget = tonumber(ARGV[3])
local cap = tonumber(ARGV[4])
local n = tonumber(ARGV[5])
local fmt = function(value) return string.format('%d', value) end

local started = redis.call('ZADD', KEYS[1], 'NX', fmt(now), '')
local start = tonumber(redis.call('ZSCORE', KEYS[1], ''))
local learningOver = now >= start + learning

local forgotten = 0
if forget ~= nil then
  local stale = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', fmt(now - forget))
  forgotten = drop(KEYS, stale)
end

local learned = 0
local out = {}
local p = 6
for i = 1, n do
  local id, member = ARGV[p], ARGV[p + 1]
  p = p + 2
  local status
  if redis.call('ZADD', KEYS[1], fmt(now), member) == 1 then
    learned = learned + 1
    if learningOver then
      redis.call('HSET', KEYS[2], member, id)
      status = 'new'
    else
      status = 'learning'
    end
  elseif redis.call('HGET', KEYS[2], member) == id then
    status = 'repeat'
  else
    status = 'known'
  end
  out[i] = status
end

-- The marker is one of the members, so ZCARD - 1 values are kept.
local evicted = 0
local excess = redis.call('ZCARD', KEYS[1]) - 1 - cap
if excess > 0 then
  local oldest = {}
  for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, excess)) do
    if member ~= '' and #oldest < excess then oldest[#oldest + 1] = member end
  end
  evicted = drop(KEYS, oldest)
end

local reply = {fmt(start), started, learned, evicted, forgotten, redis.call('ZCARD', KEYS[1]) - 1}
for i = 1, n do reply[6 + i] = out[i] end
return reply
