--[[
  Runs the events of one batch that belong to one (rule, group) scope, in the
  order given, as one atomic unit: each event goes through count_window or
  chain_window (the bodies of count-window-3.lua and chain-window-6.lua, inlined
  as functions by the @include lines below when the package is built) and, when
  its window fires, through episode_fold (episode-fold-3.lua), exactly as the
  single-event scripts would run one after the other. 'fold' scopes (detections)
  fold every event.

  KEYS[1]  window sorted set     KEYS[2]  values sorted set   KEYS[3]  watermark
  KEYS[4..7] chain stage sets 1-4  KEYS[8]  episode hash        KEYS[9]  episode members

  ARGV[1]  kind: "count", "chain" or "fold"
  ARGV[2]  cooldown (ms)    ARGV[3] episode key lifetime (ms)
  ARGV[4]  maximum members  ARGV[5] sample size   ARGV[6] "1" when the condition is monotone
  ARGV[7]  number of events n, then per event: event id, event time (ms),
           m = number of window arguments, then the m arguments of the window script

  Returns one {window reply or {}, episode reply or {}} per event.
]]
local function count_window(KEYS, ARGV)
--- @include "count-window-3.lua"
end

local function chain_window(KEYS, ARGV)
--- @include "chain-window-6.lua"
end

local function episode_fold(KEYS, ARGV)
--- @include "episode-fold-3.lua"
end

local kind = ARGV[1]
local n = tonumber(ARGV[7])
local countKeys = {KEYS[1], KEYS[2], KEYS[3]}
local chainKeys = {KEYS[1], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]}
local foldKeys = {KEYS[8], KEYS[9], KEYS[1]}
local out = {}
local p = 8
for i = 1, n do
  local id, ts, m = ARGV[p], ARGV[p + 1], tonumber(ARGV[p + 2])
  local args = {}
  for j = 1, m do args[j] = ARGV[p + 2 + j] end
  p = p + 3 + m
  local w = false
  if kind == 'count' then
    w = count_window(countKeys, args)
  elseif kind == 'chain' then
    w = chain_window(chainKeys, args)
  end
  local fired = w and tonumber(w[2]) == 1
  local e = false
  if kind == 'fold' or fired then
    local s, r, mono = '', '', '0'
    if fired then s, r, mono = w[4], w[5], ARGV[6] end
    e = episode_fold(foldKeys, {id, ts, ARGV[2], ARGV[3], s, r, ARGV[4], ARGV[5], mono})
  end
  out[i] = {w or {}, e or {}}
end
return out
