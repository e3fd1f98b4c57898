// publish_script.h — the Lua script every publish runs inside Redis.
//
// One EVALSHA per POST /publish (a batch in one call). Redis runs a script
// alone, start to finish, so everything in it is one atomic step across
// every instance: the idempotency check, the ids, the XADD of each event to
// the log stream and the PUBLISH of each to the channel. Taking the id in
// one call and announcing in another is what reordered rapid publishes in
// other brokers (design notes, nchan); here an event's id order, log order
// and announcement order are the same order by construction.
//
//   KEYS[1] the log stream (<prefix>log), KEYS[2] the channel
//   (<prefix>events), KEYS[3] the idempotency key (<prefix>idem:<K>, or
//   "" for none); ARGV[1] the history length (MAXLEN ~), ARGV[2] the floor:
//   the highest id the publishing instance has seen, ARGV[3] the
//   idempotency window in ms, then topic, event, data for each event.
//   Returns the ids as strings, in order (the first call's ids again for a
//   repeated idempotency key).
//
// The id: max(previous + 1, Redis TIME in µs), where previous is the
// larger of the log's last entry and the floor. TIME keeps ids increasing
// when Redis lost its whole data set (restart without persistence); the
// floor keeps them increasing when it came back with an older snapshot
// (the publishing instance has seen newer ids than the log now holds).
// Microseconds since 1970 stay below 2^53 until the year 2255, so ids are
// exact in Lua's doubles and in JavaScript; the script refuses to pass it.
//
// Each entry records `p`, the id of the entry before it (or the floor,
// when the log lost what the floor saw). p is the link the readers check:
// an event whose p is above what a reader last saw means something between
// them is missing (redis_event_log.h).
#pragma once

namespace sse {

inline constexpr const char* kPublishScript = R"lua(
local log, channel, key = KEYS[1], KEYS[2], KEYS[3]
if key ~= '' then
  local earlier = redis.call('GET', key)
  if earlier then
    local ids = {}
    for id in string.gmatch(earlier, '%d+') do ids[#ids + 1] = id end
    return ids
  end
end
local top = 0
local newest = redis.call('XREVRANGE', log, '+', '-', 'COUNT', 1)
if #newest > 0 then top = tonumber(string.match(newest[1][1], '^%d+')) end
local now = redis.call('TIME')
local prev = math.max(top, tonumber(ARGV[2]))
local id = math.max(prev + 1, tonumber(now[1]) * 1000000 + tonumber(now[2]))
local count = (#ARGV - 3) / 3
if id + count > 9007199254740991 then
  return redis.error_reply('ERR event ids would reach 2^53')
end
local ids = {}
for i = 0, count - 1 do
  local topic, event, data = ARGV[4 + 3 * i], ARGV[5 + 3 * i], ARGV[6 + 3 * i]
  local sid, sprev = string.format('%.0f', id), string.format('%.0f', prev)
  redis.call('XADD', log, 'MAXLEN', '~', ARGV[1], sid .. '-0',
             't', topic, 'e', event, 'd', data, 'p', sprev)
  redis.call('PUBLISH', channel, sid .. '\n' .. sprev .. '\n' .. topic .. '\n' .. event .. '\n' .. data)
  ids[#ids + 1] = sid
  prev = id
  id = id + 1
end
if key ~= '' then redis.call('SET', key, table.concat(ids, ','), 'PX', ARGV[3]) end
return ids
)lua";

}  // namespace sse
