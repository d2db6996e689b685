// YAML + command-line loading for perpgw-sim.
#include "sim/core/config.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cstdlib>

namespace perpgw::sim {
namespace {

absl::Status Err(const std::string& file, const std::string& key, const std::string& what) {
  return absl::InvalidArgumentError(file + ": key '" + key + "': " + what);
}

template <class T>
absl::Status Read(const YAML::Node& n, const std::string& key, const std::string& file,
                  const std::string& path, T* out) {
  if (!n[key]) return absl::OkStatus();
  try {
    *out = n[key].as<T>();
  } catch (const YAML::Exception& e) {
    return Err(file, path + key, std::string("wrong type: ") + e.what());
  }
  return absl::OkStatus();
}

#define SIM_TRY(expr)                \
  do {                               \
    if (auto _st = (expr); !_st.ok()) return _st; \
  } while (0)

absl::Status ReadInstrument(const YAML::Node& n, const std::string& file, const std::string& p,
                            InstrumentSpec* s) {
  if (!n.IsMap()) return Err(file, p, "must be a map");
  SIM_TRY(Read(n, "symbol", file, p, &s->symbol));
  if (s->symbol.empty()) return Err(file, p + "symbol", "required");
  for (auto [key, field] : {std::pair{"base", &s->base}, {"quote", &s->quote}, {"tick", &s->tick},
                            {"step", &s->step}, {"min_qty", &s->min_qty},
                            {"min_notional", &s->min_notional}, {"mid", &s->mid},
                            {"funding_rate", &s->funding_rate},
                            {"maint_margin_ratio", &s->maint_margin_ratio}}) {
    SIM_TRY(Read(n, key, file, p, field));
  }
  SIM_TRY(Read(n, "max_leverage", file, p, &s->max_leverage));
  SIM_TRY(Read(n, "funding_interval_hours", file, p, &s->funding_interval_hours));
  SIM_TRY(Read(n, "multiplier", file, p, &s->multiplier));
  SIM_TRY(Read(n, "market_id", file, p, &s->market_id));
  if (auto r = ResolveInstrument(*s, 0); !r.ok()) {
    return Err(file, p, std::string(r.status().message()));
  }
  return absl::OkStatus();
}

absl::Status ReadAccount(const YAML::Node& n, const std::string& file, const std::string& p,
                         AccountSpec* a) {
  if (!n.IsMap()) return Err(file, p, "must be a map");
  for (auto [key, field] : {std::pair{"id", &a->id}, {"asset", &a->asset}, {"balance", &a->balance},
                            {"maker_fee", &a->maker_fee}, {"taker_fee", &a->taker_fee}}) {
    SIM_TRY(Read(n, key, file, p, field));
  }
  if (a->id.empty()) return Err(file, p + "id", "required");
  if (n["credentials"]) {
    if (!n["credentials"].IsMap()) return Err(file, p + "credentials", "must be a map");
    for (const auto& kv : n["credentials"]) {
      a->credentials[kv.first.as<std::string>()] = kv.second.as<std::string>();
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<SimConfig> LoadSimConfigFile(const std::string& file) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(file);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(file + ": cannot read YAML: " + e.what());
  }
  SimConfig c;
  if (!root || root.IsNull()) return c;
  if (!root.IsMap()) return Err(file, "(root)", "must be a map");
  SIM_TRY(Read(root, "bind", file, "", &c.bind));
  SIM_TRY(Read(root, "control_port", file, "", &c.control_port));
  SIM_TRY(Read(root, "seed", file, "", &c.seed));
  SIM_TRY(Read(root, "rate", file, "", &c.rate));
  SIM_TRY(Read(root, "trade_rate", file, "", &c.trade_rate));
  SIM_TRY(Read(root, "depth", file, "", &c.depth));
  SIM_TRY(Read(root, "ws_queue_limit", file, "", &c.ws_queue_limit));
  SIM_TRY(Read(root, "funding_timer", file, "", &c.funding_timer));
  SIM_TRY(Read(root, "ws_keepalive", file, "", &c.ws_keepalive));
  SIM_TRY(Read(root, "endpoints_out", file, "", &c.endpoints_out));
  SIM_TRY(Read(root, "shared_reference", file, "", &c.shared_reference));
  if (c.depth < 1 || c.depth > 1000) return Err(file, "depth", "must be in [1, 1000]");
  if (c.rate < 0) return Err(file, "rate", "must be >= 0");
  if (c.trade_rate < 0 || c.trade_rate > 1000) {
    return Err(file, "trade_rate", "must be in [0, 1000] trades/s");
  }
  if (root["venues"]) {
    const auto& vs = root["venues"];
    if (!vs.IsMap()) return Err(file, "venues", "must be a map of venue name -> settings");
    for (const auto& kv : vs) {
      VenueConfig v;
      v.name = kv.first.as<std::string>();
      const std::string p = "venues." + v.name + ".";
      const YAML::Node& n = kv.second;
      if (n && !n.IsNull()) {
        if (!n.IsMap()) return Err(file, "venues." + v.name, "must be a map");
        SIM_TRY(Read(n, "port", file, p, &v.port));
        if (n["rate"]) {
          double r = 0;
          SIM_TRY(Read(n, "rate", file, p, &r));
          if (r < 0) return Err(file, p + "rate", "must be >= 0");
          v.rate = r;
        }
        if (n["instruments"]) {
          if (!n["instruments"].IsSequence()) return Err(file, p + "instruments", "must be a list");
          for (size_t i = 0; i < n["instruments"].size(); ++i) {
            InstrumentSpec s;
            SIM_TRY(ReadInstrument(n["instruments"][i], file,
                                   p + "instruments[" + std::to_string(i) + "].", &s));
            v.instruments.push_back(std::move(s));
          }
        }
        if (n["accounts"]) {
          if (!n["accounts"].IsSequence()) return Err(file, p + "accounts", "must be a list");
          for (size_t i = 0; i < n["accounts"].size(); ++i) {
            AccountSpec a;
            SIM_TRY(ReadAccount(n["accounts"][i], file, p + "accounts[" + std::to_string(i) + "].",
                                &a));
            v.accounts.push_back(std::move(a));
          }
        }
      }
      c.venues.push_back(std::move(v));
    }
  }
  return c;
}

const char* Usage() {
  return "usage: perpgw-sim [--config FILE] [--seed N] [--rate UPDATES_PER_S] [--depth N]\n"
         "                  [--trade-rate TRADES_PER_S]\n"
         "                  [--bind 127.0.0.1] [--control-port N] [--endpoints-out FILE]\n"
         "                  [--venues a,b] [--shared-reference[=false]]\n"
         "  --shared-reference: one reference price per asset for all venues (each with its own\n"
         "                      drifting basis and spread) and per-venue drifting funding\n";
}

absl::StatusOr<CommandLine> ParseCommandLine(int argc, const char* const* argv) {
  CommandLine cl;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    size_t eq = arg.find('=');
    bool inline_value = arg.rfind("--", 0) == 0 && eq != std::string::npos;
    if (inline_value) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    }
    auto need = [&]() -> absl::StatusOr<std::string> {
      if (inline_value) return value;
      if (i + 1 >= argc) return absl::InvalidArgumentError(arg + " needs a value");
      return std::string(argv[++i]);
    };
    auto integer = [&](const std::string& s) -> absl::StatusOr<int64_t> {
      int64_t v = 0;
      auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
      if (ec != std::errc() || p != s.data() + s.size() || v < 0) {
        return absl::InvalidArgumentError(arg + ": not a non-negative integer: " + s);
      }
      return v;
    };
    if (arg == "-h" || arg == "--help") {
      cl.help = true;
      continue;
    }
    if (arg == "--shared-reference") {  // a switch: no value unless inline (=true / =false)
      if (inline_value && value != "true" && value != "false") {
        return absl::InvalidArgumentError("--shared-reference: expected true or false, got " +
                                          value);
      }
      cl.shared_reference = !inline_value || value == "true";
      continue;
    }
    auto v = need();
    if (!v.ok()) return v.status();
    if (arg == "--config") {
      cl.config_file = *v;
    } else if (arg == "--seed") {
      auto n = integer(*v);
      if (!n.ok()) return n.status();
      cl.seed = static_cast<uint64_t>(*n);
    } else if (arg == "--rate") {
      char* end = nullptr;
      double r = std::strtod(v->c_str(), &end);
      if (v->empty() || *end != '\0' || r < 0) {
        return absl::InvalidArgumentError("--rate: not a non-negative number: " + *v);
      }
      cl.rate = r;
    } else if (arg == "--trade-rate") {
      char* end = nullptr;
      double r = std::strtod(v->c_str(), &end);
      if (v->empty() || *end != '\0' || r < 0 || r > 1000) {
        return absl::InvalidArgumentError("--trade-rate: not a number in [0, 1000]: " + *v);
      }
      cl.trade_rate = r;
    } else if (arg == "--depth") {
      auto n = integer(*v);
      if (!n.ok()) return n.status();
      if (*n < 1 || *n > 1000) return absl::InvalidArgumentError("--depth must be in [1, 1000]");
      cl.depth = static_cast<int>(*n);
    } else if (arg == "--bind") {
      cl.bind = *v;
    } else if (arg == "--control-port") {
      auto n = integer(*v);
      if (!n.ok()) return n.status();
      if (*n > 65535) return absl::InvalidArgumentError("--control-port out of range");
      cl.control_port = static_cast<int>(*n);
    } else if (arg == "--endpoints-out") {
      cl.endpoints_out = *v;
    } else if (arg == "--venues") {
      std::string s = *v;
      size_t start = 0;
      while (start <= s.size()) {
        size_t comma = s.find(',', start);
        std::string name = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        if (!name.empty()) cl.venues.push_back(name);
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
    } else {
      return absl::InvalidArgumentError("unknown option " + arg);
    }
  }
  return cl;
}

absl::StatusOr<SimConfig> BuildConfig(const CommandLine& cli) {
  SimConfig c;
  if (!cli.config_file.empty()) {
    auto f = LoadSimConfigFile(cli.config_file);
    if (!f.ok()) return f.status();
    c = std::move(*f);
  }
  if (cli.seed) c.seed = *cli.seed;
  if (cli.rate) c.rate = *cli.rate;
  if (cli.trade_rate) c.trade_rate = *cli.trade_rate;
  if (cli.depth) c.depth = *cli.depth;
  if (cli.bind) c.bind = *cli.bind;
  if (cli.control_port) c.control_port = *cli.control_port;
  if (!cli.endpoints_out.empty()) c.endpoints_out = cli.endpoints_out;
  if (cli.shared_reference) c.shared_reference = *cli.shared_reference;
  if (!cli.venues.empty()) {
    std::vector<VenueConfig> picked;
    for (const auto& name : cli.venues) {
      VenueConfig v;
      v.name = name;
      for (const auto& existing : c.venues) {
        if (existing.name == name) v = existing;
      }
      picked.push_back(std::move(v));
    }
    c.venues = std::move(picked);
  }
  return c;
}

}  // namespace perpgw::sim
