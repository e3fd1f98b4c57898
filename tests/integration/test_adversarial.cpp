// test_adversarial.cpp — hostile and broken clients (issue 5): slowloris, a
// subscriber that never reads, thousands of subscribers vanishing with a
// reset, more connections than --max-clients, running out of file
// descriptors, request smuggling and path traversal shapes, half-closed
// sockets, and SIGTERM with thousands of streams open.
//
// Each case checks three things besides its own verdict: the well-behaved
// clients beside the hostile ones lost nothing, the /stats counters agree
// with what the clients saw, and the server's memory did not grow.
//
// Memory is judged round over round, not against the fresh process: neither
// glibc's malloc nor AddressSanitizer's allocator hands freed memory back to
// the kernel promptly, so the first rounds of a case leave their peak
// mapped. So every case runs its hostile round to warm up (twice, where a
// round is quick), takes the RSS as its baseline, runs it again and
// requires the RSS to stay within kRssSlackKib of that baseline. Measured
// on the churn case (ASan build): 10 MiB fresh, 17 MiB after two warm-up
// rounds of 2,000 vanishing subscribers, then +4 to +44 KiB per round (the
// history filling). Memory kept per hostile connection (a leaked read
// buffer is 16 KiB) shows up as megabytes per round; LeakSanitizer, at the
// server's exit, catches what is unreachable.
//
// Every loop is bounded and every wait is a condition with a deadline. The
// deadlines are generous: the server under test is an ASan build on a
// shared two-core machine.
#include <doctest/doctest.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "harness.h"

namespace {

using Ids = std::vector<unsigned long long>;
using Streams = std::vector<std::unique_ptr<SseStream>>;

// 4 MiB: the growth measured between rounds after warm-up is ~0.01 MiB;
// keeping 1 KiB per connection over two rounds of 2,000 would exceed it.
constexpr long kRssSlackKib = 4 * 1024;

// Runs `round` `warm_up` times, takes the RSS as the baseline, runs it
// `measured` times more and checks the RSS stayed within kRssSlackKib of the
// baseline. Rounds are numbered from 0 across both phases.
template <typename Round>
void check_memory_flat(ServerProcess& server, int warm_up, int measured, Round round) {
  int number = 0;
  for (int i = 0; i < warm_up; ++i) round(number++);
  long baseline = server.rss_kib();
  REQUIRE(baseline > 0);
  for (int i = 0; i < measured; ++i) round(number++);
  long after = server.rss_kib();
  MESSAGE("server RSS after " << warm_up << " warm-up round(s): " << baseline << " KiB; after "
                              << measured << " more: " << after << " KiB");
  CHECK(after <= baseline + kRssSlackKib);
}

// A batch of `count` events on `topic`, published on a fresh connection;
// returns their ids.
Ids publish_batch(int port, const std::string& topic, int count) {
  std::string json = "[";
  for (int i = 0; i < count; ++i) {
    if (i > 0) json += ",";
    json += R"({"topic":")" + topic + R"(","data":{"n":)" + std::to_string(i) + "}}";
  }
  json += "]";
  HttpResponse response = publish(port, json);
  REQUIRE(response.status == 202);
  Ids ids = published_ids(response.body);
  REQUIRE(ids.size() == static_cast<std::size_t>(count));
  return ids;
}

// The same on a connection the test keeps open (where a fresh one would be
// refused: over --max-clients or out of descriptors).
unsigned long long publish_on(Client& client, const std::string& json) {
  REQUIRE(client.send(publish_request(json)));
  HttpResponse response = client.read_response(after_ms(10000));
  REQUIRE(response.status == 202);
  Ids ids = published_ids(response.body);
  REQUIRE(ids.size() == 1);
  return ids[0];
}

HttpResponse get_on(Client& client, const std::string& path) {
  client.send("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n");
  return client.read_response(after_ms(10000));
}

std::vector<SseStream*> pointers(const Streams& streams) {
  std::vector<SseStream*> out;
  for (const auto& stream : streams) out.push_back(stream.get());
  return out;
}

// Reads every stream until each has an event with id `id` or later.
bool all_reach(const Streams& streams, unsigned long long id, Deadline deadline) {
  std::vector<SseStream*> waiting = pointers(streams);
  while (!waiting.empty()) {
    waiting.erase(std::remove_if(waiting.begin(), waiting.end(),
                                 [id](SseStream* s) { return s->max_id() >= id; }),
                  waiting.end());
    if (waiting.empty()) return true;
    if (ms_left(deadline) == 0) return false;
    pump_streams(waiting, std::min(100, ms_left(deadline)));
  }
  return true;
}

// Every stream received exactly `expected`, in order: nothing lost,
// duplicated or reordered.
void check_received_exactly(const Streams& streams, const Ids& expected) {
  REQUIRE(!expected.empty());
  CHECK(all_reach(streams, expected.back(), after_ms(10000)));
  for (std::size_t i = 0; i < streams.size(); ++i) {
    CAPTURE(i);
    CHECK(event_ids(streams[i]->parser) == expected);
    CHECK_FALSE(streams[i]->client.peer_closed());
  }
}

// GET /health on a fresh connection is answered within a generous deadline.
bool health_answers(int port, long ms = 5000) {
  Client client(port);
  client.send("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  HttpResponse response = client.read_response(after_ms(ms));
  return response.status == 200 && response.body == "ok";
}

double stat(int port, const std::string& key) {
  return json_number(stats(port), key);
}

// Takes the server once through the code paths the fd tests use. Under
// UBSan this is needed, not cosmetic: the first check of an object's
// dynamic type (-fsanitize=vptr) probes memory through a pipe(), which
// fails when the process is out of descriptors, and UBSan then reports a
// bogus "invalid vptr" and aborts. Checked types are cached, so a server
// that has done everything once is safe to starve. A release build has no
// such checks. The server must run with a short --heartbeat-ms, so that its
// housekeeping timer fires here and not first while it is starved.
void exercise(int port) {
  REQUIRE(publish(port, R"({"topic":"warm-up","data":1})").status == 202);
  {
    SseStream stream(port, "/sse?topic=warm-up");
    REQUIRE(stream.head.status == 200);
    // A heartbeat comes from the housekeeping timer.
    REQUIRE(stream.wait_for(
        [](const SseParser& p) {
          return std::count_if(p.lines.begin(), p.lines.end(),
                               [](const SseLine& line) { return line.comment; }) >= 2;
        },
        after_ms(10000)));
    stream.client.close_abruptly();
  }
  http_get(port, "/index.html");
  http_get(port, "/no-such-file");
  http_raw(port, "BAD\r\n\r\n");
  REQUIRE(wait_stat_equal(port, "connections", 1, after_ms(10000)));
}

}  // namespace

// ------------------------------------------------------------------ slowloris

TEST_CASE("slowloris connections are timed out while /health stays answered") {
  ServerProcess server({"--tick-ms", "0", "--header-timeout-ms", "1000"}, measured());
  int port = server.port();
  const int kSlow = 300;
  int seen_408 = 0;

  // A third trickle header bytes, a third trickle a publish body (the
  // timeout bounds the whole request), a third connect and say nothing.
  auto round = [&](int number) {
    CAPTURE(number);
    std::vector<std::unique_ptr<Client>> slow;
    for (int i = 0; i < kSlow; ++i) {
      slow.push_back(std::make_unique<Client>(port));
      if (i % 3 == 0) slow.back()->send("GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ");
      if (i % 3 == 1) {
        slow.back()->send(
            "POST /publish HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            "Content-Length: 100000\r\n\r\n{\"data\":\"");
      }
    }
    int health_checks = 0;
    Deadline give_up = after_ms(20000);
    for (;;) {
      std::vector<Client*> open;
      for (int i = 0; i < kSlow; ++i) {
        Client& client = *slow[i];
        if (client.peer_closed()) continue;
        open.push_back(&client);
        // One more byte from each trickler still waiting for an answer.
        if (i % 3 != 2 && client.buffer().empty()) client.send("a", 100);
      }
      if (open.empty() || ms_left(give_up) == 0) break;
      read_ready(open, 100);
      // Whatever the slow ones do, a fresh client is answered.
      CHECK(health_answers(port));
      ++health_checks;
    }
    CHECK(health_checks >= 3);
    for (int i = 0; i < kSlow; ++i) {
      CAPTURE(i);
      Client& client = *slow[i];
      CHECK(client.peer_closed());
      bool got_408 = client.buffer().rfind("HTTP/1.1 408 ", 0) == 0;
      seen_408 += got_408 ? 1 : 0;
      // Those that started a request are owed a 408; the silent ones may
      // just be closed.
      if (i % 3 != 2) CHECK(got_408);
      if (i % 3 == 2) CHECK((got_408 || client.buffer().empty()));
    }
  };
  check_memory_flat(server, 2, 1, round);

  // One /stats connection is all that is left; every 408 is counted.
  CHECK(wait_stat_equal(port, "connections", 1, after_ms(10000)));
  std::string body = stats(port);
  CHECK(json_number(body, "header_timeouts") == seen_408);
  CHECK(json_number(body, "subscribers") == 0);
  CHECK(json_number(body, "events_published") == 0);  // no trickled body was taken
}

// ---------------------------------------------------------- slow consumers

TEST_CASE("a subscriber that never reads is dropped at --max-backlog; the others get every event") {
  // A short history: the bulky events below would otherwise be kept, 1024
  // of them, and hide any other growth.
  ServerProcess server({"--tick-ms", "0", "--max-backlog", "65536", "--history", "8"}, measured());
  int port = server.port();
  Streams readers = open_streams(port, 3, "/sse?topic=bulk");
  Ids published;
  int closed_seen = 0;
  const std::string bulky = R"({"topic":"bulk","data":")" + std::string(16000, 'x') + R"("})";

  auto round = [&](int number) {
    CAPTURE(number);
    // The stalled client shrinks its receive window before connecting, so
    // the kernel buffers fill fast and the backlog lands in the server.
    SseStream stalled(port, "/sse?topic=bulk", "", 4096);
    REQUIRE(stalled.head.status == 200);
    double dropped_before = stat(port, "slow_consumers_dropped");
    Deadline deadline = after_ms(30000);
    double dropped = dropped_before;
    while (dropped == dropped_before && ms_left(deadline) > 0) {
      HttpResponse response = publish(port, bulky);
      REQUIRE(response.status == 202);
      published.push_back(published_ids(response.body).at(0));
      pump_streams(pointers(readers), 20);  // the readers keep reading
      dropped = stat(port, "slow_consumers_dropped");
    }
    CHECK(dropped == dropped_before + 1);  // the stalled one, and only it
    if (number == 0)
      MESSAGE("the stalled subscriber was dropped after " << published.size()
                                                          << " events of 16 kB");
    // Once it reads, it finds its stream closed with a FIN, and what it got
    // before is a gap-free prefix of what was published.
    CHECK(stalled.client.wait_closed(after_ms(20000)));
    CHECK_FALSE(stalled.client.peer_reset());
    closed_seen += stalled.client.peer_closed() ? 1 : 0;
    Ids got = event_ids(stalled.parser);
    CHECK(got.size() < published.size());
    if (!got.empty()) {
      auto first = std::find(published.begin(), published.end(), got.front());
      REQUIRE(static_cast<std::size_t>(published.end() - first) >= got.size());
      CHECK(Ids(first, first + static_cast<std::ptrdiff_t>(got.size())) == got);
    }
    check_received_exactly(readers, published);
  };
  check_memory_flat(server, 2, 2, round);

  std::string body = stats(port);
  CHECK(json_number(body, "slow_consumers_dropped") == closed_seen);
  CHECK(json_number(body, "subscribers") == 3);
  CHECK(json_number(body, "events_published") == published.size());
}

// -------------------------------------------------------------------- churn

TEST_CASE("thousands of subscribers vanishing with a reset lose nothing for the others") {
  ServerProcess server({"--tick-ms", "0"}, measured());
  int port = server.port();
  Streams steady = open_streams(port, 5, "/sse?topic=churn");
  Ids published;
  int unheard = 0;
  int fully_opened = 0;
  int requested = 0;
  const int kBatches = 10;
  const int kBatch = 200;  // 2,000 vanishing subscribers per round

  auto round = [&](int number) {
    CAPTURE(number);
    for (int batch = 0; batch < kBatches; ++batch) {
      // Three ways to vanish: a quarter reset halfway through the request,
      // a quarter right after sending it (the head may meet a reset), half
      // after being subscribed, with events unread in their buffers.
      std::vector<std::unique_ptr<Client>> halfway;
      Streams unanswered;
      for (int i = 0; i < kBatch / 4; ++i) {
        halfway.push_back(std::make_unique<Client>(port));
        halfway.back()->send("GET /sse?topic=churn HTTP/1.1\r\nHo");
        unanswered.push_back(
            std::make_unique<SseStream>(SseStream::NoWait{}, port, "/sse?topic=churn"));
      }
      Streams subscribed = open_streams(port, kBatch / 4, "/sse?topic=churn");
      // The other subscribed quarter also invent 31 topics each, which the
      // server must forget when they leave.
      std::string prefix = "r" + std::to_string(number) + "b" + std::to_string(batch);
      for (int i = 0; i < kBatch / 4; ++i) {
        std::string target = "/sse?topic=churn";
        for (int k = 0; k < 31; ++k) {
          target += "&topic=" + prefix + "s" + std::to_string(i) + "t" + std::to_string(k);
        }
        subscribed.push_back(std::make_unique<SseStream>(SseStream::NoWait{}, port, target));
      }
      for (std::size_t i = kBatch / 4; i < subscribed.size(); ++i) {
        REQUIRE(subscribed[i]->finish_open(after_ms(10000)));
      }
      requested += kBatch / 4 + kBatch / 2;
      fully_opened += kBatch / 2;
      Ids ids = publish_batch(port, "churn", 3);
      published.insert(published.end(), ids.begin(), ids.end());
      // Events for topics nobody listens to: kept in the history only.
      std::string json = "[";
      for (int k = 0; k < 10; ++k) {
        json += std::string(k > 0 ? "," : "") + R"({"topic":")" + prefix + "nobody" +
                std::to_string(k) + R"(","data":0})";
      }
      REQUIRE(publish(port, json + "]").status == 202);
      unheard += 10;
      for (auto& client : halfway) client->close_abruptly();
      for (auto& stream : unanswered) stream->client.close_abruptly();
      for (auto& stream : subscribed) stream->client.close_abruptly();
      // More events while the server is still finding out about the resets.
      ids = publish_batch(port, "churn", 2);
      published.insert(published.end(), ids.begin(), ids.end());
      pump_streams(pointers(steady), 0);
      REQUIRE(server.running());
    }
    CHECK(wait_stat_equal(port, "subscribers", 5, after_ms(10000)));
    check_received_exactly(steady, published);
  };
  check_memory_flat(server, 2, 2, round);

  CHECK(wait_stat_equal(port, "connections", 5 + 1, after_ms(10000)));
  std::string body = stats(port);
  CHECK(json_number(body, "subscribers") == 5);
  CHECK(json_number(body, "events_published") == published.size() + unheard);
  CHECK(json_number(body, "history_size") <= 1024);
  // Of all the invented topics, none is left: only "churn" has subscribers.
  CHECK(body.find(R"("topics":{"churn":5})") != std::string::npos);
  CHECK(json_number(body, "slow_consumers_dropped") == 0);
  CHECK(json_number(body, "header_timeouts") == 0);
  // Every stream that got its head was opened; those reset right after the
  // request may or may not have been.
  double opened = json_number(body, "streams_opened");
  CHECK(opened >= 5 + fully_opened);
  CHECK(opened <= 5 + requested);
}

// ------------------------------------------------------ pipelining, unread

TEST_CASE("clients that pipeline requests and never read the answers hold bounded memory") {
  ServerProcess server({"--tick-ms", "0", "--header-timeout-ms", "1000"}, measured());
  int port = server.port();
  // Each /stats answer is ~1 kB for 34 bytes of request: 4 clients sending
  // 2 MB each would be owed 250 MB of answers if the server read on while
  // they do not read.
  std::string requests;
  while (requests.size() < 64 * 1024) requests += "GET /stats HTTP/1.1\r\nHost: x\r\n\r\n";
  const long fresh = server.rss_kib();
  long peak = fresh;

  auto round = [&](int number) {
    CAPTURE(number);
    std::vector<std::unique_ptr<Client>> greedy;
    for (int i = 0; i < 4; ++i) greedy.push_back(std::make_unique<Client>(port));
    // Send until the server stops taking requests (every buffer on the way
    // is full), or 2 MB each.
    for (auto& client : greedy) {
      for (int sent = 0; sent < 32 && client->send(requests, 100); ++sent) {
      }
    }
    CHECK(health_answers(port));
    // The server gives up on them at the header timeout, as they owe it
    // reads; until then the RSS is sampled every 20 ms.
    Deadline deadline = after_ms(10000);
    std::vector<pollfd> fds;
    for (auto& client : greedy) fds.push_back(pollfd{client->fd(), POLLRDHUP, 0});
    auto all_closed = [&] {
      return std::all_of(fds.begin(), fds.end(), [](const pollfd& p) { return p.revents != 0; });
    };
    while (ms_left(deadline) > 0 && !all_closed()) {
      peak = std::max(peak, server.rss_kib());
      for (pollfd& pfd : fds) {
        if (pfd.revents == 0) poll(&pfd, 1, 0);
      }
      if (!all_closed()) poll(nullptr, 0, 20);
    }
    CHECK(all_closed());
    greedy.clear();
    CHECK(wait_stat_equal(port, "connections", 1, after_ms(10000)));
  };
  check_memory_flat(server, 1, 1, round);
  // From a fresh server, the first round's growth is mostly the allocator
  // (and ASan) setting up; later rounds add ~0 (measured: +9 MiB, +12 KiB).
  MESSAGE("server RSS fresh " << fresh << " KiB, at most " << peak
                              << " KiB while the clients held unread answers");
  CHECK(peak - fresh < 16 * 1024);
}

// -------------------------------------------------------------- max-clients

TEST_CASE("connections beyond --max-clients get 503 with Retry-After, and slots free up") {
  const int kMax = 100;
  ServerProcess server({"--tick-ms", "0", "--max-clients", std::to_string(kMax)}, measured());
  int port = server.port();
  // The control connection is one of the kMax; /stats and publishing go
  // through it, since a fresh connection would be refused.
  Client control(port);
  REQUIRE(get_on(control, "/health").status == 200);
  Streams streams = open_streams(port, kMax - 1);
  int rejected = 0;

  auto round = [&](int number) {
    CAPTURE(number);
    for (int batch = 0; batch < 3; ++batch) {
      std::vector<std::unique_ptr<Client>> extra;
      for (int i = 0; i < 50; ++i) {
        extra.push_back(std::make_unique<Client>(port));
        extra.back()->send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
      }
      for (auto& client : extra) {
        HttpResponse response = client->read_response(after_ms(10000));
        CHECK(response.status == 503);
        CHECK(!response.header("retry-after").empty());
        CHECK(client->wait_closed(after_ms(10000)));
        rejected += response.status == 503 ? 1 : 0;
      }
    }
    // The streams were never disturbed.
    unsigned long long id = publish_on(control, R"({"data":"still here"})");
    CHECK(all_reach(streams, id, after_ms(10000)));
    // Half the streams leave; once the server has seen them (and the
    // refused connections) go, their slots are usable again.
    for (std::size_t i = 0; i < streams.size(); i += 2) streams[i]->client.close_abruptly();
    Deadline deadline = after_ms(10000);
    while (json_number(get_on(control, "/stats").body, "connections") != 1 + (kMax - 1) / 2 &&
           ms_left(deadline) > 0) {
      pump_streams(pointers(streams), 50);
    }
    for (std::size_t i = 0; i < streams.size(); i += 2) {
      streams[i] = std::make_unique<SseStream>(port);
      CHECK(streams[i]->head.status == 200);
    }
  };
  check_memory_flat(server, 2, 2, round);

  std::string body = get_on(control, "/stats").body;
  CHECK(json_number(body, "connections_rejected") == rejected);
  CHECK(json_number(body, "subscribers") == kMax - 1);
  CHECK(json_number(body, "connections") == kMax);
}

// ----------------------------------------------------------- fd exhaustion

TEST_CASE("running out of file descriptors sheds connections, and the server recovers") {
  // A hard limit of 256 descriptors, and --max-clients far above it, so
  // that accept() itself fails with EMFILE instead of the 503 path.
  ServerProcess server({"--tick-ms", "0", "--heartbeat-ms", "100", "--max-clients", "100000"},
                       measured(256));
  int port = server.port();
  exercise(port);
  Client control(port);
  REQUIRE(get_on(control, "/health").status == 200);
  Streams streams = open_streams(port, 100);
  // The server's descriptors once only the control connection and the
  // streams are open (asked on the control connection, which needs no new
  // descriptor, so the answer is exact).
  auto settled_fd_count = [&] {
    Deadline deadline = after_ms(10000);
    while (json_number(get_on(control, "/stats").body, "connections") != 101 &&
           ms_left(deadline) > 0) {
      pump_streams(pointers(streams), 20);
    }
    return server.fd_count();
  };
  const long fds_in_use = settled_fd_count();
  CHECK(fds_in_use < 256);

  auto round = [&](int number) {
    CAPTURE(number);
    auto shed_so_far = [&] {
      return json_number(get_on(control, "/stats").body, "connections_shed");
    };
    const double shed_before = shed_so_far();
    // 300 more connections than fit: each asks for /health and keeps the
    // connection open.
    std::vector<std::unique_ptr<Client>> flood;
    for (int i = 0; i < 300; ++i) {
      flood.push_back(std::make_unique<Client>(port));
      flood.back()->send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
    }
    int answered = 0;
    int shed = 0;
    for (auto& client : flood) {
      HttpResponse response = client->read_response(after_ms(10000));
      if (response.status == 200) {
        ++answered;
      } else {
        // Not left hanging in the accept queue: closed at once.
        CHECK(client->wait_closed(after_ms(10000)));
        ++shed;
      }
    }
    if (number == 0)
      MESSAGE("of 300 connections over the fd limit, " << answered << " were answered and " << shed
                                                       << " shed");
    CHECK(answered > 0);
    CHECK(shed > 0);
    CHECK(server.fd_count() <= 256);

    // While exhausted: the established connections still work...
    CHECK(get_on(control, "/health").status == 200);
    unsigned long long id = publish_on(control, R"({"data":"exhausted"})");
    CHECK(all_reach(streams, id, after_ms(10000)));
    // ...and new connections are refused promptly, not left to hang, and
    // without the server spinning on a listener it cannot accept from (the
    // classic EMFILE busy loop): one every 50 ms for half a second.
    long cpu_before = server.cpu_ms();
    auto window_start = std::chrono::steady_clock::now();
    for (int i = 0; i < 10; ++i) {
      Deadline next = after_ms(50);
      Client late(port);
      late.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
      CHECK(late.wait_closed(after_ms(10000)));
      CHECK(late.buffer().empty());
      // Wait out the rest of the 50 ms, watching the control connection:
      // nothing may arrive on it.
      control.read_some(ms_left(next));
      CHECK(control.buffer().empty());
    }
    long window_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::steady_clock::now() - window_start)
                         .count();
    long cpu_used = server.cpu_ms() - cpu_before;
    CAPTURE(window_ms);
    CHECK(cpu_used < window_ms / 2);
    // The server counted every connection it shed: the flood's and the
    // ten late ones.
    CHECK(shed_so_far() - shed_before == shed + 10);

    // The flood leaves; everything works again.
    flood.clear();
    CHECK(settled_fd_count() == fds_in_use);
    CHECK(health_answers(port));
    Streams fresh = open_streams(port, 20);
    id = publish_batch(port, "main", 1).at(0);
    CHECK(all_reach(fresh, id, after_ms(10000)));
    CHECK(all_reach(streams, id, after_ms(10000)));
  };
  check_memory_flat(server, 2, 2, round);

  CHECK(wait_stat_equal(port, "subscribers", 100, after_ms(10000)));
  CHECK(server.running());
}

TEST_CASE("out of descriptors, an existing file is not reported as missing") {
  // Static files need a descriptor each; when there is none, the answer
  // must be a server error (nginx: 500), not a 404 that tells caches and
  // users the file does not exist.
  TempDir www;
  www.write("index.html", "<p>hi</p>");
  ServerProcess server(
      {"--www", www.path(), "--tick-ms", "0", "--heartbeat-ms", "100", "--max-clients", "100000"},
      measured(64));
  int port = server.port();
  exercise(port);
  Client control(port);
  REQUIRE(get_on(control, "/index.html").status == 200);
  std::vector<std::unique_ptr<Client>> flood;
  for (int i = 0; i < 80; ++i) {
    flood.push_back(std::make_unique<Client>(port));
    flood.back()->send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
  }
  int shed = 0;
  for (auto& client : flood) shed += client->read_response(after_ms(10000)).status == 0 ? 1 : 0;
  REQUIRE(shed > 0);  // the server is out of descriptors now
  HttpResponse response = get_on(control, "/index.html");
  CHECK(response.status != 404);
  CHECK((response.status == 200 || response.status >= 500));
  flood.clear();
  Deadline deadline = after_ms(10000);
  int status = 0;
  while (status != 200 && ms_left(deadline) > 0) status = get_on(control, "/index.html").status;
  CHECK(status == 200);
}

// ------------------------------------------------------------ smuggling

namespace {

// One hostile request. `statuses` are the acceptable first answers. When
// the server keeps the connection, a /health request follows on it and
// must get the very next response: whatever the hostile request carried in
// its body was not taken for a request of its own.
struct Shape {
  const char* name;
  std::string raw;
  std::vector<int> statuses;
};

std::string with_nul(std::string text, char marker = '@') {
  std::replace(text.begin(), text.end(), marker, '\0');
  return text;
}

const std::string kSmuggled = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";

std::string hex(std::size_t n) {
  char text[32];
  std::snprintf(text, sizeof text, "%zx", n);
  return text;
}

}  // namespace

TEST_CASE("request smuggling shapes are refused or framed one way only") {
  // test_http_errors.cpp covers CL+TE, two different Content-Lengths, bad
  // Content-Length values and an unknown coding; these are the others.
  ServerProcess server({"--tick-ms", "50"});
  int port = server.port();
  SseStream subscriber(port);
  REQUIRE(subscriber.head.status == 200);
  const std::string post =
      "POST /publish HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n";
  const Shape shapes[] = {
      {"chunked in HTTP/1.0",
       "POST /publish HTTP/1.0\r\nContent-Type: application/json\r\n"
       "Transfer-Encoding: chunked\r\n\r\na\r\n{\"data\":1}\r\n0\r\n\r\n",
       {400}},
      {"two Transfer-Encoding headers",
       post + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
       {400}},
      {"a repeated coding",
       post + "Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n",
       {400, 501}},
      {"chunked not last",
       post + "Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n",
       {400, 501}},
      {"space before the colon", post + "Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n", {400}},
      {"vertical tab before the value",
       post + "Transfer-Encoding:\x0b"
              "chunked\r\n\r\n0\r\n\r\n",
       {400}},
      {"a list of different lengths", post + "Content-Length: 5, 6\r\n\r\nabcdef", {400}},
      {"a signed length", post + "Content-Length: +5\r\n\r\nabcde", {400}},
      {"a hex length", post + "Content-Length: 0x5\r\n\r\nabcde", {400}},
      {"a bare CR hiding a header",
       post + "X-A: a\rTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
       {400}},
      {"a NUL in a header value", with_nul(post + "X-A: a@b\r\nContent-Length: 0\r\n\r\n"), {400}},
      {"a non-token byte in a header name", post + "X-\xff: a\r\nContent-Length: 0\r\n\r\n", {400}},
      {"two Host headers", "GET /health HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", {400}},
      {"a folded line hiding Transfer-Encoding",
       "GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nX-Pad: a\r\n"
       " Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
       {400, 200}},
      {"the same length twice",
       "GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
       "Content-Length: 5\r\n\r\nabcde",
       {200, 400}},
      {"a request inside a Content-Length body",
       "GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(kSmuggled.size()) +
           "\r\n\r\n" + kSmuggled,
       {200}},
      {"a request inside a chunk, and a length in the trailer",
       "GET /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
           hex(kSmuggled.size()) + "\r\n" + kSmuggled + "\r\n0\r\nContent-Length: 1000\r\n\r\n",
       {200}},
      {"a chunk size with 0x",
       post + "Transfer-Encoding: chunked\r\n\r\n0x5\r\nabcde\r\n0\r\n\r\n",
       {400}},
      {"a chunk size after a space",
       post + "Transfer-Encoding: chunked\r\n\r\n 5\r\nabcde\r\n0\r\n\r\n",
       {400}},
      {"chunk data longer than its size",
       post + "Transfer-Encoding: chunked\r\n\r\n5\r\nabcde" + kSmuggled + "\r\n0\r\n\r\n",
       {400}},
  };
  for (const Shape& shape : shapes) {
    CAPTURE(shape.name);
    Client client(port);
    REQUIRE(client.send(shape.raw));
    HttpResponse response = client.read_response(after_ms(5000));
    bool expected = std::find(shape.statuses.begin(), shape.statuses.end(), response.status) !=
                    shape.statuses.end();
    CHECK_MESSAGE(expected, "status " << response.status);
    if (response.status == 200) {
      // Kept alive: the next response must answer the next request.
      REQUIRE(client.send("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
      HttpResponse next = client.read_response(after_ms(5000));
      CHECK(next.status == 200);
      CHECK(next.body == "ok");
      CHECK(client.wait_closed(after_ms(5000)));
    } else {
      // Refused: the connection ends, and nothing after the hostile request
      // is answered.
      CHECK(client.wait_closed(after_ms(5000)));
    }
    CHECK(client.buffer().find("HTTP/1.") == std::string::npos);
  }
  // Nothing was published by any of them, and nothing disturbed the stream.
  std::string body = stats(port);
  CHECK(json_number(body, "events_published") == json_number(body, "ticks"));
  CHECK(subscriber.receives_new_event(after_ms(5000)));
}

TEST_CASE("nothing is answered after a response that closes the connection") {
  ServerProcess server({"--tick-ms", "0"});
  int port = server.port();
  const std::string next = "GET /stats HTTP/1.1\r\nHost: x\r\n\r\n";
  const std::string requests[] = {
      "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" + next,
      "GET /health HTTP/1.0\r\n\r\n" + next,
      "GET /health HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n" + next,
      "GET /health HTTP/1.1\r\nHost: x\r\nExpect: tea\r\n\r\n" + next,
  };
  for (const std::string& request : requests) {
    CAPTURE(request);
    Client client(port);
    REQUIRE(client.send(request));
    HttpResponse response = client.read_response(after_ms(5000));
    CHECK(response.status != 0);
    CHECK(client.wait_closed(after_ms(5000)));
    CHECK(client.buffer().find("HTTP/1.") == std::string::npos);
  }
}

// ------------------------------------------------------------- traversal

TEST_CASE("traversal through symlinks, encodings and odd files never leaves www") {
  // test_core.cpp covers the plain dot segments, their percent-encodings
  // and two symlinks; these are the rest.
  TempDir root;
  root.write("secret.txt", "TOP-SECRET-CONTENT");
  root.write("www/index.html", "<p>public</p>");
  root.write("www/sub/page.html", "<p>sub</p>");
  std::string www = root.path() + "/www";
  std::string secret = root.path() + "/secret.txt";
  REQUIRE(symlink(secret.c_str(), (www + "/absolute.txt").c_str()) == 0);
  REQUIRE(symlink("chain2", (www + "/chain1").c_str()) == 0);
  REQUIRE(symlink("../secret.txt", (www + "/chain2").c_str()) == 0);
  REQUIRE(symlink("loop", (www + "/loop").c_str()) == 0);
  REQUIRE(symlink("/", (www + "/rootdir").c_str()) == 0);
  REQUIRE(symlink("../../secret.txt", (www + "/sub/up.txt").c_str()) == 0);
  REQUIRE(symlink("index.html", (www + "/alias.html").c_str()) == 0);
  // A FIFO: opening one for reading blocks until a writer comes, which in a
  // one-thread server would stop everything.
  REQUIRE(mkfifo((www + "/fifo").c_str(), 0600) == 0);
  ServerProcess server({"--www", www, "--tick-ms", "50"});
  int port = server.port();
  SseStream subscriber(port);
  REQUIRE(subscriber.head.status == 200);

  const std::string attempts[] = {
      "/absolute.txt",
      "/chain1",
      "/loop",
      "/fifo",
      "/rootdir/etc/passwd",
      "/rootdir" + secret,
      "/sub/up.txt",
      "/sub/../../secret.txt",
      "/./../secret.txt",
      "/.../secret.txt",
      "/..;/secret.txt",
      "/..\\secret.txt",
      "/%c0%ae%c0%ae/secret.txt",
      "/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
      "/..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
      "/%2fetc%2fpasswd",
      "//etc/passwd",
      "/index.html%00.txt",
      "/%00../secret.txt",
      "/sub%2f..%2f..%2fsecret.txt",
  };
  for (const std::string& path : attempts) {
    CAPTURE(path);
    for (const char* method : {"GET", "HEAD"}) {
      CAPTURE(method);
      bool head = std::string(method) == "HEAD";
      HttpResponse response = http_raw(
          port,
          std::string(method) + " " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
          head);
      CHECK((response.status == 400 || response.status == 403 || response.status == 404));
      CHECK(response.body.find("TOP-SECRET") == std::string::npos);
      CHECK(response.body.find("root:") == std::string::npos);
    }
  }
  // The absolute form of the target is resolved the same way.
  HttpResponse absolute =
      http_raw(port, "GET http://x/../secret.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  CHECK((absolute.status == 400 || absolute.status == 404));
  CHECK(absolute.body.find("TOP-SECRET") == std::string::npos);

  // Links that stay inside www are followed, as nginx does by default.
  CHECK(http_get(port, "/alias.html").body == "<p>public</p>");
  CHECK(http_get(port, "/sub/page.html").body == "<p>sub</p>");
  CHECK(subscriber.receives_new_event(after_ms(5000)));
}

// ------------------------------------------------------------ half-close

TEST_CASE("a client that half-closes after its requests gets every response") {
  ServerProcess server({"--tick-ms", "0", "--header-timeout-ms", "60000"});
  int port = server.port();
  SseStream subscriber(port, "/sse?topic=half");
  REQUIRE(subscriber.head.status == 200);

  SUBCASE("one request") {
    Client client(port);
    REQUIRE(client.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n"));
    client.shut_write();
    HttpResponse response = client.read_response(after_ms(5000));
    CHECK(response.status == 200);
    CHECK(response.body == "ok");
    CHECK(client.wait_closed(after_ms(5000)));
    CHECK_FALSE(client.peer_reset());
  }
  SUBCASE("pipelined requests") {
    Client client(port);
    REQUIRE(
        client.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
                    "GET /stats HTTP/1.1\r\nHost: x\r\n\r\n"
                    "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"));
    client.shut_write();
    CHECK(client.read_response(after_ms(5000)).status == 200);
    CHECK(client.read_response(after_ms(5000)).status == 200);
    CHECK(client.read_response(after_ms(5000)).status == 404);
    CHECK(client.wait_closed(after_ms(5000)));
    CHECK_FALSE(client.peer_reset());
  }
  SUBCASE("a publish") {
    Client client(port);
    REQUIRE(client.send(publish_request(R"({"topic":"half","data":"sent half-closed"})")));
    client.shut_write();
    HttpResponse response = client.read_response(after_ms(5000));
    CHECK(response.status == 202);
    CHECK(client.wait_closed(after_ms(5000)));
    SseEvent event;
    REQUIRE(subscriber.next_event(event, after_ms(5000)));
    CHECK(event.data == "sent half-closed");
    CHECK(to_id(event.last_event_id) == published_ids(response.body).at(0));
  }
  SUBCASE("half a request") {
    // It can never be completed: closed at once, not at the header timeout
    // (60 s here).
    Client client(port);
    REQUIRE(client.send("GET /health HTTP/1.1\r\nHo"));
    client.shut_write();
    CHECK(client.wait_closed(after_ms(5000)));
    CHECK(client.buffer().find("HTTP/1.1 200") == std::string::npos);
  }
  CHECK(wait_stat_equal(port, "connections", 2, after_ms(5000)));  // subscriber + /stats
  CHECK(json_number(stats(port), "subscribers") == 1);
}

TEST_CASE("a subscriber that half-closes is closed cleanly") {
  // Decision: a FIN from a subscriber ends its stream. The server cannot
  // tell shutdown(SHUT_WR) from close(): both arrive as the same FIN, and a
  // browser tab going away sends exactly that. Streaming on would keep every
  // departed subscriber's slot and writes until a reset came back (or, on
  // an idle topic, until the next heartbeat). nginx does the same for a
  // long-running response (ngx_http_test_reading: "client prematurely
  // closed connection"). "Cleanly" means: what was sent before arrives, then
  // a FIN, not a reset, and the subscriber count goes back down.
  ServerProcess server({"--tick-ms", "0"});
  int port = server.port();
  SseStream other(port, "/sse?topic=half");
  SseStream leaving(port, "/sse?topic=half");
  REQUIRE(other.head.status == 200);
  REQUIRE(leaving.head.status == 200);
  REQUIRE(wait_stat_equal(port, "subscribers", 2, after_ms(5000)));
  Ids first = publish_batch(port, "half", 3);
  REQUIRE(
      leaving.wait_for([](const SseParser& p) { return p.events.size() >= 3; }, after_ms(5000)));
  leaving.client.shut_write();
  CHECK(leaving.client.wait_closed(after_ms(5000)));
  CHECK_FALSE(leaving.client.peer_reset());
  CHECK(event_ids(leaving.parser) == first);
  CHECK(wait_stat_equal(port, "subscribers", 1, after_ms(5000)));
  Ids second = publish_batch(port, "half", 2);
  Ids all = first;
  all.insert(all.end(), second.begin(), second.end());
  CHECK(other.wait_for([](const SseParser& p) { return p.events.size() >= 5; }, after_ms(5000)));
  CHECK(event_ids(other.parser) == all);
}

// -------------------------------------------------------------- shutdown

TEST_CASE("SIGTERM with 3000 streams open exits 0 at once and ends every stream with a FIN") {
  ServerProcess server({"--tick-ms", "0"});
  int port = server.port();
  const std::size_t kStreams = 3000;
  Streams streams = open_streams(port, kStreams, "/sse?topic=bye");
  // Besides the streams: an idle keep-alive client and a half-sent request.
  Client idle(port);
  REQUIRE(get_on(idle, "/health").status == 200);
  Client partial(port);
  REQUIRE(partial.send("GET /health HTTP/1.1\r\nHo"));
  unsigned long long id = publish_batch(port, "bye", 1).at(0);
  REQUIRE(all_reach(streams, id, after_ms(20000)));
  CHECK(json_number(stats(port), "subscribers") == kStreams);

  auto start = std::chrono::steady_clock::now();
  ExitStatus status = server.signal_and_wait(SIGTERM, 10000);
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  MESSAGE("SIGTERM with " << kStreams << " streams: exit after " << took.count() << " ms");
  CHECK_FALSE(status.timed_out);
  CHECK(status.exited);
  CHECK(status.code == 0);
  // The SPEC's one second, ASan's exit-time leak scan included (measured:
  // 30-90 ms).
  CHECK(took.count() < 1000);

  std::size_t closed = 0;
  std::size_t reset = 0;
  Deadline deadline = after_ms(20000);
  for (auto& stream : streams) {
    stream->client.wait_closed(deadline);
    closed += stream->client.peer_closed() ? 1 : 0;
    reset += stream->client.peer_reset() ? 1 : 0;
  }
  CHECK(closed == kStreams);
  CHECK(reset == 0);
  CHECK(idle.wait_closed(after_ms(5000)));
  CHECK(partial.wait_closed(after_ms(5000)));
}
