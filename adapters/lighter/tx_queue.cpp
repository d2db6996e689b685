// See tx_queue.h.
#include "adapters/lighter/tx_queue.h"

#include <utility>

#include "adapters/lighter/errors.h"

namespace perpgw::adapters::lighter {

void TxQueue::Submit(SignFn sign, DoneFn done) {
  queue_.push_back(Item{std::move(sign), std::move(done), 0});
  Pump();
}

void TxQueue::SubmitAll(std::vector<Job> jobs) {
  for (Job& j : jobs) queue_.push_back(Item{std::move(j.sign), std::move(j.done), 0});
  Pump();
}

void TxQueue::Pump() {
  if (in_flight_ || fetching_ || queue_.empty()) return;
  if (!nonce_known_) {
    fetching_ = true;
    ++resyncs_;
    fetch_nonce_([this](absl::StatusOr<int64_t> n) {
      fetching_ = false;
      if (n.ok() && *n >= 0) {
        next_ = *n;
        nonce_known_ = true;
        return Pump();
      }
      // No nonce, nothing can be signed: every waiting tx ends here (it never left).
      const absl::Status why =
          n.ok() ? absl::InternalError("lighter nextNonce answered a negative nonce")
                 : n.status();
      std::deque<Item> failed;
      failed.swap(queue_);
      for (Item& it : failed) {
        TxOutcome o;
        o.kind = TxOutcome::Kind::kNotSent;
        o.status = absl::UnavailableError("lighter: the key's next nonce could not be read (" +
                                          std::string(why.message()) + "); nothing was sent");
        it.done(std::move(o));
      }
    });
    return;
  }
  std::vector<Item> items;
  std::vector<SignedTx> txs;
  const int64_t first = next_;
  while (!queue_.empty() && items.size() < opts_.max_batch) {
    Item it = std::move(queue_.front());
    queue_.pop_front();
    auto signed_tx = it.sign(first + static_cast<int64_t>(items.size()));
    if (!signed_tx.ok()) {
      TxOutcome o;
      o.kind = TxOutcome::Kind::kNotSent;
      o.status = signed_tx.status();
      it.done(std::move(o));
      continue;  // its nonce goes to the next tx
    }
    txs.push_back(std::move(*signed_tx));
    items.push_back(std::move(it));
  }
  if (items.empty()) return Pump();
  in_flight_ = true;
  ++requests_;
  if (items.size() > 1) ++batches_;
  // The callback owns copies of what it needs: `txs` is handed to the sender by reference.
  auto shared_txs = std::make_shared<std::vector<SignedTx>>(std::move(txs));
  auto shared_items = std::make_shared<std::vector<Item>>(std::move(items));
  send_(*shared_txs, [this, shared_items, shared_txs, first](TxAnswer a) {
    OnAnswer(std::move(*shared_items), std::move(*shared_txs), first, std::move(a));
  });
}

void TxQueue::OnAnswer(std::vector<Item> items, std::vector<SignedTx> txs, int64_t first,
                       TxAnswer a) {
  in_flight_ = false;
  const bool batched = items.size() > 1;
  if (a.accepted()) {
    next_ = first + static_cast<int64_t>(items.size());
    for (size_t i = 0; i < items.size(); ++i) {
      TxOutcome o;
      o.kind = TxOutcome::Kind::kAccepted;
      o.nonce = first + static_cast<int64_t>(i);
      // The venue's hash when it sent one, else ours (the same Poseidon2 digest).
      o.tx_hash = i < a.hashes.size() && !a.hashes[i].empty() ? a.hashes[i] : txs[i].hash_hex;
      o.predicted_execution_ms = a.predicted_execution_ms;
      o.batched = batched;
      items[i].done(std::move(o));
    }
    return Pump();
  }
  nonce_known_ = false;  // re-read before the next request, whatever happened
  // Invalid nonce (21104) or a tx that expired before it landed: nothing was accepted (the
  // classifier's kResyncClock). Sign again with fresh nonces and expiries, ahead of newer txs.
  const bool resign = a.answered && a.error.action == ErrorAction::kResyncClock;
  if (resign) {
    for (size_t i = items.size(); i-- > 0;) {
      Item& it = items[i];
      if (++it.nonce_failures <= opts_.nonce_retries) {
        queue_.push_front(std::move(it));
        continue;
      }
      TxOutcome o;
      o.kind = TxOutcome::Kind::kRefused;
      o.nonce = first + static_cast<int64_t>(i);
      o.answer = a;
      o.batched = batched;
      it.done(std::move(o));
    }
    return Pump();
  }
  for (size_t i = 0; i < items.size(); ++i) {
    TxOutcome o;
    o.nonce = first + static_cast<int64_t>(i);
    o.answer = a;
    o.batched = batched;
    if (!a.answered || a.error.retry == RetryClass::kUnknownOutcome) {
      o.kind = TxOutcome::Kind::kUnknown;  // a lost answer, a 5xx: it may have been accepted
    } else if (a.error.rate_limited()) {
      o.kind = TxOutcome::Kind::kRefused;  // refused before anything ran, batch or not
    } else {
      o.kind = batched ? TxOutcome::Kind::kUnknown : TxOutcome::Kind::kRefused;
    }
    items[i].done(std::move(o));
  }
  Pump();
}

}  // namespace perpgw::adapters::lighter
