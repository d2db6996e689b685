// libFuzzer target: the text parsers of the Paradex and Lighter signing stacks (field elements,
// signature JSON, auth tokens): no crash or UB, and what parses prints back to the same value.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "adapters/lighter/signing.h"
#include "adapters/paradex/signing.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace px = perpgw::adapters::paradex;
  std::string_view s(reinterpret_cast<const char*>(data), size);
  if (auto f = px::ParseFelt(s); f.ok()) {
    auto hex = px::ParseFelt(f->ToHex());
    auto dec = px::ParseFelt(f->ToDec());
    if (!hex.ok() || *hex != *f || !dec.ok() || *dec != *f) std::abort();
  }
  if (auto sig = px::ParseSignatureJson(s); sig.ok()) {
    auto again = px::ParseSignatureJson(px::SignatureJson(*sig));
    if (!again.ok() || px::SignatureJson(*again) != px::SignatureJson(*sig)) std::abort();
  }
  (void)perpgw::adapters::lighter::ParseAuthToken(s);
  return 0;
}
