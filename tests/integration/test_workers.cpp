// test_workers.cpp — --workers N (SPEC "Many processes and hosts", issue 13):
// a supervisor forks N single-threaded workers that share the listening port
// with SO_REUSEPORT and share events through one Redis. Connections to the
// one port land on different workers; every stream still receives every
// event, in order, with the id its 202 named; /stats and /metrics on any
// worker describe the whole server and each worker. A worker killed with
// SIGKILL is restarted, its clients resume elsewhere and lose nothing, the
// other workers' streams never notice; SIGTERM to the supervisor ends every
// stream with a FIN and leaves no worker behind.
//
// Which worker holds a connection is read from the kernel, not guessed: the
// server side of each loopback connection is found in /proc/net/tcp (by the
// client's port) and its socket inode in /proc/PID/fd of the worker.
#include <doctest/doctest.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "harness.h"

namespace {

using Ids = std::vector<unsigned long long>;

// The options of a server of `count` workers on `redis`, the ticker off so
// that the only events are the test's own.
std::vector<std::string> workers_on(const RedisProcess& redis, int count) {
  return {"--workers", std::to_string(count), "--redis", redis.address(), "--tick-ms", "0"};
}

long elapsed_ms(std::chrono::steady_clock::time_point since) {
  return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::steady_clock::now() - since)
                               .count());
}

// ------------------------------------------------------------ /stats workers

// One entry of the "workers" array of /stats.
struct WorkerFigures {
  bool present = false;  // false: the entry is null (worker being restarted)
  pid_t pid = 0;
  double subscribers = std::nan("");
  double publish_requests = std::nan("");
  bool redis_connected = false;
};

// The entries of "workers":[...] in a /stats body; empty if there is no
// such array (a server without --workers, or a failed request).
std::vector<WorkerFigures> workers_in(const std::string& body) {
  std::vector<WorkerFigures> out;
  const std::string key = "\"workers\":[";
  std::size_t pos = body.find(key);
  if (pos == std::string::npos) return out;
  pos += key.size();
  while (pos < body.size() && body[pos] != ']') {
    char c = body[pos];
    if (c == ',' || c == ' ') {
      ++pos;
    } else if (body.compare(pos, 4, "null") == 0) {
      out.emplace_back();
      pos += 4;
    } else if (c == '{') {
      std::size_t end = json_object_end(body, pos);
      if (end == std::string::npos) return {};
      std::string object = body.substr(pos, end - pos);
      WorkerFigures worker;
      worker.present = true;
      double pid = json_number(object, "pid");
      worker.pid = std::isnan(pid) ? 0 : static_cast<pid_t>(pid);
      worker.subscribers = json_number(object, "subscribers");
      worker.publish_requests = json_number(object, "publish_requests");
      worker.redis_connected = json_true(json_object(object, "redis"), "connected");
      out.push_back(worker);
      pos = end;
    } else {
      return {};  // not the shape the tests expect
    }
  }
  return out;
}

using StatsCheck = std::function<bool(const std::string& body, const std::vector<WorkerFigures>&)>;

// Polls /stats (a fresh connection each time, so any worker may answer)
// until `ok` holds or the deadline; `last` gets the last body seen.
bool poll_stats(int port, Deadline deadline, const StatsCheck& ok, std::string* last = nullptr) {
  for (;;) {
    std::string body = stats(port);
    if (last != nullptr) *last = body;
    if (ok(body, workers_in(body))) return true;
    if (ms_left(deadline) == 0) return false;
    // A short pause between polls (as wait_stat_at_least does); the
    // figures change every 250 ms.
    poll(nullptr, 0, std::min(50, ms_left(deadline)));
  }
}

// Waits until /stats lists `count` workers, every one present with a pid and
// its Redis link connected; their pids, by worker index.
std::vector<pid_t> wait_workers_ready(int port, std::size_t count, Deadline deadline) {
  std::string last;
  bool ready = poll_stats(
      port, deadline,
      [count](const std::string&, const std::vector<WorkerFigures>& workers) {
        if (workers.size() != count) return false;
        for (const WorkerFigures& worker : workers) {
          if (!worker.present || worker.pid <= 0 || !worker.redis_connected) return false;
        }
        return true;
      },
      &last);
  CAPTURE(last);
  REQUIRE(ready);
  std::vector<pid_t> pids;
  for (const WorkerFigures& worker : workers_in(last)) pids.push_back(worker.pid);
  return pids;
}

// ------------------------------------------------- which worker holds what

int local_port(int fd) {
  sockaddr_in address{};
  socklen_t length = sizeof address;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) return 0;
  return ntohs(address.sin_port);
}

// The port of "0100007F:1B59" (hex, as /proc/net/tcp writes it).
int port_of(const std::string& endpoint) {
  std::size_t colon = endpoint.find(':');
  if (colon == std::string::npos) return 0;
  return static_cast<int>(std::strtoul(endpoint.c_str() + colon + 1, nullptr, 16));
}

// The server-side socket inode of every connection to `server_port`, by the
// client's port (from /proc/net/tcp).
std::map<int, unsigned long> server_side_inodes(int server_port) {
  std::map<int, unsigned long> inodes;
  std::ifstream table("/proc/net/tcp");
  std::string line;
  std::getline(table, line);  // the header
  while (std::getline(table, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout;
    unsigned long inode = 0;
    fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >>
        timeout >> inode;
    if (!fields || inode == 0) continue;
    if (port_of(local) != server_port || port_of(remote) == 0) continue;
    inodes[port_of(remote)] = inode;
  }
  return inodes;
}

// The inodes of the sockets process `pid` holds open.
std::set<unsigned long> sockets_of(pid_t pid) {
  std::set<unsigned long> inodes;
  std::error_code error;
  std::filesystem::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", error);
  for (; !error && it != std::filesystem::directory_iterator(); it.increment(error)) {
    std::string target = std::filesystem::read_symlink(it->path(), error).string();
    if (error) {
      error.clear();  // closed meanwhile
      continue;
    }
    if (target.rfind("socket:[", 0) == 0) inodes.insert(std::strtoul(target.c_str() + 8, nullptr, 10));
  }
  return inodes;
}

// For each client descriptor: the index in `pids` of the worker that holds
// the server side of its connection, -1 if none does.
std::vector<int> owners(int server_port, const std::vector<int>& client_fds,
                        const std::vector<pid_t>& pids) {
  std::map<int, unsigned long> inodes = server_side_inodes(server_port);
  std::vector<std::set<unsigned long>> held;
  for (pid_t pid : pids) held.push_back(sockets_of(pid));
  std::vector<int> out;
  for (int fd : client_fds) {
    int owner = -1;
    auto found = inodes.find(local_port(fd));
    for (std::size_t w = 0; found != inodes.end() && w < held.size(); ++w) {
      if (held[w].count(found->second) != 0) owner = static_cast<int>(w);
    }
    out.push_back(owner);
  }
  return out;
}

// How many of `owner_of` are each worker's.
std::vector<int> per_worker(const std::vector<int>& owner_of, std::size_t workers) {
  std::vector<int> counts(workers, 0);
  for (int owner : owner_of) {
    if (owner >= 0 && static_cast<std::size_t>(owner) < workers) ++counts[owner];
  }
  return counts;
}

std::string describe(const std::vector<int>& counts) {
  std::string text;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    text += (i ? ", " : "") + std::string("worker ") + std::to_string(i) + ": " +
            std::to_string(counts[i]);
  }
  return text;
}

// Polls /stats until the whole server's subscribers and each worker's are
// exactly what the kernel says the test has open on each (`expected`).
bool wait_subscribers_match(int port, const std::vector<int>& expected, std::string& last) {
  int total = 0;
  for (int count : expected) total += count;
  return poll_stats(
      port, after_ms(5000),
      [&](const std::string& body, const std::vector<WorkerFigures>& workers) {
        if (json_number(body, "subscribers") != total) return false;
        if (workers.size() != expected.size()) return false;
        double sum = 0;
        for (std::size_t i = 0; i < workers.size(); ++i) {
          if (!workers[i].present || workers[i].subscribers != expected[i]) return false;
          sum += workers[i].subscribers;
        }
        return sum == total;
      },
      &last);
}

// ------------------------------------------------------------- publishing

// One POST /publish on a fresh connection (so whichever worker the kernel
// picks answers), which must be a 202 naming `count` ids.
Ids publish_ok(int port, const std::string& json, std::size_t count) {
  HttpResponse response = publish(port, json);
  CAPTURE(json);
  CAPTURE(response.status_line);
  CAPTURE(response.body);
  REQUIRE(response.status == 202);
  Ids ids = published_ids(response.body);
  REQUIRE(ids.size() == count);
  return ids;
}

// Publishes events "<tag>0".."<tag>(n-1)" as the single events and batches
// of `sizes`; appends their ids to `acked` and data to `data`.
void publish_rounds(int port, const std::string& tag, const std::vector<int>& sizes, Ids& acked,
                    std::vector<std::string>& data) {
  int k = 0;
  for (int size : sizes) {
    std::string json;
    std::vector<std::string> texts;
    for (int i = 0; i < size; ++i) texts.push_back(tag + std::to_string(k++));
    if (size == 1) {
      json = "{\"data\":\"" + texts[0] + "\"}";
    } else {
      json = "[";
      for (int i = 0; i < size; ++i) json += (i ? ",{\"data\":\"" : "{\"data\":\"") + texts[i] + "\"}";
      json += "]";
    }
    Ids ids = publish_ok(port, json, static_cast<std::size_t>(size));
    acked.insert(acked.end(), ids.begin(), ids.end());
    data.insert(data.end(), texts.begin(), texts.end());
  }
}

bool strictly_increasing(const Ids& ids) {
  for (std::size_t i = 1; i < ids.size(); ++i) {
    if (ids[i] <= ids[i - 1]) return false;
  }
  return true;
}

// Reads every stream until each holds `count` events or the deadline, then
// `settle_ms` more, so that a duplicate or a stray event shows too.
bool wait_events(const std::vector<SseStream*>& streams, std::size_t count, Deadline deadline,
                 long settle_ms = 200) {
  bool all = false;
  for (;;) {
    all = true;
    std::vector<SseStream*> waiting;
    for (SseStream* stream : streams) {
      if (stream->parser.events.size() < count) {
        all = false;
        if (!stream->client.peer_closed()) waiting.push_back(stream);
      }
    }
    if (all || waiting.empty() || ms_left(deadline) == 0) break;
    pump_streams(waiting, std::min(50, ms_left(deadline)));
  }
  Deadline settle = after_ms(settle_ms);
  while (ms_left(settle) > 0) pump_streams(streams, ms_left(settle));
  return all;
}

// ------------------------------------------------------------- processes

// True once no process `pid` exists (kill(pid, 0) fails with ESRCH).
bool gone(pid_t pid) {
  return kill(pid, 0) != 0 && errno == ESRCH;
}

bool wait_gone(const std::vector<pid_t>& pids, Deadline deadline) {
  for (;;) {
    bool all = std::all_of(pids.begin(), pids.end(), gone);
    if (all) return true;
    if (ms_left(deadline) == 0) return false;
    poll(nullptr, 0, std::min(20, ms_left(deadline)));
  }
}

// errno of a connect() to 127.0.0.1:port, 0 if it connected.
int connect_error(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  int error = connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 ? 0 : errno;
  close(fd);
  return error;
}

// ------------------------------------------------------------------ bodies

// `count` workers, 300 subscribers on the one port: they spread over the
// workers, /stats and /metrics account for each, and 20 events published
// through whichever worker answers reach every one of them in order.
void check_fan_out(int count) {
  RedisProcess redis;
  ServerProcess server(workers_on(redis, count));
  const int port = server.port();
  std::vector<pid_t> pids = wait_workers_ready(port, static_cast<std::size_t>(count), after_ms(10000));

  const std::size_t kStreams = 300;
  std::vector<std::unique_ptr<SseStream>> streams = open_streams(port, kStreams);
  std::vector<SseStream*> all;
  std::vector<int> fds;
  for (auto& stream : streams) {
    all.push_back(stream.get());
    fds.push_back(stream->client.fd());
  }

  // The kernel's view: who holds each connection.
  std::vector<int> owner_of = owners(port, fds, pids);
  std::vector<int> counts = per_worker(owner_of, pids.size());
  CAPTURE(describe(counts));
  CHECK(std::count(owner_of.begin(), owner_of.end(), -1) == 0);
  CHECK(std::count_if(counts.begin(), counts.end(), [](int n) { return n > 0; }) > 1);
  // 300 connections hashed over the workers: none is left empty.
  CHECK(std::count(counts.begin(), counts.end(), 0) == 0);

  // /stats: the sum, and each worker's own count (another worker's figures
  // may be 250 ms old, hence the polling).
  std::string last;
  bool matched = wait_subscribers_match(port, counts, last);
  CAPTURE(last);
  CHECK(matched);

  // /metrics: the sum and one series per worker.
  std::string metrics;
  bool metrics_match = false;
  for (Deadline deadline = after_ms(5000); !metrics_match && ms_left(deadline) > 0;) {
    HttpResponse response = http_get(port, "/metrics");
    metrics = response.body;
    metrics_match = metrics.find("\nsse_subscribers " + std::to_string(kStreams) + "\n") !=
                    std::string::npos;
    for (std::size_t i = 0; i < counts.size(); ++i) {
      std::string series = "\nsse_subscribers{worker=\"" + std::to_string(i) + "\"} " +
                           std::to_string(counts[i]) + "\n";
      metrics_match = metrics_match && metrics.find(series) != std::string::npos;
    }
    if (!metrics_match) pump_streams(all, 50);  // keeps the streams drained while waiting
  }
  CAPTURE(metrics);
  CHECK(metrics_match);

  // 20 events in 11 POSTs, single events and batches, each POST on a fresh
  // connection, so they are answered by different workers.
  const std::vector<int> sizes = {1, 3, 1, 5, 1, 1, 4, 1, 1, 1, 1};
  Ids acked;
  std::vector<std::string> data;
  publish_rounds(port, "e", sizes, acked, data);
  REQUIRE(acked.size() == 20);
  CHECK(strictly_increasing(acked));

  CHECK(wait_events(all, acked.size(), after_ms(15000)));
  std::size_t wrong = 0;
  std::string first_wrong;
  for (std::size_t s = 0; s < all.size(); ++s) {
    const SseParser& parser = all[s]->parser;
    bool ok = event_ids(parser) == acked && parser.events.size() == acked.size();
    for (std::size_t i = 0; ok && i < data.size(); ++i) ok = parser.events[i].data == data[i];
    if (ok) continue;
    ++wrong;
    if (first_wrong.empty()) {
      first_wrong = "stream " + std::to_string(s) + " (worker " + std::to_string(owner_of[s]) +
                    ") got " + std::to_string(parser.events.size()) + " events, ids:";
      for (unsigned long long id : event_ids(parser)) first_wrong += " " + std::to_string(id);
    }
  }
  CAPTURE(first_wrong);
  CHECK(wrong == 0);

  // The publishes were indeed answered by more than one worker.
  bool spread = poll_stats(
      port, after_ms(5000),
      [&sizes](const std::string&, const std::vector<WorkerFigures>& workers) {
        double sum = 0;
        int answering = 0;
        for (const WorkerFigures& worker : workers) {
          if (!worker.present) return false;
          sum += worker.publish_requests;
          if (worker.publish_requests > 0) ++answering;
        }
        return sum == static_cast<double>(sizes.size()) && answering > 1;
      },
      &last);
  CHECK(spread);
}

}  // namespace

TEST_CASE("workers: with 2 workers, 300 subscribers spread over both and all get every event in order") {
  check_fan_out(2);
}

TEST_CASE("workers: with 3 workers, 300 subscribers spread over all and all get every event in order") {
  check_fan_out(3);
}

TEST_CASE("workers: a worker killed with SIGKILL is restarted, its clients resume and lose nothing") {
  const int kWorkers = 3;
  RedisProcess redis;
  ServerProcess server(workers_on(redis, kWorkers));
  const int port = server.port();
  std::vector<pid_t> pids = wait_workers_ready(port, kWorkers, after_ms(10000));

  // 60 application-like subscribers on the one port.
  std::vector<std::unique_ptr<Watcher>> watchers;
  std::vector<Watcher*> everyone;
  std::vector<int> fds;
  for (int i = 0; i < 60; ++i) {
    watchers.push_back(std::make_unique<Watcher>("w" + std::to_string(i), port, "/sse", 0));
    everyone.push_back(watchers.back().get());
    fds.push_back(watchers.back()->stream().client.fd());
  }
  std::vector<int> owner_of = owners(port, fds, pids);
  std::vector<int> counts = per_worker(owner_of, pids.size());
  CAPTURE(describe(counts));
  REQUIRE(std::count(owner_of.begin(), owner_of.end(), -1) == 0);
  const int victim = 1;
  REQUIRE(counts[victim] > 0);
  REQUIRE(counts[victim] < 60);
  std::string last;
  REQUIRE(wait_subscribers_match(port, counts, last));

  // Every watcher has an id to resume from before anything happens.
  Ids acked;
  std::vector<std::string> data;
  publish_rounds(port, "a", {1, 2, 1, 1}, acked, data);
  REQUIRE(wait_delivered(acked, everyone, after_ms(10000), 0));

  const pid_t old_pid = pids[victim];
  REQUIRE(kill(old_pid, SIGKILL) == 0);
  auto killed_at = std::chrono::steady_clock::now();

  // The victim's clients see their connection end; nobody else's does.
  std::vector<Watcher*> victims;
  std::vector<Watcher*> others;
  for (std::size_t i = 0; i < watchers.size(); ++i) {
    (owner_of[i] == victim ? victims : others).push_back(watchers[i].get());
  }
  std::size_t not_closed = 0;
  Deadline closed_by = after_ms(5000);
  for (Watcher* watcher : victims) {
    if (!watcher->stream().client.wait_closed(closed_by)) ++not_closed;
  }
  CHECK(not_closed == 0);
  // Publishing goes on meanwhile, through the workers still there.
  publish_rounds(port, "b", {1, 3, 1}, acked, data);
  for (Watcher* watcher : others) watcher->stream().pump(0);
  std::size_t others_closed = 0;
  for (Watcher* watcher : others) others_closed += watcher->stream().client.peer_closed();
  CHECK(others_closed == 0);

  // The victim's clients reconnect (Last-Event-ID: the last id each saw),
  // wherever the kernel sends them; more is published.
  std::size_t refused = 0;
  for (Watcher* watcher : victims) refused += !watcher->reconnect(port);
  CHECK(refused == 0);
  publish_rounds(port, "c", {2, 1, 1}, acked, data);

  // The supervisor has started a new worker in the victim's place.
  bool restarted = poll_stats(
      port, after_ms(10000),
      [&](const std::string&, const std::vector<WorkerFigures>& workers) {
        return workers.size() == kWorkers && workers[victim].present &&
               workers[victim].pid > 0 && workers[victim].pid != old_pid &&
               workers[victim].redis_connected;
      },
      &last);
  CAPTURE(last);
  REQUIRE(restarted);
  long restart_ms = elapsed_ms(killed_at);
  CAPTURE(restart_ms);
  const pid_t new_pid = workers_in(last)[victim].pid;
  CHECK(!gone(new_pid));
  CHECK(wait_gone({old_pid}, after_ms(2000)));
  // The others kept their pids: only the killed worker was replaced.
  for (std::size_t i = 0; i < pids.size(); ++i) {
    if (static_cast<int>(i) != victim) CHECK(workers_in(last)[i].pid == pids[i]);
  }

  // New subscribers: some land on the new worker, which serves them too.
  std::vector<std::unique_ptr<Watcher>> late;
  std::vector<int> late_fds;
  for (int i = 0; i < 30; ++i) {
    late.push_back(std::make_unique<Watcher>("late" + std::to_string(i), port, "/sse", acked.size()));
    late_fds.push_back(late.back()->stream().client.fd());
  }
  pids[victim] = new_pid;
  std::vector<int> late_owner = owners(port, late_fds, pids);
  CAPTURE(describe(per_worker(late_owner, pids.size())));
  CHECK(std::count(late_owner.begin(), late_owner.end(), victim) > 0);

  // A resume that lands on the new worker, from an id published before the
  // kill: the new process never saw those events live, so it must find
  // them in Redis. (A client reconnects until the kernel sends it there.)
  const std::size_t resume_after = 2;
  const std::string resume_header = "Last-Event-ID: " + std::to_string(acked[resume_after]) + "\r\n";
  // Candidates are opened ten at a time (one look at /proc per ten); the
  // first on the new worker is kept, the others closed.
  std::unique_ptr<SseStream> resumer;
  for (Deadline deadline = after_ms(10000); !resumer && ms_left(deadline) > 0;) {
    std::vector<std::unique_ptr<SseStream>> candidates;
    std::vector<int> candidate_fds;
    for (int i = 0; i < 10; ++i) {
      candidates.push_back(std::make_unique<SseStream>(port, "/sse", resume_header));
      REQUIRE(candidates.back()->head.status == 200);
      candidate_fds.push_back(candidates.back()->client.fd());
    }
    std::vector<int> candidate_owner = owners(port, candidate_fds, pids);
    for (std::size_t i = 0; i < candidates.size() && !resumer; ++i) {
      if (candidate_owner[i] == victim) resumer = std::move(candidates[i]);
    }
  }
  REQUIRE(resumer);
  publish_rounds(port, "d", {1, 4, 1}, acked, data);
  Ids resumed_expected(acked.begin() + resume_after + 1, acked.end());
  CHECK(wait_events({resumer.get()}, resumed_expected.size(), after_ms(10000)));
  CHECK(event_ids(resumer->parser) == resumed_expected);

  std::vector<Watcher*> judged = everyone;
  for (auto& watcher : late) judged.push_back(watcher.get());
  bool complete = wait_delivered(acked, judged, after_ms(15000));
  Delivery delivery = tally(acked, judged);
  CAPTURE(delivery.detail);
  CHECK(complete);
  CHECK(delivery.lost == 0);
  CHECK(delivery.duplicated == 0);
  CHECK(delivery.disordered == 0);
  CHECK(delivery.gaps == 0);
  CHECK(delivery.unacknowledged == 0);
  CHECK(strictly_increasing(acked));

  // The other workers' streams were never interrupted: still the first
  // connection, still open, and (tally above) every event on it.
  others_closed = 0;
  for (Watcher* watcher : others) others_closed += watcher->stream().client.peer_closed();
  CHECK(others_closed == 0);
}

TEST_CASE("workers: SIGTERM to the supervisor ends every worker's streams with a FIN and leaves no worker") {
  const int kWorkers = 3;
  RedisProcess redis;
  ServerProcess server(workers_on(redis, kWorkers));
  const int port = server.port();
  std::vector<pid_t> pids = wait_workers_ready(port, kWorkers, after_ms(10000));

  std::vector<std::unique_ptr<SseStream>> streams = open_streams(port, 60);
  std::vector<SseStream*> all;
  std::vector<int> fds;
  for (auto& stream : streams) {
    all.push_back(stream.get());
    fds.push_back(stream->client.fd());
  }
  std::vector<int> counts = per_worker(owners(port, fds, pids), pids.size());
  CAPTURE(describe(counts));
  REQUIRE(std::count(counts.begin(), counts.end(), 0) == 0);  // streams on every worker
  // Every stream is live: one event reaches all of them.
  Ids acked;
  std::vector<std::string> data;
  publish_rounds(port, "x", {1}, acked, data);
  REQUIRE(wait_events(all, 1, after_ms(10000), 0));

  auto start = std::chrono::steady_clock::now();
  ExitStatus status = server.signal_and_wait(SIGTERM, 8000);
  long took = elapsed_ms(start);
  CAPTURE(took);
  CHECK_FALSE(status.timed_out);
  CHECK(status.exited);
  CHECK(status.code == 0);
  // Workers close their streams at once; the supervisor's 5 s SIGKILL
  // fallback must not be what ended them.
  CHECK(took < 3000);

  std::size_t open = 0, reset = 0;
  Deadline closed_by = after_ms(2000);
  for (SseStream* stream : all) {
    if (!stream->client.wait_closed(closed_by)) ++open;
    if (stream->client.peer_reset()) ++reset;
  }
  CHECK(open == 0);
  CHECK(reset == 0);

  CHECK(wait_gone(pids, after_ms(2000)));
  // Nobody listens on the port any more: no worker (not even a restarted
  // one whose pid the test never saw) is left.
  CHECK(connect_error(port) == ECONNREFUSED);
  // A server that failed the above must not leave its workers running.
  for (pid_t pid : pids) {
    if (!gone(pid)) kill(pid, SIGKILL);
  }
}

TEST_CASE("workers: --workers 2 without --redis, --workers 0 and --workers x exit 2 with a message") {
  RunResult no_redis = run_to_exit({"--workers", "2", "--port", "0", "--host", "127.0.0.1"}, 5000);
  CAPTURE(no_redis.err);
  CHECK(no_redis.status.exited);
  CHECK(no_redis.status.code == 2);
  CHECK(no_redis.err.find("--redis") != std::string::npos);

  for (const char* value : {"0", "x", "-1", ""}) {
    CAPTURE(value);
    RunResult bad = run_to_exit({"--workers", value, "--port", "0", "--host", "127.0.0.1"}, 5000);
    CAPTURE(bad.err);
    CHECK(bad.status.exited);
    CHECK(bad.status.code == 2);
    CHECK(bad.err.find("--workers") != std::string::npos);
  }

  // auto means one per core: more than one here needs --redis too.
  if (sysconf(_SC_NPROCESSORS_ONLN) > 1) {
    RunResult automatic = run_to_exit({"--workers", "auto", "--port", "0", "--host", "127.0.0.1"}, 5000);
    CAPTURE(automatic.err);
    CHECK(automatic.status.exited);
    CHECK(automatic.status.code == 2);
    CHECK(automatic.err.find("--redis") != std::string::npos);
  }
}
