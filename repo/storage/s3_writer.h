// The S3 BlobWriter (single PUT or streamed multipart upload; see the file
// comment of s3_backend.h for the protocol) and the small request helpers the
// backend shares with it.
#ifndef CAIRN_REPO_STORAGE_S3_WRITER_H_
#define CAIRN_REPO_STORAGE_S3_WRITER_H_

#include <deque>
#include <future>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "repo/storage/backend.h"
#include "repo/storage/s3_backend.h"
#include "repo/storage/sha256_stream.h"

namespace cairn::repo {

class S3Writer : public BlobWriter {
 public:
  // REQUIRES: `backend` outlives the writer.
  S3Writer(S3Backend* backend, PutOptions options);
  ~S3Writer() override;

  Status Append(std::span<const std::byte> data) override;
  Status Commit(std::string_view key) override;
  void Abort() override;
  // Every part sent first (multipart): a part the gateway did not take is this call's error.
  Status CheckAppended(std::string_view sha256_hex) override;

  // Parts sent at once by one writer; its memory is at most
  // (kPartsInFlight + 1) x part_size.
  static constexpr size_t kPartsInFlight = 4;

 private:
  // Sends the full buffer as the next part (in the background) and starts a
  // fresh buffer; at most kPartsInFlight parts travel at once.
  Status FlushPart();
  // Waits for parts in flight until at most `keep` remain; the first error.
  Status WaitParts(size_t keep);
  // key_hint mode: starts the multipart upload on the hinted key (whether or
  // not it exists now: CommitDirect asks).
  Status StartDirectUpload();
  Status CommitSingle(std::string_view key);
  Status CommitDirect(std::string_view key);
  Status CommitViaTempParts(std::string_view key);
  // AlreadyExists when `key` exists on the bucket (write-once check before a
  // completion); OK when it is absent; other errors as Stat gives them.
  Status CheckAbsent(std::string_view key);
  // Completes the multipart upload upload_id_ to final_name_ with `etags`
  // (part i+1 has etags[i]), with If-None-Match: * when `if_none_match`.
  Status CompleteUpload(std::string_view key, const std::vector<std::string>& etags,
                        bool if_none_match);
  // Checks the whole object's SHA-256 (multipart) against expected_sha256, or
  // that as many parts were sent as the caller gave digests for.
  Status CheckWholeDigest(std::string_view key);
  // whole_'s digest, finished on first call (kept in whole_sha256_); "" where nothing was hashed.
  const std::string& WholeSha256();
  // Corruption "WHAT: the bytes are longer|shorter than the N part digests
  // given for them describe" (PutOptions::part_sha256 does not fit the bytes).
  Status PartCountMismatch(const std::string& what, std::string_view longer_or_shorter) const;
  // Deletes the temp part objects (best effort).
  void DeleteTempParts();
  // Object Lock headers for `key` (empty unless S3Backend::LocksKey).
  std::vector<std::string> LockHeaders(std::string_view key) const;
  Status Fail(Status status);

  struct PartInFlight {
    size_t number = 0;  // 1-based
    std::string body;   // the part's bytes, which its request points into
    std::future<Result<std::string>> etag;
  };

  S3Backend* backend_;
  PutOptions options_;
  std::string buffer_;  // at most config.part_size bytes
  uint64_t total_ = 0;
  size_t parts_sent_ = 0;                // parts handed to FlushPart so far
  std::deque<PartInFlight> in_flight_;   // oldest first
  std::vector<std::string> spare_;       // buffers of parts sent, for the next parts
  std::vector<std::string> etags_;       // direct mode: ETag of part i+1
  std::unique_ptr<Sha256Stream> whole_;  // multipart + expected_sha256, unless signed_by_caller_
  std::string whole_sha256_;             // whole_'s digest once finished
  bool checked_ = false;                 // CheckAppended was called: no more Append
  // Multipart: the parts are signed with PutOptions::part_sha256 and the
  // gateway checks them (S3Backend::ChecksPayloadDigests): no hashing here.
  bool signed_by_caller_ = false;
  std::string temp_id_;                  // random name of this writer's temp parts
  std::vector<std::string> temp_parts_;  // object names of the parts stored so far
  bool direct_ = false;                  // parts go to the hinted key's upload
  std::string final_name_;               // object name of the final key at Commit
  std::string upload_id_;                // multipart upload to final_name_ in progress
  bool committed_ = false;
  bool failed_ = false;
};

// Aborts a multipart upload (OK if it is already gone).
Status AbortMultipartUpload(S3Http& http, const std::string& object_name,
                            const std::string& upload_id);
// Deletes one object by its full name in the bucket (OK if absent).
Status DeleteObject(S3Http& http, const std::string& object_name);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_STORAGE_S3_WRITER_H_
