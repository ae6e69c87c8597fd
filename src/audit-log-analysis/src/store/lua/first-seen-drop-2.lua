--[[
  Drops value combinations from the state of one first_seen rule: from the
  seen set and from the raised-by hash. The learning-start marker (the empty
  member) is never dropped, so a rule never re-enters its learning period
  because values were evicted or forgotten.

  KEYS[1]  seen sorted set of the rule (see first-seen-batch-2.lua)
  KEYS[2]  raised-by hash of the rule

  ARGV     the combinations to drop (any number; the empty member is skipped)

  Returns the number of combinations dropped.
]]
local dropped = 0
for i = 1, #ARGV do
  local member = ARGV[i]
  if member ~= '' then
    dropped = dropped + redis.call('ZREM', KEYS[1], member)
    redis.call('HDEL', KEYS[2], member)
  end
end
return dropped
