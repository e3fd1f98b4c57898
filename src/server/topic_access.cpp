// topic_access.cpp — see topic_access.h.
#include "sse/server/topic_access.h"

#include "sse/auth/jwt.h"
#include "sse/http/ascii.h"

namespace sse {

std::string_view find_cookie(const Request& request, std::string_view name) {
  for (size_t i = 0; i < request.header_count; ++i) {
    if (!equals_ignore_case(request.headers[i].name, "cookie")) continue;
    std::string_view rest = request.headers[i].value;
    while (!rest.empty()) {
      size_t end = rest.find(';');
      std::string_view pair = rest.substr(0, end);
      rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
      while (!pair.empty() && (pair.front() == ' ' || pair.front() == '\t')) pair.remove_prefix(1);
      size_t eq = pair.find('=');
      if (eq != std::string_view::npos && pair.substr(0, eq) == name) {
        std::string_view value = pair.substr(eq + 1);
        while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) {
          value.remove_suffix(1);
        }
        // A quoted cookie value (RFC 6265 allows DQUOTEs around it).
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
          value = value.substr(1, value.size() - 2);
        }
        return value;
      }
    }
  }
  return {};
}

std::string_view bearer_token(const Request& request) {
  std::string_view authorization = request.header("authorization");
  constexpr std::string_view kScheme = "Bearer ";
  if (authorization.size() <= kScheme.size() ||
      !equals_ignore_case(authorization.substr(0, kScheme.size()), kScheme)) {
    return {};
  }
  // RFC 6750 §2.1: "Bearer" 1*SP b64token.
  std::string_view token = authorization.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  return token;
}

std::string_view request_token(const Request& request, std::string_view query_token) {
  std::string_view token = find_cookie(request, "sse_token");
  if (token.empty()) token = bearer_token(request);
  if (token.empty()) token = query_token;
  return token;
}

StreamAccess check_stream_access(const Request& request, const std::vector<std::string>& topics,
                                 std::string_view query_token, const Config& config,
                                 int64_t now_s) {
  StreamAccess access;
  if (config.private_topics.empty()) return access;
  std::vector<const std::string*> private_topics;
  for (const std::string& topic : topics) {
    if (covers(config.private_topics, topic)) private_topics.push_back(&topic);
  }
  if (private_topics.empty()) return access;  // public topics only: as before
  std::string_view token = request_token(request, query_token);
  if (token.empty()) {
    access.status = 401;
    access.error = "this topic is private: a token is needed (cookie sse_token, "
                   "Authorization: Bearer, or ?access_token=)";
    return access;
  }
  TokenResult verified = verify_token(token, config.jwt_secret, now_s);
  if (!verified.ok()) {
    access.status = 401;
    access.error = "invalid token: " + std::string(verified.message);
    return access;
  }
  for (const std::string* topic : private_topics) {
    if (!covers(verified.claims.subscribe, *topic)) {
      access.status = 403;
      access.error = "the token does not allow reading topic '" + *topic + "'";
      return access;
    }
  }
  // An exp past kFarFuture (some 35,000 years) is "never": it would only
  // overflow the arithmetic that turns it into a deadline.
  constexpr int64_t kFarFuture = int64_t{1} << 40;
  if (verified.claims.exp != 0 && verified.claims.exp < kFarFuture) {
    access.expires_s = verified.claims.exp + kTokenLeewaySeconds;
  }
  return access;
}

}  // namespace sse
