// One signer per (account, API key): the nonce owner and the queue every transaction of that key
// goes through. Pure (no I/O, clock or logging): sending and nonce fetching are functions the
// adapter supplies; tests drive them by hand.
//
// Rules (lighter.md §7 "Nonces", §13.10-11):
// - Nonces are strictly sequential per key. The counter is seeded from nextNonce and advanced
//   only by answers that accepted the txs; a tx is signed with its nonce just before it leaves.
// - One request in flight per key: txs that arrive meanwhile wait and leave together as one
//   sendTxBatch (at most `max_batch`, the notes' safe 15). So two txs never carry the same
//   nonce, and a refused tx cannot strand later in-flight nonces (no pipelining to untangle).
// - An invalid-nonce answer (21104), or a tx that expired before it landed: nothing in the
//   request was accepted. The counter is re-read and the txs are signed again (fresh nonces and
//   expiries) and resent, at most `nonce_retries` times each, ahead of newer txs.
// - Any other refusal, a rate limit or a lost answer: the counter is re-read before the next
//   request (whether the refused nonces were consumed is not knowable).
// - A refused batch of more than one tx reports kUnknown for every tx in it: whether a venue
//   applies part of a batch is not in the notes (safe reading); the order desk settles unknown
//   outcomes by looking the orders up. A refused single tx reports kRefused.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "adapters/api/venue_error.h"
#include "adapters/lighter/signing.h"

namespace perpgw::adapters::lighter {

// What one request's answer said, as the REST layer classified it.
struct TxAnswer {
  bool answered = false;  // an HTTP answer arrived (false: transport error or local timeout)
  int http_status = 0;
  VenueError error;                  // status_code kOk when the venue accepted
  std::vector<std::string> hashes;   // one per tx when accepted
  int64_t predicted_execution_ms = 0;
  bool accepted() const { return answered && error.status_code == absl::StatusCode::kOk; }
};

struct TxOutcome {
  enum class Kind : uint8_t {
    kAccepted,  // the venue accepted the tx (not executed yet: acceptance is not execution)
    kRefused,   // the venue refused it: it will not execute
    kUnknown,   // it may or may not execute (no answer, or a refused batch)
    kNotSent,   // nothing left: signing failed or no nonce could be read
  };
  Kind kind = Kind::kNotSent;
  int64_t nonce = -1;
  std::string tx_hash;
  int64_t predicted_execution_ms = 0;
  TxAnswer answer;      // kRefused / kUnknown: the venue's answer
  absl::Status status;  // kNotSent: why
  bool batched = false; // it left in a batch of more than one tx
};

class TxQueue {
 public:
  // Signs the tx with `nonce` (only the nonce and the expiry are filled here).
  using SignFn = std::function<absl::StatusOr<SignedTx>(int64_t nonce)>;
  using DoneFn = std::function<void(TxOutcome)>;
  // Sends the signed txs (one: sendTx; more: sendTxBatch) and calls back with the answer.
  using SendFn = std::function<void(const std::vector<SignedTx>& txs, std::function<void(TxAnswer)>)>;
  using NonceFn = std::function<void(std::function<void(absl::StatusOr<int64_t>)>)>;

  struct Options {
    size_t max_batch = 15;
    int nonce_retries = 3;
  };

  TxQueue(Options options, SendFn send, NonceFn fetch_nonce)
      : opts_(options), send_(std::move(send)), fetch_nonce_(std::move(fetch_nonce)) {}

  void Submit(SignFn sign, DoneFn done);
  // Several txs queued before one flush (PlaceOrders / CancelOrders): with nothing in flight
  // they leave together, in this order, in one request (up to max_batch of them; the rest in
  // the next ones), instead of the first alone and the others batched behind it.
  struct Job {
    SignFn sign;
    DoneFn done;
  };
  void SubmitAll(std::vector<Job> jobs);
  // Forget the counter: the next request re-reads it (another process used the key, ...).
  void Invalidate() { nonce_known_ = false; }

  bool nonce_known() const { return nonce_known_; }
  int64_t next_nonce() const { return next_; }
  size_t queued() const { return queue_.size(); }
  bool busy() const { return in_flight_ || fetching_; }
  // Counters for metrics and tests.
  uint64_t requests() const { return requests_; }
  uint64_t batches() const { return batches_; }
  uint64_t resyncs() const { return resyncs_; }

 private:
  struct Item {
    SignFn sign;
    DoneFn done;
    int nonce_failures = 0;
  };
  void Pump();
  void OnAnswer(std::vector<Item> items, std::vector<SignedTx> txs, int64_t first_nonce,
                TxAnswer a);

  Options opts_;
  SendFn send_;
  NonceFn fetch_nonce_;
  std::deque<Item> queue_;
  bool nonce_known_ = false, in_flight_ = false, fetching_ = false;
  int64_t next_ = 0;
  uint64_t requests_ = 0, batches_ = 0, resyncs_ = 0;
};

}  // namespace perpgw::adapters::lighter
