// S3Backend: a site in an S3 bucket (Ceph RADOS Gateway, MinIO, AWS), under an
// optional key prefix, path-style addressing. URL and credentials: s3_config.h.
//
// Writes: a writer buffers up to part_size (16 MiB) in memory. A small object
// is one PUT to its final key at Commit, with If-None-Match: * when if_absent
// and x-amz-content-sha256 of the body, so the gateway refuses damaged bytes.
// A larger object streams up one part_size part at a time, up to
// S3Writer::kPartsInFlight parts travelling at once, each with its own SHA-256:
//  - with PutOptions::key_hint, the parts go straight into a multipart upload
//    on that key (even one that exists: write-once is decided at Commit, and
//    a damaged blob may be removed before its replacement commits); Commit
//    checks the whole digest, HEADs the key (AlreadyExists, the upload
//    aborted, if it exists) and completes with If-None-Match: *. With
//    PutOptions::part_sha256 each part is signed with the caller's digest and,
//    where ChecksPayloadDigests(), the gateway's check of it replaces the
//    whole-digest check (no hashing in the writer); a small object's PUT is
//    signed with expected_sha256 the same way. This RGW ignores
//    If-None-Match on completion, so two writers racing on the same large key
//    may both complete: harmless for content-addressed blobs (same bytes).
//  - without it, each part is a temp object "tmp/<writer-id>.<n>"; Commit
//    starts a multipart upload on the final key, copies the temp parts into it
//    on the server (UploadPartCopy of whole objects: no range header, which
//    libcurl 7.88 mis-signs), completes it and deletes the temp parts.
// Objects of any size up to 10,000 parts never sit whole in memory. Aborted or
// failed writers abort the upload and delete their temp parts; CleanupTemp
// removes what killed writers left (temp objects and uploads older than the
// threshold).
//
// Reads: a Read fetches its first 8 MiB in one ranged GET (which tells the
// object's size) and the rest in 8 MiB ranges, kReadAhead (4) at a time,
// delivered to the sink in order.
//
// Object Lock (?object-lock=MODE&retain=10y): keys under "blobs/" and "bags/"
// (blobs, tag files, version records) are written with
// x-amz-object-lock-mode / -retain-until-date (and Content-MD5, which S3
// requires then), and ExtendRetention moves a reused blob's date forward
// (GET ?retention, then PUT ?retention when later). The bucket must have been
// created with Object Lock enabled (CreateBucket(true) or `cairn site add
// --create-bucket`); Remove of a locked key then only adds a delete marker.
//
// Retries: a 5xx (503 SlowDown included), 408, 429, timeout or refused
// connection is Unavailable (retryable). Reads, HEADs, listings and deletes
// are not retried here: the RetryBackend stacked on every site retries them
// (and resumes a read after the bytes delivered), once, with jittered backoff.
// Only a writer's own requests are retried inside (S3Request::retry: a part,
// a small object's PUT, a part copy, a completion; config max_attempts,
// jittered backoff from retry_delay_ms x4, capped at 2 s), because their bytes
// live in the writer and no wrapper can send them again.
// Thread-safe: one backend may be used by many threads at once.
#ifndef CAIRN_REPO_STORAGE_S3_BACKEND_H_
#define CAIRN_REPO_STORAGE_S3_BACKEND_H_

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "repo/storage/backend.h"
#include "repo/storage/s3_config.h"
#include "repo/storage/s3_http.h"

namespace cairn::repo {

class S3Backend : public StorageBackend {
 public:
  // A backend for `config` signing with `credentials`. Does no I/O.
  S3Backend(S3Config config, S3Credentials credentials);

  Result<std::unique_ptr<BlobWriter>> NewWriter(const PutOptions& options) override;
  Status Read(std::string_view key, uint64_t offset, uint64_t length,
              const ByteSink& sink) override;
  Result<ObjectInfo> Stat(std::string_view key) override;
  Status List(std::string_view prefix, const std::function<Status(const ObjectInfo&)>& fn) override;
  // ListObjectsV2 from `start_after` (the keys before it are not sent).
  Status ListAfter(std::string_view prefix, std::string_view start_after,
                   const std::function<Status(const ObjectInfo&)>& fn) override;
  // ListObjectsV2 with delimiter '/': the root's objects and its folders (CommonPrefixes).
  Status ListTopLevel(const std::function<Status(const ObjectInfo&)>& fn) override;
  Status Remove(std::string_view key) override;
  Status CleanupTemp(uint64_t min_age_seconds) override;
  std::string DisplayUrl() const override;
  // Checks that the bucket exists and the credentials are accepted (HEAD on the
  // bucket): NotFound names the bucket and says how to create it.
  Status CreateRoot() override;
  // HEAD on the bucket; when the URL asks for Object Lock, also that the bucket
  // has Object Lock enabled (InvalidArgument if not: locked PUTs would fail).
  Status Probe() override;
  // See "Object Lock" above; OK when the site locks nothing or not this key.
  Status ExtendRetention(std::string_view key) override;
  Result<Erasure> RemoveEveryVersion(std::string_view key) override;
  // Claims locks_objects when the URL asks for Object Lock, and
  // signed_part_size (the part size): writers sign parts with the caller's
  // digests, and trust them only once ChecksPayloadDigests() says so.
  BackendCapabilities Capabilities() const override {
    BackendCapabilities c;
    c.locks_objects = !config().object_lock_mode.empty();
    c.signed_part_size = config().part_size;
    return c;
  }
  // Whether the gateway refuses bytes that miss the x-amz-content-sha256 they
  // are sent with. Asked on first use and again once the answer is
  // kProbeLifetime old (a long-running service may outlive its gateway's
  // configuration): a small PUT under "tmp/" announcing a wrong digest must be
  // refused (XAmzContentSHA256Mismatch or BadDigest); a gateway that stores it
  // instead has the object removed and is not trusted. No answer (gateway
  // down): false this time, asked again next time. Thread-safe; callers wait
  // for the one probe in progress. `now`: steady-clock time (tests move it).
  bool ChecksPayloadDigests() { return ChecksPayloadDigests(std::chrono::steady_clock::now()); }
  bool ChecksPayloadDigests(std::chrono::steady_clock::time_point now);
  static constexpr std::chrono::minutes kProbeLifetime{60};
  // Tests: how many probe PUTs this backend has sent.
  int probes_sent() const { return probes_sent_.load(); }
  // TEST ONLY: from now on ChecksPayloadDigests() says no without asking, as
  // for a gateway that stores bytes missing their digest, so the writer's own
  // hashing (the path such gateways get) runs against the real one.
  void DistrustGatewayDigestsForTest();
  // True if the site's URL asks for Object Lock and `key` is one it locks.
  bool LocksKey(std::string_view key) const;

  // Creates the bucket (PUT bucket), with Object Lock enabled when asked. OK if
  // this account already owns it; AlreadyExists if someone else does.
  Status CreateBucket(bool object_lock);
  // Deletes every object and upload under the prefix, then the bucket itself
  // when the prefix is empty (tests, `site remove`). OK if already gone.
  Status DeleteBucket();

  // TEST ONLY: a single PUT of `bytes` to `key` announcing `claimed_sha256` as
  // its digest, to prove the gateway refuses mismatching bytes (Corruption).
  Status PutWithClaimedSha256ForTest(std::string_view key, std::string_view bytes,
                                     const std::string& claimed_sha256);

  // The object name in the bucket for a site key ("prefix/key").
  std::string ObjectName(std::string_view key) const;
  // "s3://bucket/prefix/key" for messages (no endpoint, no secret).
  std::string Describe(std::string_view key) const;
  S3Http& http() { return http_; }
  const S3Config& config() const { return http_.config(); }

 private:
  // Every object under `object_prefix` (a name on the bucket, with the site's
  // prefix), or only those after `start_after` (also such a name) when it is not empty.
  Status ListObjects(std::string_view object_prefix,
                     const std::function<Status(const std::string& name, uint64_t size,
                                                const std::string& last_modified)>& fn,
                     std::string_view start_after = {});
  // One GET of [offset, offset+length); adds the bytes given to `sink` to
  // *delivered and sets *object_size when the answer tells it.
  Status ReadOnce(std::string_view key, uint64_t offset, uint64_t length, const ByteSink& sink,
                  uint64_t* delivered, uint64_t* object_size);
  // One ranged GET (ReadOnce). Not retried here: a Read that fails part way is
  // resumed after the bytes delivered by the RetryBackend stacked on every site.
  Status ReadRange(std::string_view key, uint64_t offset, uint64_t length, const ByteSink& sink,
                   uint64_t* object_size);
  // Ranged GETs read ahead at once by one Read of a large object, each of at
  // most kReadRange bytes (memory: about (kReadAhead + 1) x kReadRange).
  static constexpr size_t kReadAhead = 4;
  static constexpr uint64_t kReadRange = 8ull << 20;

  S3Http http_;
  std::mutex probe_mutex_;
  enum class Probed { kNotYet, kChecks, kDoesNotCheck } probed_ = Probed::kNotYet;
  std::chrono::steady_clock::time_point probed_at_;
  std::atomic<int> probes_sent_{0};
};

// Opens an S3 site from its URL (scheme table in backend.cc). Credentials come
// from the environment or credentials file at open time (see s3_config.h).
Result<std::unique_ptr<S3Backend>> OpenS3BackendTyped(std::string_view url);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_STORAGE_S3_BACKEND_H_
