// libFuzzer target: the perpgw-replay reader (recorded frames → venue codec → BookSync → JSON
// lines), for every venue it knows. The first byte picks the venue; the rest is the recording.
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <sstream>
#include <string>

#include "gateway/replay/replay.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

struct VenueSetup {
  const char* venue;
  const char* instruments;  // under tests/data
  const char* default_symbol;
};
constexpr VenueSetup kVenues[] = {
    {"aster", "aster/exchangeInfo.json", "BTCUSDT"},
    {"backpack", "backpack/markets.json", "BTC_USDC_PERP"},
    {"paradex", "replay/paradex_markets.json", "BTC-USD-PERP"},
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static std::FILE* sink = std::fopen("/dev/null", "w");
  static const std::map<std::string, std::string> instruments = [] {
    std::map<std::string, std::string> m;
    for (const auto& v : kVenues) m[v.venue] = perpgw::fuzz::ReadData(v.instruments);
    return m;
  }();
  const VenueSetup& v = kVenues[data[0] % (sizeof kVenues / sizeof kVenues[0])];
  auto codec = perpgw::replay::MakeCodec(v.venue);
  if (!codec) return 0;  // venue not built in
  codec->set_default_symbol(v.default_symbol);
  if (!codec->LoadInstruments(instruments.at(v.venue)).ok()) std::abort();
  std::istringstream in(std::string(reinterpret_cast<const char*>(data) + 1, size - 1));
  perpgw::replay::RunOptions options;
  options.book_every = true;
  (void)perpgw::replay::Run(*codec, in, sink, options);
  return 0;
}
