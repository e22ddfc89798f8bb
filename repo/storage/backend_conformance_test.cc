// Runs the storage conformance suite on the posix and memory backends, bare
// and inside the wrappers.
#include "repo/storage/backend_conformance.h"

#include <atomic>

#include "repo/storage/backends.h"
#include "repo/storage/fault_backend.h"
#include "repo/storage/memory_backend.h"
#include "repo/storage/posix_backend.h"
#include "repo/storage/retry_backend.h"
#include "tests/util/test_util.h"

namespace cairn::repo {
namespace {

// One folder for every posix site the suite makes; removed at exit.
cairn::testing::TempDir& SitesDir() {
  static cairn::testing::TempDir dir;
  return dir;
}

std::unique_ptr<StorageBackend> MakePosix() {
  static std::atomic<int> counter{0};
  std::string root = (SitesDir() / ("site" + std::to_string(counter++))).string();
  auto backend = OpenPosixBackend("file://" + root);
  if (!backend.ok() || !(*backend)->CreateRoot().ok()) return nullptr;
  return std::move(backend).value();
}

std::unique_ptr<StorageBackend> MakeMemory() { return std::make_unique<MemoryBackend>("test"); }

// The wrappers must be transparent when nothing goes wrong, fast paths
// (capabilities) included: the production stack around a posix site
// (retry over the testing wrapper) and around a memory one.
std::unique_ptr<StorageBackend> MakeRetryOverFaultOverPosix() {
  return std::make_unique<RetryBackend>(std::make_unique<FaultBackend>(MakePosix()));
}
std::unique_ptr<StorageBackend> MakeRetryOverFaultOverMemory() {
  return std::make_unique<RetryBackend>(std::make_unique<FaultBackend>(MakeMemory()));
}

INSTANTIATE_TEST_SUITE_P(
    Storage, BackendConformance,
    ::testing::Values(BackendFactory{"posix", MakePosix}, BackendFactory{"memory", MakeMemory},
                      BackendFactory{"wrapped_posix", MakeRetryOverFaultOverPosix},
                      BackendFactory{"wrapped_memory", MakeRetryOverFaultOverMemory}),
    BackendFactoryName);

}  // namespace
}  // namespace cairn::repo
