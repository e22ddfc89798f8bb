// ASSERT_OK(expr) / EXPECT_OK(expr): `expr` (a cairn::Status or a
// cairn::Result<T>) is OK; on failure the message names the expression and
// prints the Status. Further text streams in as with any assertion:
//   ASSERT_OK(repo->Deposit(...)) << "deposit " << id;
#ifndef CAIRN_TESTS_UTIL_ASSERT_OK_H_
#define CAIRN_TESTS_UTIL_ASSERT_OK_H_

#include <gtest/gtest.h>

#include "bagit/status.h"

namespace cairn::testing {

inline const Status& StatusOf(const Status& status) { return status; }
template <typename T>
const Status& StatusOf(const Result<T>& result) {
  return result.status();
}

// The predicate-formatter behind ASSERT_OK and EXPECT_OK.
template <typename T>
::testing::AssertionResult IsOk(const char* expr_text, const T& value) {
  const Status& status = StatusOf(value);
  if (status.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << expr_text << " is not OK: " << status.ToString();
}

}  // namespace cairn::testing

#define ASSERT_OK(expr) ASSERT_PRED_FORMAT1(::cairn::testing::IsOk, expr)
#define EXPECT_OK(expr) EXPECT_PRED_FORMAT1(::cairn::testing::IsOk, expr)

#endif  // CAIRN_TESTS_UTIL_ASSERT_OK_H_
