// libFuzzer target: the perpgwd config loader (YAML → validated Config). Any text must give a
// Config or an error naming what is wrong: never a crash, a hang or an exception escaping.
#include <cstdint>
#include <string>

#include "gateway/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  (void)perpgw::gateway::ParseConfig(text, "fuzz.yaml");
  return 0;
}
