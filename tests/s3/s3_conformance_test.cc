// The storage-backend conformance suite (repo/storage/backend_conformance.h) on
// the S3 backend against the REAL Ceph gateway (tests/util/s3_gateway.h): one
// fresh bucket per test. It lives in this binary because the suite's TEST_P
// bodies are defined in the header, which cairn_repo_tests already includes once
// (posix, memory). If the gateway does not start, every test here FAILS with
// the start script's log.
#include <gtest/gtest.h>

#include "repo/storage/backend_conformance.h"
#include "repo/storage/s3_backend.h"
#include "tests/util/s3_gateway.h"

namespace cairn::repo {
namespace {

std::unique_ptr<StorageBackend> MakeS3() {
  std::string log;
  const cairn::testing::S3Gateway* gateway = cairn::testing::SharedS3Gateway(&log);
  if (gateway == nullptr) {
    ADD_FAILURE() << "the Ceph gateway did not start:\n" << log;
    return nullptr;
  }
  // 5 MiB parts: the multipart paths run on objects of a few MiB.
  std::string url =
      cairn::testing::S3Url(*gateway, cairn::testing::FreshBucketName(), "part-size=5MiB");
  auto backend = OpenS3BackendTyped(url);
  if (!backend.ok()) {
    ADD_FAILURE() << backend.status().ToString();
    return nullptr;
  }
  Status created = (*backend)->CreateBucket(/*object_lock=*/false);
  if (!created.ok()) {
    ADD_FAILURE() << created.ToString();
    return nullptr;
  }
  return std::move(backend).value();
}

INSTANTIATE_TEST_SUITE_P(S3, BackendConformance,
                         ::testing::Values(BackendFactory{"s3_ceph_rgw", MakeS3}),
                         BackendFactoryName);

}  // namespace
}  // namespace cairn::repo
