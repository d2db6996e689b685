// Secret wipes its bytes when destroyed.
#include "adapters/api/venue_config.h"

#include <openssl/crypto.h>

namespace perpgw {

Secret::~Secret() {
  if (!value_.empty()) OPENSSL_cleanse(value_.data(), value_.size());
}

}  // namespace perpgw
