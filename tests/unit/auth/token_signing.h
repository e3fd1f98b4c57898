// token_signing.h — how the tests make their own tokens: OpenSSL's HMAC()
// and EVP_EncodeBlock(), turned into base64url by hand. Never the code
// under test (src/auth/jwt.cpp). Shared by test_jwt.cpp,
// test_topic_access.cpp and the fuzz target tests/fuzz/fuzz_jwt.cpp.
#pragma once

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <string>
#include <string_view>

namespace test_tokens {

// Base64url without padding (RFC 4648 §5), from OpenSSL's base64.
inline std::string b64url(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return out;
}

// The raw MAC of `input` under `key`; empty if OpenSSL failed.
inline std::string hmac(const EVP_MD* md, std::string_view input, std::string_view key) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (HMAC(md, key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac,
           &length) == nullptr) {
    return {};
  }
  return std::string(reinterpret_cast<char*>(mac), length);
}

}  // namespace test_tokens
