// soak.cpp — `make soak`: a long run against the release server with
// thousands of subscribers, steady publishing, churn and a few hostile
// clients (issue 5, item 4). It fails (exit 1) if a well-behaved subscriber
// lost, duplicated or reordered an event, or if the server's memory grew
// after warm-up beyond a stated tolerance.
//
// Reuses the integration harness (tests/integration/harness.h) for the
// server process, the sockets and the event-stream parser, so the stream is
// parsed exactly as the integration tests parse it.
//
// How loss is detected. Every published event carries its topic and a
// per-topic sequence number in its data, and the publisher keeps the id the
// server returned for each. A subscriber connection starts after an id: the
// Last-Event-ID it sent when it resumes, or, when it joins fresh, the last
// id published so far (every publish was answered before its request was
// sent, so it owes exactly the events published from then on). From there
// it must see, for each of its topics, every sequence number in turn, with
// the id the publisher was given, and ids strictly increasing across
// topics. A churned subscriber resets its connection and comes back with
// the last id it saw, and its expectations simply carry on: the replay must
// fill the gap exactly. At the end, publishing stops and every subscriber
// must catch up with the last event of each of its topics.
//
// Usage: soak [--seconds N] [--subscribers N] [--rate EVENTS_PER_S]
//             [--topics N] [--server PATH]
// Defaults: SOAK_SECONDS or 600 s, 3000 subscribers, 200 events/s, 4 topics,
// SSE_SERVER or ./sse-server.
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "harness.h"

namespace {

using Clock = std::chrono::steady_clock;
using Ids = std::vector<unsigned long long>;

// --------------------------------------------------------------- settings

struct Settings {
  long seconds = 600;
  std::size_t subscribers = 3000;
  int rate = 200;  // events per second, over all topics
  int topics = 4;
  // Per 100 ms: subscribers reset and resumed with Last-Event-ID, and
  // subscribers that leave for good (a FIN) while as many fresh ones join.
  int resumes_per_tick = 3;
  int leaves_per_tick = 1;
  int slowloris = 20;
  int never_readers = 3;
  long report_every_s = 10;
};

// Server options. The history must cover the time a resuming subscriber is
// away (here: milliseconds) with a wide margin: 2048 events are 10 s at
// 200/s. The header timeout is short so that slowloris clients cycle; the
// backlog limit small so that never-reading subscribers get dropped within
// the run (see kBulkTarget).
std::vector<std::string> server_args() {
  return {"--tick-ms",           "1000", "--history",      "2048", "--max-backlog", "262144",
          "--header-timeout-ms", "5000", "--heartbeat-ms", "5000"};
}

// Memory verdict: the RSS at the end may exceed the RSS after warm-up by at
// most max(kRssSlackKib, kRssSlackShare of it). After warm-up the history
// is full and connection buffers are at their working size. What remains is
// allocator drift (measured: ~0.05 MiB per 10 s at 7 MiB); a leak of 1 KiB
// per churned connection (~55 a second: resumes, joins, slowloris, garbage)
// would add ~30 MiB over the default run.
constexpr long kRssSlackKib = 8 * 1024;
constexpr double kRssSlackShare = 0.25;

std::string topic_name(int index) {
  return "soak." + std::to_string(index);
}

// Complaints go to stderr, the first 20 of them: enough to see what broke
// without drowning the periodic report.
void complain(const std::string& what) {
  static int complaints = 0;
  if (++complaints <= 20) std::fprintf(stderr, "soak: %s\n", what.c_str());
}

// The topic index named in an event's data, -1 if none of ours.
int topic_index(const std::string& name) {
  if (name.rfind("soak.", 0) != 0 || name.size() < 6) return -1;
  int index = 0;
  for (std::size_t i = 5; i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9' || i > 9) return -1;
    index = index * 10 + (name[i] - '0');
  }
  return index;
}

// ------------------------------------------------------------- publishing

// The publisher's record: per topic, the id of each sequence number.
struct Published {
  std::vector<Ids> ids;  // ids[topic][seq]
  unsigned long long total = 0;
  unsigned long long last_id = 0;  // the highest id returned so far
};

// Publishes over one keep-alive connection, reopened if the server closes
// it. Every other call sends one request per event, the others one batch.
class Publisher {
 public:
  Publisher(int port, int topics) : port_(port), client_(std::make_unique<Client>(port)) {
    record_.ids.resize(static_cast<std::size_t>(topics));
  }

  // Publishes `count` events, topics in turn; false on any failure.
  bool publish(int count) {
    std::vector<int> topics;
    for (int i = 0; i < count; ++i) {
      topics.push_back(next_topic_);
      next_topic_ = (next_topic_ + 1) % static_cast<int>(record_.ids.size());
    }
    bool batch = (slot_++ % 2) == 0 || count > 20;
    if (batch) return send({topics});
    for (int topic : topics) {
      if (!send({topic})) return false;
    }
    return true;
  }

  // One bulky event (16 kB) on the topic only the never-readers follow.
  bool publish_bulk() {
    std::string json = R"({"topic":"soak.bulk","data":")" + std::string(16000, 'x') + R"("})";
    if (client_->peer_closed()) client_ = std::make_unique<Client>(port_);
    if (!client_->send(publish_request(json))) return false;
    ++bulk_;
    return client_->read_response(after_ms(10000)).status == 202;
  }

  const Published& record() const { return record_; }
  unsigned long long bulk() const { return bulk_; }

 private:
  bool send(const std::vector<int>& topics) {
    std::string json = topics.size() > 1 ? "[" : "";
    for (std::size_t i = 0; i < topics.size(); ++i) {
      int topic = topics[i];
      std::size_t seq = record_.ids[static_cast<std::size_t>(topic)].size() + count_in(topics, i);
      if (i > 0) json += ",";
      json += R"({"topic":")" + topic_name(topic) + R"(","event":"soak","data":{"topic":")" +
              topic_name(topic) + R"(","seq":)" + std::to_string(seq) + "}}";
    }
    if (topics.size() > 1) json += "]";
    if (client_->peer_closed()) client_ = std::make_unique<Client>(port_);
    if (!client_->send(publish_request(json))) return false;
    HttpResponse response = client_->read_response(after_ms(10000));
    if (response.status != 202) {
      std::fprintf(stderr, "soak: publish got status %d: %s\n", response.status,
                   response.body.c_str());
      return false;
    }
    Ids ids = published_ids(response.body);
    if (ids.size() != topics.size()) return false;
    for (std::size_t i = 0; i < ids.size(); ++i) {
      record_.ids[static_cast<std::size_t>(topics[i])].push_back(ids[i]);
      record_.last_id = std::max(record_.last_id, ids[i]);
      ++record_.total;
    }
    return true;
  }

  // How many of topics[0..i) are the same topic as topics[i].
  static std::size_t count_in(const std::vector<int>& topics, std::size_t i) {
    return static_cast<std::size_t>(std::count(topics.begin(), topics.begin() + i, topics[i]));
  }

  int port_;
  std::unique_ptr<Client> client_;
  Published record_;
  int next_topic_ = 0;
  long slot_ = 0;
  unsigned long long bulk_ = 0;
};

// ------------------------------------------------------------ subscribers

struct Verdicts {
  unsigned long long delivered = 0;  // events checked and found right
  unsigned long long lost = 0;
  unsigned long long duplicated = 0;  // or reordered
  unsigned long long wrong = 0;       // bad id, topic or data
  unsigned long long gaps = 0;        // `event: gap` notices
  unsigned long long unexpected_closes = 0;
  unsigned long long failed_opens = 0;
  unsigned long long resumes = 0;
  unsigned long long joins = 0;
  unsigned long long leaves = 0;

  unsigned long long failures() const {
    return lost + duplicated + wrong + gaps + unexpected_closes + failed_opens;
  }
};

// A well-behaved subscriber: one logical reader across its connections.
class Subscriber {
 public:
  explicit Subscriber(std::vector<int> topics) : topics_(std::move(topics)) {}

  SseStream* stream() const { return stream_.get(); }
  bool has_position() const { return position_ != 0; }

  // Opens a connection. With a position (the last id seen, or where it
  // joined), it resumes after it: Last-Event-ID and ?lastEventId
  // alternately. Without one it joins fresh, owing every event published
  // from now on: each publish so far was answered before this request was
  // sent, so its events went out before this subscriber existed.
  bool open(int port, const Published& published, Verdicts& verdicts) {
    std::string target = "/sse?";
    for (std::size_t i = 0; i < topics_.size(); ++i) {
      target += std::string(i > 0 ? "&" : "") + "topic=" + topic_name(topics_[i]);
    }
    std::string headers;
    if (has_position()) {
      if (opens_ % 2 == 0) {
        headers = "Last-Event-ID: " + std::to_string(position_) + "\r\n";
      } else {
        target += "&lastEventId=" + std::to_string(position_);
      }
      // The expectations carry on; check they are where the publisher's
      // record puts the position (a bug here would be the soak's own).
      for (int topic : topics_) {
        if (next_[static_cast<std::size_t>(topic)] != first_after(published, topic, position_)) {
          ++verdicts.wrong;
        }
      }
    } else {
      position_ = published.last_id;
      next_.assign(published.ids.size(), 0);
      for (int topic : topics_) {
        next_[static_cast<std::size_t>(topic)] = first_after(published, topic, position_);
      }
    }
    ++opens_;
    stream_ = std::make_unique<SseStream>(port, target, headers);
    stream_->parser.keep_lines = false;
    if (stream_->head.status != 200) {
      ++verdicts.failed_opens;
      stream_.reset();
      return false;
    }
    return true;
  }

  // Resets the connection (SO_LINGER 0), or closes it normally.
  void drop(bool abruptly) {
    if (!stream_) return;
    if (abruptly) stream_->client.close_abruptly();
    stream_.reset();
  }

  // Reads what arrived and checks every event.
  void pump(const Published& published, Verdicts& verdicts) {
    if (!stream_) return;
    stream_->pump(0);
    for (const SseEvent& event : stream_->take_events()) check(event, published, verdicts);
    if (stream_->client.peer_closed()) {
      ++verdicts.unexpected_closes;
      complain("a well-behaved subscriber's stream was closed");
      stream_.reset();
    }
  }

  // Events of its topics published but not (yet) received.
  unsigned long long behind(const Published& published) const {
    unsigned long long missing = 0;
    for (int topic : topics_) {
      std::size_t total = published.ids[static_cast<std::size_t>(topic)].size();
      missing += total - std::min(total, next_[static_cast<std::size_t>(topic)]);
    }
    return missing;
  }

 private:
  // The first sequence number of `topic` whose id is above `id`.
  static std::size_t first_after(const Published& published, int topic, unsigned long long id) {
    const Ids& ids = published.ids[static_cast<std::size_t>(topic)];
    return static_cast<std::size_t>(std::upper_bound(ids.begin(), ids.end(), id) - ids.begin());
  }

  void check(const SseEvent& event, const Published& published, Verdicts& verdicts) {
    if (event.type == "gap") {
      ++verdicts.gaps;
      complain("gap notice " + event.data);
      return;
    }
    unsigned long long id = to_id(event.last_event_id);
    std::string topic_text = json_string(event.data, "topic");
    double seq_number = json_number(event.data, "seq");
    auto topic_it = std::find(topics_.begin(), topics_.end(), topic_index(topic_text));
    if (!event.had_id_field || id == 0 || event.type != "soak" || topic_it == topics_.end() ||
        !(seq_number >= 0)) {
      ++verdicts.wrong;
      return;
    }
    std::size_t topic = static_cast<std::size_t>(*topic_it);
    std::size_t seq = static_cast<std::size_t>(seq_number);
    const Ids& ids = published.ids[topic];
    if (seq >= ids.size() || ids[seq] != id) {
      ++verdicts.wrong;
      return;
    }
    std::size_t& next = next_[topic];
    if (id <= position_ || seq < next) {
      ++verdicts.duplicated;
      return;
    }
    if (seq > next) {
      verdicts.lost += seq - next;
      complain("lost " + std::to_string(seq - next) + " event(s) of " + topic_text +
               " before seq " + std::to_string(seq));
    }
    next = seq + 1;
    position_ = id;
    ++verdicts.delivered;
  }

  std::vector<int> topics_;
  std::unique_ptr<SseStream> stream_;
  std::vector<std::size_t> next_;    // per topic: the next sequence number owed
  unsigned long long position_ = 0;  // the last id seen, or the id it joined after
  int opens_ = 0;
};

// --------------------------------------------------------------- hostiles

// Slowloris: a request head, one byte every 500 ms, until the server gives
// up on it (408 or a close); then another takes its place.
struct Slowloris {
  std::unique_ptr<Client> client;
  Clock::time_point next_byte;
};

// Requests that are each wrong in their own way; sent on fresh connections.
const char* const kGarbage[] = {
    "GET / HTTP/1.1\r\nHost x\r\n\r\n",
    "BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n",
    "GET /health HTTP/9.9\r\nHost: x\r\n\r\n",
    "POST /publish HTTP/1.1\r\nHost: localhost\r\nContent-Length: 4\r\nTransfer-Encoding: "
    "chunked\r\n\r\n",
    "POST /publish HTTP/1.1\r\nHost: localhost\r\nContent-Type: "
    "application/json\r\nContent-Length: 8\r\n"
    "\r\n{\"data\":",
    "POST /publish HTTP/1.1\r\nHost: localhost\r\nContent-Type: "
    "application/json\r\nContent-Length: 13\r\n"
    "\r\n{\"id\":1,\"x\":}",
    "GET /sse?topic=%%%%%% HTTP/1.1\r\nHost: x\r\n\r\n",
    "GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n",
    "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
    "GET /sse HTTP/1.1\r\nHost: x\r\nLast-Event-ID: \x01\x02\r\n\r\n",
};

// A garbage client waits for its answer (or a close) for up to 10 s.
struct Garbage {
  std::unique_ptr<Client> client;
  Clock::time_point give_up;
};

// ------------------------------------------------------------------ run

long elapsed_s(Clock::time_point start) {
  return static_cast<long>(
      std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - start).count());
}

long env_long(const char* name, long fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::atol(value) : fallback;
}

bool parse_args(int argc, char** argv, Settings& settings) {
  settings.seconds = env_long("SOAK_SECONDS", settings.seconds);
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (i + 1 >= argc) return false;
    std::string value = argv[++i];
    if (arg == "--seconds") {
      settings.seconds = std::atol(value.c_str());
    } else if (arg == "--subscribers") {
      settings.subscribers = static_cast<std::size_t>(std::atol(value.c_str()));
    } else if (arg == "--rate") {
      settings.rate = std::atoi(value.c_str());
    } else if (arg == "--topics") {
      settings.topics = std::atoi(value.c_str());
    } else if (arg == "--server") {
      setenv("SSE_SERVER", value.c_str(), 1);
    } else {
      return false;
    }
  }
  return settings.seconds > 0 && settings.subscribers > 0 && settings.rate > 0 &&
         settings.topics > 0;
}

class Soak {
 public:
  explicit Soak(const Settings& settings)
      : settings_(settings),
        server_(server_args()),
        port_(server_.port()),
        publisher_(port_, settings.topics),
        epoll_fd_(epoll_create1(EPOLL_CLOEXEC)),
        random_(12345) {}

  ~Soak() { close(epoll_fd_); }

  int run();

 private:
  void open_subscribers();
  void add_subscriber(std::vector<int> topics);
  std::vector<int> random_topics();
  void watch(SseStream* stream, std::size_t index);
  void churn();
  void tend_hostiles(Clock::time_point now);
  void pump_ready(int timeout_ms);
  void report(Clock::time_point start, bool final_line);
  bool catch_up(Deadline deadline);
  unsigned long long behind() const;
  std::size_t open_streams_count() const;
  std::size_t drain_never_readers(bool replace);

  Settings settings_;
  ServerProcess server_;
  int port_;
  Publisher publisher_;
  int epoll_fd_;
  std::mt19937 random_;
  std::vector<std::unique_ptr<Subscriber>> subscribers_;
  std::vector<std::unique_ptr<SseStream>> never_readers_;
  std::vector<Slowloris> slowloris_;
  std::vector<Garbage> garbage_;
  Verdicts verdicts_;
  unsigned long long slow_drops_seen_ = 0;
  unsigned long long slowloris_timed_out_ = 0;
  unsigned long long garbage_sent_ = 0;
  unsigned long long garbage_unanswered_ = 0;
  long rss_start_ = 0;
  long rss_warm_ = 0;
  long rss_max_ = 0;
  long fds_start_ = 0;
};

std::vector<int> Soak::random_topics() {
  // A quarter of the subscribers follow two topics (exercising the merge of
  // several topics into one id-ordered stream), the rest one.
  std::uniform_int_distribution<int> pick(0, settings_.topics - 1);
  int first = pick(random_);
  std::vector<int> topics = {first};
  if (settings_.topics > 1 && random_() % 4 == 0) topics.push_back((first + 1) % settings_.topics);
  return topics;
}

void Soak::watch(SseStream* stream, std::size_t index) {
  epoll_event event{};
  event.events = EPOLLIN | EPOLLRDHUP;
  event.data.u64 = index;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, stream->client.fd(), &event);
}

void Soak::add_subscriber(std::vector<int> topics) {
  subscribers_.push_back(std::make_unique<Subscriber>(std::move(topics)));
  Subscriber& subscriber = *subscribers_.back();
  if (subscriber.open(port_, publisher_.record(), verdicts_)) {
    watch(subscriber.stream(), subscribers_.size() - 1);
  }
}

// The never-readers follow a topic of their own that gets one 16 kB event
// every 100 ms (160 kB/s). They read nothing for 30 s at a time, with a 4 kB
// receive window: the kernel's send buffer on loopback takes a few MB, then
// the backlog passes --max-backlog and the server drops them (measured: after
// about 20 s). The well-behaved subscribers do not follow that topic.
const char* const kBulkTarget = "/sse?topic=soak.bulk";

void Soak::open_subscribers() {
  for (std::size_t i = 0; i < settings_.subscribers; ++i) add_subscriber(random_topics());
  for (int i = 0; i < settings_.never_readers; ++i) {
    never_readers_.push_back(std::make_unique<SseStream>(port_, kBulkTarget, "", 4096));
  }
}

void Soak::churn() {
  std::uniform_int_distribution<std::size_t> pick(0, subscribers_.size() - 1);
  for (int i = 0; i < settings_.resumes_per_tick; ++i) {
    std::size_t index = pick(random_);
    Subscriber& subscriber = *subscribers_[index];
    if (!subscriber.stream()) continue;
    // Whatever was in flight, unread, dies with the reset: the replay
    // after the last id it did read must bring it back.
    subscriber.drop(true);
    if (subscriber.open(port_, publisher_.record(), verdicts_)) {
      watch(subscriber.stream(), index);
      if (subscriber.has_position()) ++verdicts_.resumes;
    }
  }
  for (int i = 0; i < settings_.leaves_per_tick; ++i) {
    // Leaves for good (a FIN), and a newcomer takes the place.
    std::size_t index = pick(random_);
    subscribers_[index]->drop(random_() % 2 == 0);
    ++verdicts_.leaves;
    subscribers_[index] = std::make_unique<Subscriber>(random_topics());
    if (subscribers_[index]->open(port_, publisher_.record(), verdicts_)) {
      watch(subscribers_[index]->stream(), index);
      ++verdicts_.joins;
    }
  }
}

void Soak::tend_hostiles(Clock::time_point now) {
  // Slowloris: trickle, notice the end, replace.
  while (slowloris_.size() < static_cast<std::size_t>(settings_.slowloris)) {
    Slowloris slow{std::make_unique<Client>(port_), now};
    slow.client->send("GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ");
    slowloris_.push_back(std::move(slow));
  }
  for (Slowloris& slow : slowloris_) {
    slow.client->read_some(0);
    if (slow.client->peer_closed() || !slow.client->buffer().empty()) {
      slowloris_timed_out_ += slow.client->buffer().rfind("HTTP/1.1 408", 0) == 0 ? 1 : 0;
      slow.client.reset();
      continue;
    }
    if (now >= slow.next_byte) {
      slow.client->send("a", 100);
      slow.next_byte = now + std::chrono::milliseconds(500);
    }
  }
  slowloris_.erase(std::remove_if(slowloris_.begin(), slowloris_.end(),
                                  [](const Slowloris& slow) { return !slow.client; }),
                   slowloris_.end());

  // Garbage: one new request per call, collected when answered or closed.
  std::size_t kinds = sizeof kGarbage / sizeof kGarbage[0];
  Garbage garbage{std::make_unique<Client>(port_), now + std::chrono::seconds(10)};
  garbage.client->send(kGarbage[garbage_sent_++ % kinds]);
  garbage_.push_back(std::move(garbage));
  for (Garbage& g : garbage_) {
    g.client->read_some(0);
    bool answered = g.client->buffer().find("\r\n\r\n") != std::string::npos;
    if (answered || g.client->peer_closed()) {
      g.client.reset();
    } else if (now >= g.give_up) {
      ++garbage_unanswered_;
      g.client.reset();
    }
  }
  garbage_.erase(
      std::remove_if(garbage_.begin(), garbage_.end(), [](const Garbage& g) { return !g.client; }),
      garbage_.end());
}

// Never-readers read nothing for 30 s at a time; then they read what is
// there, to see whether the server dropped them (the FIN waits behind the
// unread bytes). A dropped one is replaced by a new one when `replace`.
std::size_t Soak::drain_never_readers(bool replace) {
  std::size_t dropped = 0;
  for (auto& stream : never_readers_) {
    Deadline deadline = after_ms(2000);
    while (!stream->client.peer_closed() && ms_left(deadline) > 0 &&
           stream->client.read_some(50) > 0) {
      stream->client.buffer().clear();
    }
    if (!stream->client.peer_closed()) continue;
    ++dropped;
    if (replace) stream = std::make_unique<SseStream>(port_, kBulkTarget, "", 4096);
  }
  return dropped;
}

void Soak::pump_ready(int timeout_ms) {
  epoll_event events[256];
  int ready = epoll_wait(epoll_fd_, events, 256, timeout_ms);
  for (int i = 0; i < ready; ++i) {
    std::size_t index = static_cast<std::size_t>(events[i].data.u64);
    if (index < subscribers_.size()) subscribers_[index]->pump(publisher_.record(), verdicts_);
  }
}

unsigned long long Soak::behind() const {
  unsigned long long missing = 0;
  for (const auto& subscriber : subscribers_) {
    if (subscriber->stream()) missing += subscriber->behind(publisher_.record());
  }
  return missing;
}

std::size_t Soak::open_streams_count() const {
  std::size_t open = 0;
  for (const auto& subscriber : subscribers_) open += subscriber->stream() ? 1 : 0;
  return open;
}

bool Soak::catch_up(Deadline deadline) {
  while (behind() > 0) {
    if (ms_left(deadline) == 0) return false;
    pump_ready(std::min(100, ms_left(deadline)));
  }
  return true;
}

void Soak::report(Clock::time_point start, bool final_line) {
  long rss = server_.rss_kib();
  rss_max_ = std::max(rss_max_, rss);
  std::string body = stats(port_);
  std::printf(
      "%s%5lds  rss %6.1f MiB  fds %5ld  subscribers %5.0f (ours %zu)  published %9llu  "
      "delivered %11llu  lost %llu  dup %llu  wrong %llu  gaps %llu  resumes %llu  "
      "slow-dropped %.0f  408s %.0f\n",
      final_line ? "end " : "", elapsed_s(start), static_cast<double>(rss) / 1024.0,
      server_.fd_count(), json_number(body, "subscribers"), open_streams_count(),
      publisher_.record().total, verdicts_.delivered, verdicts_.lost, verdicts_.duplicated,
      verdicts_.wrong, verdicts_.gaps, verdicts_.resumes,
      json_number(body, "slow_consumers_dropped"), json_number(body, "header_timeouts"));
  std::fflush(stdout);
}

int Soak::run() {
  auto start = Clock::now();
  rss_start_ = server_.rss_kib();
  fds_start_ = server_.fd_count();
  std::printf("soak: %ld s, %zu subscribers, %d events/s over %d topics, server pid %d port %d\n",
              settings_.seconds, settings_.subscribers, settings_.rate, settings_.topics,
              static_cast<int>(server_.pid()), port_);
  open_subscribers();
  std::printf("soak: %zu subscribers open after %ld s\n", open_streams_count(), elapsed_s(start));

  // Warm-up: long enough for the history to fill (2048 events) and the
  // allocator to reach its working size; a fifth of the run, 20-120 s.
  long warm_up_s = std::clamp(settings_.seconds / 5, 20L, 120L);
  auto end = start + std::chrono::seconds(settings_.seconds);
  auto next_publish = Clock::now();
  auto next_tick = Clock::now();
  auto next_report = start + std::chrono::seconds(settings_.report_every_s);
  auto next_drain = start + std::chrono::seconds(30);
  auto next_bulk = Clock::now();
  bool warm = false;
  bool publishing_ok = true;

  while (Clock::now() < end && publishing_ok) {
    auto now = Clock::now();
    if (now >= next_publish) {
      // What the rate says is due by now, so that a slow pass of this loop
      // makes the next batch bigger rather than the run's rate lower.
      auto since = std::chrono::duration_cast<std::chrono::milliseconds>(now - start).count();
      long due = static_cast<long>(since * settings_.rate / 1000) -
                 static_cast<long>(publisher_.record().total);
      if (due > 0) publishing_ok = publisher_.publish(static_cast<int>(due));
      next_publish += std::chrono::milliseconds(50);
    }
    if (now >= next_tick) {
      churn();
      tend_hostiles(now);
      next_tick += std::chrono::milliseconds(100);
    }
    if (now >= next_bulk) {
      publishing_ok = publishing_ok && publisher_.publish_bulk();
      next_bulk += std::chrono::milliseconds(100);
    }
    if (now >= next_drain) {
      slow_drops_seen_ += drain_never_readers(true);
      next_drain += std::chrono::seconds(30);
    }
    if (!warm && now >= start + std::chrono::seconds(warm_up_s)) {
      warm = true;
      rss_warm_ = server_.rss_kib();
      std::printf("soak: warm-up over after %ld s, server RSS %.1f MiB\n", warm_up_s,
                  static_cast<double>(rss_warm_) / 1024.0);
    }
    if (now >= next_report) {
      report(start, false);
      next_report += std::chrono::seconds(settings_.report_every_s);
    }
    auto wake = std::min({next_publish, next_tick, next_report, next_bulk});
    int wait_ms = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(wake - Clock::now()).count());
    pump_ready(std::max(0, wait_ms));
  }
  if (!warm) rss_warm_ = server_.rss_kib();
  long rss_end = server_.rss_kib();

  // Publishing stops; everyone must catch up with the last event of each
  // of their topics. What is still missing then is lost.
  bool caught_up = catch_up(after_ms(30000));
  unsigned long long tail = behind();
  verdicts_.lost += tail;
  slow_drops_seen_ += drain_never_readers(false);
  report(start, true);

  // /stats must agree with what the clients saw.
  std::string body = stats(port_);
  std::size_t never_open = 0;
  for (auto& stream : never_readers_) never_open += stream->client.peer_closed() ? 0 : 1;
  double server_subscribers = json_number(body, "subscribers");
  double server_drops = json_number(body, "slow_consumers_dropped");
  double server_events = json_number(body, "events_published");
  double ticks = json_number(body, "ticks");
  bool stats_agree =
      server_subscribers == static_cast<double>(open_streams_count() + never_open) &&
      server_drops == static_cast<double>(slow_drops_seen_) &&
      server_events == static_cast<double>(publisher_.record().total + publisher_.bulk()) + ticks;

  // Everyone leaves: the server's descriptors go back to where they began.
  subscribers_.clear();
  never_readers_.clear();
  slowloris_.clear();
  garbage_.clear();
  // (The ticker opens /proc files for a moment each tick, so a single
  // reading may be one high: wait for the count, with a deadline.)
  Deadline deadline = after_ms(10000);
  long fds_end = server_.fd_count();
  while (fds_end > fds_start_ && ms_left(deadline) > 0) {
    poll(nullptr, 0, 50);
    fds_end = server_.fd_count();
  }

  auto stop = Clock::now();
  ExitStatus status = server_.signal_and_wait(SIGTERM, 5000);
  long stop_ms = static_cast<long>(
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - stop).count());

  long rss_limit =
      rss_warm_ + std::max(kRssSlackKib, static_cast<long>(rss_warm_ * kRssSlackShare));
  bool memory_ok = rss_end <= rss_limit;
  bool fds_ok = fds_end <= fds_start_;
  bool exit_ok = status.exited && status.code == 0;

  std::printf(
      "\nsoak summary (%ld s)\n"
      "  events published        %llu (%d/s over %d topics)\n"
      "  deliveries verified     %llu\n"
      "  lost %llu, duplicated or reordered %llu, wrong %llu, gap notices %llu\n"
      "  subscribers: unexpected closes %llu, failed opens %llu\n"
      "  churn: %llu resumes with Last-Event-ID, %llu left, %llu joined\n"
      "  hostile: %llu never-readers dropped (server counted %.0f), %llu slowloris 408s, "
      "%llu garbage requests (%llu unanswered in 10 s)\n"
      "  server RSS: start %.1f MiB, after warm-up %.1f MiB, end %.1f MiB, max %.1f MiB "
      "(limit %.1f MiB) %s\n"
      "  server fds: start %ld, end %ld %s\n"
      "  /stats agrees with the clients: %s (subscribers %.0f, drops %.0f, events %.0f)\n"
      "  caught up after publishing stopped: %s\n"
      "  SIGTERM: exit %d after %ld ms %s\n",
      elapsed_s(start), publisher_.record().total, settings_.rate, settings_.topics,
      verdicts_.delivered, verdicts_.lost, verdicts_.duplicated, verdicts_.wrong, verdicts_.gaps,
      verdicts_.unexpected_closes, verdicts_.failed_opens, verdicts_.resumes, verdicts_.leaves,
      verdicts_.joins, slow_drops_seen_, server_drops, slowloris_timed_out_, garbage_sent_,
      garbage_unanswered_, rss_start_ / 1024.0, rss_warm_ / 1024.0, rss_end / 1024.0,
      rss_max_ / 1024.0, rss_limit / 1024.0, memory_ok ? "ok" : "GREW", fds_start_, fds_end,
      fds_ok ? "ok" : "LEAKED", stats_agree ? "yes" : "NO", server_subscribers, server_drops,
      server_events, caught_up ? "yes" : "NO", status.code, stop_ms, exit_ok ? "ok" : "FAILED");

  // The never-readers are first drained after 30 s and dropped after ~20 s:
  // a run of a minute or more must have seen the server drop one.
  bool drops_ok = slow_drops_seen_ > 0 || settings_.seconds < 60;
  bool ok = publishing_ok && verdicts_.failures() == 0 && memory_ok && fds_ok && stats_agree &&
            caught_up && exit_ok && drops_ok && garbage_unanswered_ == 0;
  std::printf("soak: %s\n", ok ? "PASS" : "FAIL");
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  if (!parse_args(argc, argv, settings)) {
    std::fprintf(stderr,
                 "usage: soak [--seconds N] [--subscribers N] [--rate N] [--topics N] "
                 "[--server PATH]\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  try {
    Soak soak(settings);
    return soak.run();
  } catch (const std::exception& error) {
    std::fprintf(stderr, "soak: %s\n", error.what());
    return 1;
  }
}
