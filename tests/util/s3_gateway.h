// The real Ceph RADOS Gateway the S3 tests run against.
//
// A test process uses the gateway named by CAIRN_S3_ENV_FILE when it is set
// (ops/scripts/with-ceph-rgw.sh sets it, so a whole ctest run shares one
// gateway); otherwise the first call starts one with ops/scripts/ceph-rgw-start.sh
// and the process stops it (ceph-rgw-stop.sh) when it exits. A gateway that will
// not start is a test FAILURE carrying the script's log, never a skip.
#ifndef CAIRN_TESTS_UTIL_S3_GATEWAY_H_
#define CAIRN_TESTS_UTIL_S3_GATEWAY_H_

#include <string>

namespace cairn::testing {

struct S3Gateway {
  std::string endpoint;  // http://127.0.0.1:PORT
  std::string access_key;
  std::string secret_key;
  std::string region;
  std::string dir;     // the gateway's folder (ceph.conf, logs)
  bool owned = false;  // started (and to be stopped) by this process
};

// The gateway for this process, started on first use. Also exports
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_REGION into this process's
// environment (call it before starting threads). nullptr if it could not be
// started or read; *log then holds why (the start script's output and logs).
const S3Gateway* SharedS3Gateway(std::string* log);

// A bucket name never used before by this process on this gateway.
std::string FreshBucketName();

// "s3://BUCKET?endpoint=...&region=..." (+ "&" + extra when not empty).
std::string S3Url(const S3Gateway& gateway, const std::string& bucket,
                  const std::string& extra = "");

// Starts a gateway of this test's own in `dir` (ceph-rgw-start.sh DIR): for a
// test that stops its radosgw (ceph-rgw-gateway.sh stop|start DIR), which must
// never be done to the shared gateway. Does not touch the environment. False,
// with *log holding why (the script's output), if it did not start. The caller
// stops it with StopPrivateS3Gateway(dir).
bool StartPrivateS3Gateway(const std::string& dir, S3Gateway* gateway, std::string* log);
void StopPrivateS3Gateway(const std::string& dir);

}  // namespace cairn::testing

#endif  // CAIRN_TESTS_UTIL_S3_GATEWAY_H_
