// router.cpp — see router.h.
#include "sse/http/router.h"

namespace sse {

std::string_view allow_token(Method method) {
  switch (method) {
    case Method::kGet:
      return "GET";
    case Method::kHead:
      return "HEAD";
    case Method::kPost:
      return "POST";
    case Method::kOptions:
      return "OPTIONS";
    case Method::kOther:
    case Method::kUnknown:
      break;
  }
  return "";
}

}  // namespace sse
