// Benchmark: Paradex Stark signing stack (Pedersen, order message hash, sign, verify).
// Plain std::chrono wall time plus per-thread CPU time (the build machine is shared, so CPU
// time is the fairer figure); each row is the median over several runs of the per-op mean.
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "adapters/paradex/signing.h"

namespace px = perpgw::adapters::paradex;
using Clock = std::chrono::steady_clock;

namespace {

volatile uint64_t g_sink = 0;  // defeats dead-code elimination

void Sink(const px::Felt& f) { g_sink = g_sink + f.limbs()[0]; }

double ThreadCpuUs() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

struct Row {
  std::string name;
  std::string key;
  double median_us;      // wall
  double min_us;         // wall
  double cpu_median_us;  // thread CPU time
  int iters;
};

Row Measure(const std::string& name, const std::string& key, int iters, int runs,
            const std::function<void(int)>& op) {
  for (int i = 0; i < std::max(1, iters / 10); ++i) op(i);  // warm-up
  std::vector<double> per_op, cpu_per_op;
  for (int r = 0; r < runs; ++r) {
    double c0 = ThreadCpuUs();
    auto t0 = Clock::now();
    for (int i = 0; i < iters; ++i) op(i);
    auto t1 = Clock::now();
    double c1 = ThreadCpuUs();
    per_op.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count() / iters);
    cpu_per_op.push_back((c1 - c0) / iters);
  }
  std::sort(per_op.begin(), per_op.end());
  std::sort(cpu_per_op.begin(), cpu_per_op.end());
  return Row{
      name, key, per_op[per_op.size() / 2], per_op.front(), cpu_per_op[cpu_per_op.size() / 2],
      iters};
}

template <class T>
const T& Must(const absl::StatusOr<T>& v) {
  if (!v.ok()) {
    std::fprintf(stderr, "unexpected error: %s\n", v.status().ToString().c_str());
    std::exit(1);
  }
  return *v;
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = 7;
  const double scale = argc > 1 ? std::atof(argv[1]) : 1.0;  // iteration multiplier
  auto n = [scale](int base) { return std::max(1, int(base * scale)); };

  const std::string chain = "PRIVATE_SN_PARACLEAR_MAINNET";
  const std::string account_hex =
      "0x129f3dc1b8962d8a87abc692424c78fda963ade0e1cd17bf3d1c26f8d41ee7a";
  const px::Felt account = Must(px::ParseFelt(account_hex));
  // First use builds the fixed-base tables (G and the Pedersen points); time it separately.
  auto t0 = Clock::now();
  px::PedersenHash(px::Felt::FromU64(1), px::Felt::FromU64(2));
  double table_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  const px::StarkKey key = Must(px::StarkKey::FromPrivateHex(
      "0x3c1e9550e66958296d11b60f8e8e7a7ad990d07fa65d5f7652c4a6c87d4e3cc"));

  const px::MessageHasher hasher = Must(px::MessageHasher::Create(chain, account));
  const px::StarkPublicKey pub = Must(px::StarkPublicKey::FromX(key.public_key()));
  px::OrderFields order{1700000000000, "ETH-USD-PERP", px::OrderSide::kBuy,
                        "LIMIT",       "0.1",          "1500.25"};
  const px::Felt fixed_hash = Must(hasher.Order(order));
  const px::Signature fixed_sig = Must(key.Sign(fixed_hash));

  std::vector<Row> rows;
  px::Felt chain_val = px::Felt::FromU64(12345);
  rows.push_back(
      Measure("pedersen hash (full-width inputs)", "pedersen_us", n(20000), runs, [&](int i) {
        chain_val = px::PedersenHash(chain_val, account);
        Sink(chain_val);
      }));
  rows.push_back(Measure("order message hash (MessageHasher, cached domain)",
                         "order_hash_cached_us", n(3000), runs, [&](int i) {
                           order.timestamp_ms = 1700000000000ULL + i;
                           Sink(Must(hasher.Order(order)));
                         }));
  rows.push_back(Measure("order message hash (free function)", "order_hash_uncached_us", n(2000),
                         runs, [&](int i) {
                           order.timestamp_ms = 1700000000000ULL + i;
                           Sink(Must(px::OrderMessageHash(chain, account, order)));
                         }));
  rows.push_back(Measure("ecdsa sign only (RFC 6979)", "sign_only_us", n(5000), runs, [&](int i) {
    Sink(Must(key.Sign(px::PedersenHash(fixed_hash, px::Felt::FromU64(0)))).r);
  }));
  // The sign-only row above includes one Pedersen to vary the hash; report it net as well.
  rows.push_back(Measure("sign order: hash (cached) + sign + signature json", "sign_order_us",
                         n(2000), runs, [&](int i) {
                           order.timestamp_ms = 1700000000000ULL + i;
                           px::Felt h = Must(hasher.Order(order));
                           std::string js = px::SignatureJson(Must(key.Sign(h)));
                           g_sink = g_sink + js.size();
                         }));
  rows.push_back(Measure("sign order: free-function hash + sign + json", "sign_order_uncached_us",
                         n(1500), runs, [&](int i) {
                           order.timestamp_ms = 1700000000000ULL + i;
                           px::Felt h = Must(px::OrderMessageHash(chain, account, order));
                           std::string js = px::SignatureJson(Must(key.Sign(h)));
                           g_sink = g_sink + js.size();
                         }));
  rows.push_back(
      Measure("auth headers (hash + sign + build)", "auth_headers_us", n(1500), runs, [&](int i) {
        auto h = Must(px::AuthHeaders(key, chain, account_hex, 1700000000 + i, 1700086400 + i));
        g_sink = g_sink + h.size();
      }));
  rows.push_back(Measure("verify order (cached pubkey, hash cached)", "verify_cached_us", n(2000),
                         runs,
                         [&](int i) { g_sink = g_sink + pub.Verify(fixed_hash, fixed_sig); }));
  rows.push_back(Measure("verify order incl. message hash (cached pubkey)", "verify_order_us",
                         n(1500), runs, [&](int i) {
                           order.timestamp_ms = 1700000000000ULL;
                           px::Felt h = Must(hasher.Order(order));
                           g_sink = g_sink + pub.Verify(h, fixed_sig);
                         }));
  rows.push_back(Measure(
      "verify from x only (y recovered each call)", "verify_x_only_us", n(500), runs,
      [&](int i) { g_sink = g_sink + px::Verify(key.public_key(), fixed_hash, fixed_sig); }));
  rows.push_back(Measure("public key from private key", "pubkey_us", n(5000), runs, [&](int i) {
    g_sink = g_sink + Must(px::StarkKey::FromPrivateHex(
                               "0x3c1e9550e66958296d11b60f8e8e7a7ad990d07fa65d5f7652c4a6c87d4e3cc"))
                          .public_key()
                          .limbs()[0];
  }));

  constexpr double kReferenceSignUs = 400.0;  // tradeparadex/starknet-signing-cpp, ~0.4 ms/order
  constexpr double kTargetSignUs = 150.0;
  double sign_order = 0, sign_order_cpu = 0;
  for (const Row& r : rows) {
    if (r.key == "sign_order_us") {
      sign_order = r.median_us;
      sign_order_cpu = r.cpu_median_us;
    }
  }

  std::printf("Paradex signing benchmark (median of %d runs; table build on first use %.2f ms)\n",
              runs, table_ms);
  std::printf("%-52s %11s %11s %11s %7s\n", "operation", "cpu med us", "wall med us", "wall min us",
              "iters");
  for (const Row& r : rows) {
    std::printf("%-52s %11.2f %11.2f %11.2f %7d\n", r.name.c_str(), r.cpu_median_us, r.median_us,
                r.min_us, r.iters);
  }
  std::printf(
      "sign per order: %.1f us CPU (%.1f us wall) vs reference C++ signer ~%.0f us "
      "(%.1fx); target <= %.0f us CPU: %s\n",
      sign_order_cpu, sign_order, kReferenceSignUs, kReferenceSignUs / sign_order_cpu,
      kTargetSignUs, sign_order_cpu <= kTargetSignUs ? "MET" : "MISSED");
  std::string json = "{\"bench\":\"paradex_signing\",\"runs\":" + std::to_string(runs) +
                     ",\"table_build_ms\":" + std::to_string(table_ms);
  for (const Row& r : rows) {
    json += ",\"" + r.key + "\":" + std::to_string(r.cpu_median_us);
    std::string wall_key = r.key.substr(0, r.key.size() - 3) + "_wall_us";
    json += ",\"" + wall_key + "\":" + std::to_string(r.median_us);
  }
  json += ",\"reference_sign_us\":" + std::to_string(kReferenceSignUs) +
          ",\"target_sign_us\":" + std::to_string(kTargetSignUs) + "}";
  std::printf("%s\n", json.c_str());
  return g_sink == 42 ? 1 : 0;
}
