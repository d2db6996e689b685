// perpgw-replay --venue V --instruments FILE [--depth N] [--book-every] [--symbol S] < frames.jsonl
// One recorded message per line: a JSON frame, or "bin:" + hex for a binary one (Paradex SBE).
// Prints one JSON line per input line (the normalized event or the book-sync result), and the
// resulting top-N book after every book change (or only at the end without --book-every).
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "gateway/replay/replay.h"

namespace {

int Usage() {
  std::fprintf(stderr,
               "usage: perpgw-replay --venue VENUE --instruments FILE [--depth N] "
               "[--book-every] [--symbol VENUE_SYMBOL_FOR_SNAPSHOTS] < frames.jsonl\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string venue, instruments_file, default_symbol;
  size_t depth = 5;
  bool book_every = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--venue" && i + 1 < argc) venue = argv[++i];
    else if (a == "--instruments" && i + 1 < argc) instruments_file = argv[++i];
    else if (a == "--depth" && i + 1 < argc) {
      char* end = nullptr;
      const char* text = argv[++i];
      depth = std::strtoul(text, &end, 10);
      if (*text < '1' || *text > '9' || *end != '\0' || depth > 100000) return Usage();
    }
    else if (a == "--book-every") book_every = true;
    else if (a == "--symbol" && i + 1 < argc) default_symbol = argv[++i];
    else return Usage();
  }
  auto codec = perpgw::replay::MakeCodec(venue);
  if (!codec) {
    std::string known;
    for (const auto& v : perpgw::replay::Venues()) known += " " + v;
    std::fprintf(stderr, "perpgw-replay: unknown venue '%s' (built in:%s)\n", venue.c_str(),
                 known.c_str());
    return 2;
  }
  if (instruments_file.empty()) return Usage();
  codec->set_default_symbol(default_symbol);
  std::ifstream f(instruments_file);
  if (!f) {
    std::fprintf(stderr, "perpgw-replay: cannot read %s\n", instruments_file.c_str());
    return 1;
  }
  std::stringstream ss;
  ss << f.rdbuf();
  if (auto st = codec->LoadInstruments(ss.str()); !st.ok()) {
    std::fprintf(stderr, "perpgw-replay: %s: %s\n", instruments_file.c_str(),
                 std::string(st.message()).c_str());
    return 1;
  }
  perpgw::replay::RunOptions options;
  options.depth = depth;
  options.book_every = book_every;
  auto stats = perpgw::replay::Run(*codec, std::cin, stdout, options);
  std::fprintf(stderr, "perpgw-replay: %llu lines, %llu errors\n",
               static_cast<unsigned long long>(stats.lines),
               static_cast<unsigned long long>(stats.errors));
  return 0;
}
