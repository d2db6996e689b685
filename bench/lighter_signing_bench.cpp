// Benchmark of the Lighter signing stack: per-transaction hash, sign and verify times
// (median over several runs), printed as a table plus one JSON line.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include "adapters/lighter/signing.h"

namespace lt = perpgw::adapters::lighter;

namespace {

constexpr int kRuns = 9;
constexpr int kItersPerRun = 200;

struct Result {
  const char* label;
  const char* key;
  double median_us;      // wall clock
  double min_us;         // wall clock, best run
  double median_cpu_us;  // thread CPU time (less sensitive to other processes on the box)
};

double ThreadCpuMicros() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Per-op time of each run (kItersPerRun calls); reports medians and the best run.
template <typename F>
Result Measure(const char* label, const char* key, F&& f) {
  std::vector<double> wall, cpu;
  for (int r = 0; r < kRuns; ++r) {
    const double c0 = ThreadCpuMicros();
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < kItersPerRun; ++i) f(i);
    const auto t1 = std::chrono::steady_clock::now();
    const double c1 = ThreadCpuMicros();
    wall.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count() / kItersPerRun);
    cpu.push_back((c1 - c0) / kItersPerRun);
  }
  return Result{label, key, Median(wall), *std::min_element(wall.begin(), wall.end()), Median(cpu)};
}

volatile uint8_t g_sink;

}  // namespace

int main() {
  auto key = lt::PrivateKey::FromHex(
      "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262700");
  if (!key.ok()) {
    std::fprintf(stderr, "key: %s\n", std::string(key.status().message()).c_str());
    return 1;
  }
  auto pk = lt::PublicKey::FromBytes(key->public_key());
  if (!pk.ok()) return 1;

  lt::CreateOrderTx order;
  order.account_index = 12345;
  order.api_key_index = 3;
  order.client_order_index = 1001;
  order.base_amount = 1000;
  order.price = 300000;
  order.order_expiry = 1762419200000;
  order.expired_at = 1760000599000;
  lt::CancelOrderTx cancel;
  cancel.account_index = 12345;
  cancel.api_key_index = 3;
  cancel.index = 1001;
  cancel.expired_at = 1760000599000;

  // Warm-up: builds the generator table once.
  (void)key->Sign(lt::HashTx(order, lt::kMainnetChainId).value());

  std::vector<Result> results;
  results.push_back(Measure("hash CreateOrder", "hash_create_order", [&](int i) {
    order.nonce = i;
    g_sink = lt::HashTx(order, lt::kMainnetChainId).value()[0];
  }));
  results.push_back(Measure("hash CancelOrder", "hash_cancel_order", [&](int i) {
    cancel.nonce = i;
    g_sink = lt::HashTx(cancel, lt::kMainnetChainId).value()[0];
  }));
  const lt::TxHash h = lt::HashTx(order, lt::kMainnetChainId).value();
  results.push_back(Measure("sign (Schnorr, random nonce)", "sign",
                            [&](int) { g_sink = key->Sign(h).value()[0]; }));
  const lt::Signature sig = key->Sign(h).value();
  results.push_back(Measure("verify (decoded public key)", "verify",
                            [&](int) { g_sink = pk->Verify(h, sig).ok(); }));
  results.push_back(Measure("verify incl. public key decode", "verify_with_decode", [&](int) {
    g_sink = lt::PublicKey::FromBytes(key->public_key()).value().Verify(h, sig).ok();
  }));
  const lt::PublicKey pk_fast = pk->WithPrecomputation();
  results.push_back(Measure("verify (precomputed key table)", "verify_precomputed",
                            [&](int) { g_sink = pk_fast.Verify(h, sig).ok(); }));
  results.push_back(
      Measure("SignTx CreateOrder (hash+sign+JSON)", "sign_tx_create_order", [&](int i) {
        order.nonce = i;
        g_sink = lt::SignTx(order, lt::kMainnetChainId, *key).value().tx_info.size();
      }));
  results.push_back(Measure("MakeAuthToken", "auth_token", [&](int i) {
    g_sink = lt::MakeAuthToken(1760003600 + i, 12345, 3, *key).value().size();
  }));

  std::printf("%-38s %12s %12s %12s\n", "operation (9 runs x 200 ops)", "median us", "best us",
              "median cpu");
  for (const Result& r : results) {
    std::printf("%-38s %12.2f %12.2f %12.2f\n", r.label, r.median_us, r.min_us, r.median_cpu_us);
  }
  std::string json = "{\"bench\":\"lighter_signing\",\"unit\":\"us_per_op_median\"";
  char buf[128];
  for (const Result& r : results) {
    std::snprintf(buf, sizeof(buf), ",\"%s\":%.3f,\"%s_cpu\":%.3f", r.key, r.median_us, r.key,
                  r.median_cpu_us);
    json += buf;
  }
  json += "}";
  std::printf("%s\n", json.c_str());
  return 0;
}
