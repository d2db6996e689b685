// A real perpgw-sim + a real perpgwd wired to one of its venues, with typed gRPC stubs and a
// control-API client: the fixture every venue end-to-end test uses.
#pragma once

#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "perpgw/v1/account.grpc.pb.h"
#include "perpgw/v1/funding.grpc.pb.h"
#include "perpgw/v1/gateway.grpc.pb.h"
#include "perpgw/v1/market_data.grpc.pb.h"
#include "perpgw/v1/risk.grpc.pb.h"
#include "perpgw/v1/trading.grpc.pb.h"
#include "tests/integration/harness.h"

namespace perpgw::testing {

struct SimAccount {
  std::string id;
  std::map<std::string, std::string> credentials;
};

struct RigOptions {
  std::string venue;               // "aster", "backpack", "paradex"
  std::vector<std::string> symbols = {"BTC"};  // subscribed at gateway start
  double rate = 500;               // generated book updates/s
  uint64_t seed = 7;
  // Sim credential fields that are plain settings for the gateway (auth_scheme, user, signer).
  std::vector<std::string> option_keys;
  // Only accounts whose credentials contain this key are wired (e.g. "api_secret").
  std::string account_filter;
  // Only this sim account is wired (e.g. "paradex-3", the subkey account), when set.
  std::string account_id;
  // Options added to every wired account (accounts.<id>.options), e.g. Paradex's
  // cancel_on_disconnect.
  std::map<std::string, std::string> account_options;
  // How many of the venue's sim accounts are wired (in the endpoints file's order).
  int max_accounts = 1;
  // Appended to the gateway config as top-level YAML (e.g. "limits: {request_timeout_ms: 300}").
  std::string extra_config;
  // The venue's own options (venues.<v>.options), e.g. Lighter's rate_tier.
  std::map<std::string, std::string> venue_options;
};

class VenueRig {
 public:
  explicit VenueRig(RigOptions opts);
  ~VenueRig();
  // Empty string when everything came up; else what failed (with log tails).
  const std::string& error() const { return error_; }

  const std::string& venue() const { return opts_.venue; }
  const std::string& account() const { return account_; }
  const std::vector<std::string>& accounts() const { return accounts_; }
  const std::string& control_url() const { return control_url_; }
  std::string gateway_addr() const { return "127.0.0.1:" + std::to_string(port_); }
  ChildProcess& sim() { return *sim_; }
  ChildProcess& gateway() { return *gw_; }
  // kill -9 perpgwd and start it again on the same config and order journal (a new port: the
  // stubs are re-created). Empty string on success, else what failed.
  std::string KillAndRestartGateway();

  std::unique_ptr<v1::InstrumentService::Stub> instruments;
  std::unique_ptr<v1::MarketDataService::Stub> market;
  std::unique_ptr<v1::FundingService::Stub> funding;
  std::unique_ptr<v1::TradingService::Stub> trading;
  std::unique_ptr<v1::AccountService::Stub> account_svc;
  std::unique_ptr<v1::GatewayService::Stub> gateway_svc;

  // Control API (HTTP JSON via curl). Returns the body, or nullopt on failure.
  std::optional<std::string> ControlGet(const std::string& path_and_query);
  std::optional<std::string> ControlPost(const std::string& path, const std::string& json);
  // The sim's venue symbol for a normalized ticker (from the sim's catalogue).
  std::string VenueSymbol(const std::string& ticker) const;

 private:
  RigOptions opts_;
  std::string error_;
  TempDir dir_;
  std::unique_ptr<ChildProcess> sim_, gw_;
  std::string control_url_, account_;
  std::vector<std::string> accounts_;
  std::vector<std::string> sim_symbols_;
  int port_ = 0;
  std::shared_ptr<grpc::Channel> channel_;
  std::string config_text_;
  std::map<std::string, std::string> gw_env_;
  int gw_starts_ = 0;
  std::string StartGateway();
};

}  // namespace perpgw::testing
