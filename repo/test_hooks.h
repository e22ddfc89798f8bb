// Test hooks: the seams a test reaches from outside the code under test. They
// are all defined in one file, repo/test_hooks.cc, which the build compiles
// twice: with CAIRN_TEST_HOOKS into every test executable and into the
// `cairn-testing` binary the end-to-end tests run, and without it into the
// shipped `cairn`. In the shipped binary every hook is a no-op that reads no
// environment variable, and the *ForTesting setters are not defined at all
// (code that calls one does not link).
//
// The hooks: crash points (repo/crash_point.h: $CAIRN_CRASH_AT,
// $CAIRN_CRASH_TRACE, SetCrashPointHookForTesting), a frozen clock for the
// auditor's verbs ($CAIRN_FAKE_NOW, below), withdrawal and hold numbers in
// sequence ($CAIRN_SEQUENTIAL_NUMBERS, below), a wrapper around every backend
// OpenBackend makes (SetBackendWrapperForTesting, repo/storage/backend.h) and
// the posix backend's system-call table (SetFileOpsForTesting,
// repo/storage/posix_ops.h).
#ifndef CAIRN_REPO_TEST_HOOKS_H_
#define CAIRN_REPO_TEST_HOOKS_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace cairn::repo {

class StorageBackend;

namespace test_hooks {

// $CAIRN_FAKE_NOW, the time at which the auditor's verbs freeze the
// repository's clock (ops/cli OpenRepositoryForAudit): the variable's name and
// text. nullopt when unset or empty, and always without the hooks.
struct FakeNow {
  std::string variable;
  std::string text;
};
std::optional<FakeNow> FakeNowSetting();

// $CAIRN_SEQUENTIAL_NUMBERS (not empty): new withdrawal and legal-hold numbers are the next
// integer past every number in use (1, 2, 3, ...), as before they were drawn at random, so that
// tests written with "withdrawal 1" in mind read as they were. False when unset, and always
// without the hooks: the shipped binary always draws (Catalog::AddWithdrawal).
bool SequentialNumbers();

// Every backend OpenBackend makes passes through here: returns `backend`
// itself, or what the wrapper a test installed (SetBackendWrapperForTesting)
// made of it.
std::unique_ptr<StorageBackend> WrapBackend(std::string_view url,
                                            std::unique_ptr<StorageBackend> backend);

}  // namespace test_hooks
}  // namespace cairn::repo

#endif  // CAIRN_REPO_TEST_HOOKS_H_
