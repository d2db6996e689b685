// The perpgw.v1 services: one file per service in gateway/rpc/.
#include "gateway/services.h"

#include "gateway/rpc/common.h"

namespace perpgw::gateway {

std::vector<std::unique_ptr<grpc::Service>> MakeServices(Gateway& gw) {
  std::vector<std::unique_ptr<grpc::Service>> v;
  v.push_back(rpc::MakeGatewayService(gw));
  v.push_back(rpc::MakeInstrumentService(gw));
  v.push_back(rpc::MakeMarketDataService(gw));
  v.push_back(rpc::MakeFundingService(gw));
  v.push_back(rpc::MakeTradingService(gw));
  v.push_back(rpc::MakeAccountService(gw));
  v.push_back(rpc::MakeRiskService(gw));
  return v;
}

std::vector<std::string> ServiceNames() {
  return {"perpgw.v1.GatewayService", "perpgw.v1.InstrumentService",
          "perpgw.v1.MarketDataService", "perpgw.v1.FundingService",
          "perpgw.v1.TradingService", "perpgw.v1.AccountService", "perpgw.v1.RiskService"};
}

}  // namespace perpgw::gateway
