// access_log.cpp — see access_log.h.
#include "sse/server/access_log.h"

#include <cstdio>
#include <cstdlib>

#include "sse/base/clock.h"

namespace sse {

namespace {

// Appends `text` with quotes, backslashes, controls and non-ASCII bytes as
// \xHH: the log is read by people and by scripts splitting on spaces and
// quotes, and a client chooses these bytes.
void append_escaped(std::string& out, std::string_view text) {
  static const char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : text) {
    if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
}

// The target with the value of every access_token parameter replaced by
// "***": a token in a log file is a credential anyone reading it can use.
void append_masked_target(std::string& out, std::string_view target) {
  size_t query = target.find('?');
  if (query == std::string_view::npos) {
    append_escaped(out, target);
    return;
  }
  append_escaped(out, target.substr(0, query + 1));
  std::string_view rest = target.substr(query + 1);
  bool first = true;
  while (true) {
    size_t amp = rest.find('&');
    std::string_view parameter = rest.substr(0, amp);
    if (!first) out += '&';
    first = false;
    constexpr std::string_view kToken = "access_token=";
    if (parameter.substr(0, kToken.size()) == kToken) {
      out += kToken;
      out += "***";
    } else {
      append_escaped(out, parameter);
    }
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
}

}  // namespace

std::string AccessLog::request_line(const Request& request) {
  std::string line;
  append_escaped(line, request.method_name);
  line += ' ';
  append_masked_target(line, request.target);
  line += request.minor_version == 0 ? " HTTP/1.0" : " HTTP/1.1";
  return line;
}

void AccessLog::head_parsed(AccessRequest& request, const Request& head) {
  request.request = request_line(head);
  request.start_ns = mono_ns();
}

void AccessLog::answered(AccessRequest& request, const FrameRef& answer, uint64_t body_bytes) {
  if (request.stream) return;
  // Our own status line: "HTTP/1.1 200 OK" holds the code at 9..11.
  std::string_view status_line = answer->view().substr(0, 12);
  int status = status_line.size() == 12 ? std::atoi(status_line.data() + 9) : 0;
  log_request(request, status, answer->size() + body_bytes, mono_ns());
  request.request = "-";  // what a head that never comes will log
  request.start_ns = 0;
}

void AccessLog::stream_began(AccessRequest& request, uint64_t bytes_written) {
  request.stream = true;
  request.stream_bytes_before = bytes_written;
}

void AccessLog::closed(AccessRequest& request, uint64_t bytes_written, uint64_t events,
                       const char* reason) {
  if (request.stream) {
    const char* why = request.end_reason != nullptr ? request.end_reason : reason;
    log_stream(request, bytes_written - request.stream_bytes_before, events, why, mono_ns());
  } else if (request.start_ns != 0) {  // a head arrived; the client left before its answer
    log_request(request, 499, 0, mono_ns());
  }
}

void AccessLog::log_request(const AccessRequest& request, int status, uint64_t bytes,
                            int64_t now_ns) {
  write_line(request, status, bytes, now_ns, {});
}

void AccessLog::log_stream(const AccessRequest& request, uint64_t bytes, uint64_t events,
                           std::string_view end_reason, int64_t now_ns) {
  std::string part = " events=" + std::to_string(events) + " end=\"";
  append_escaped(part, end_reason);
  part += '"';
  write_line(request, 200, bytes, now_ns, part);
}

void AccessLog::write_line(const AccessRequest& request, int status, uint64_t bytes,
                           int64_t now_ns, std::string_view stream_part) {
  line_.clear();
  line_ += iso_time(real_us());
  line_ += ' ';
  line_ += request.peer;
  line_ += " \"";
  line_ += request.request;
  char figures[96];
  int64_t elapsed_ns = request.start_ns != 0 ? now_ns - request.start_ns : 0;
  std::snprintf(figures, sizeof figures, "\" %d %llu %.3f", status,
                static_cast<unsigned long long>(bytes), static_cast<double>(elapsed_ns) / 1e6);
  line_ += figures;
  line_ += stream_part;
  line_ += '\n';
  out_.append(line_);
}

}  // namespace sse
