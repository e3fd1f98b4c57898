// server_context.h — what every connection shares with the server.
//
// The Server owns these objects and outlives every Connection; each
// connection (and the handlers it calls) reaches them through one
// ServerContext instead of a pointer back to the Server.
#pragma once

#include <cstdint>
#include <vector>

namespace sse {

class AccessLog;
class Broadcaster;
class Connection;
class EventLog;
class Reactor;
class LoopMonitor;
class RedisEventLog;
class WorkerSlots;
class StaticFiles;
struct Config;
struct ServerCounters;

struct ServerContext {
  const Config& config;
  Reactor& reactor;
  Broadcaster& broadcaster;  // this process's subscribers
  EventLog& events;          // where published events get their ids and are kept
  StaticFiles& files;
  ServerCounters& counters;
  std::vector<Connection*>& closed;  // destroyed by the server after each pass
  std::vector<Connection*>& ready;   // resumed by the server in the next pass
  const RedisEventLog* redis = nullptr;  // the shared log, for /stats (null without --redis)
  const LoopMonitor* loop = nullptr;     // pass durations, for /stats
  AccessLog* access_log = nullptr;       // --access-log (null: off)
  // With --workers: the shared figures of every worker, and this one's slot.
  WorkerSlots* worker_slots = nullptr;
  size_t worker_index = 0;
};

}  // namespace sse
