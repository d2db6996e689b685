// Status propagation for codecs: one pair of macros for every venue (no private copies).
#pragma once

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define PERPGW_STATUS_CONCAT_INNER(a, b) a##b
#define PERPGW_STATUS_CONCAT(a, b) PERPGW_STATUS_CONCAT_INNER(a, b)

// Returns the status from the enclosing function when `expr` (an absl::Status) is not OK.
#define PERPGW_RETURN_IF_ERROR(expr)                 \
  do {                                               \
    ::absl::Status perpgw_status_ = (expr);          \
    if (!perpgw_status_.ok()) return perpgw_status_; \
  } while (0)

// `lhs = *expr` for an absl::StatusOr `expr`, or returns its status. `lhs` may declare a variable
// ("PERPGW_ASSIGN_OR_RETURN(int64_t n, ParseN(text));").
#define PERPGW_ASSIGN_OR_RETURN(lhs, expr) \
  PERPGW_ASSIGN_OR_RETURN_IMPL(PERPGW_STATUS_CONCAT(perpgw_statusor_, __LINE__), lhs, expr)
#define PERPGW_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.status();                \
  lhs = std::move(*tmp)
