// Resumable uploads of `cairn serve` (issue 17): a deposit sent as numbered parts, each with its
// SHA-256, so that a dropped connection costs only the part in flight. One folder per upload:
//
//   REPO/tmp/uploads/ID/state.json   who owns it, its parts and their digests, its phase
//                                    (replaced atomically: written to state.json.new, fsynced,
//                                    renamed, the folder fsynced)
//   REPO/tmp/uploads/ID/bag.tar      the archive (.tar.gz, .zip by its content type): part n
//                                    (from 1) at offset (n-1) * part size, written there by
//                                    the server as it arrives, fdatasynced before it is recorded
//
// A part is recorded only after its bytes on disk hash to the digest the client sent; a
// mismatch records nothing and punches the range out of the file. An upload belongs to the
// principal and partner that opened it: to anyone else it does not exist (NotFound). Uploads
// idle longer than the expiry are removed (Sweep); a partial upload never becomes a version.
//
// Completing deposits the archive through the library (the caller's `deposit` function), with
// the phase "completing" written first: a server killed during the deposit finds that phase on
// the rerun and looks in the catalog for the version the archive made (its ingestion event
// names the archive's path, unique to the upload) before depositing again, so that a rerun
// neither makes a second version nor loses the first. A stored deposit's answer is kept (the
// archive removed) until the upload expires, so a client that lost the answer gets it back by
// asking again; a refused one removes the upload (nothing to resume).
#ifndef CAIRN_OPS_SERVER_UPLOAD_STORE_H_
#define CAIRN_OPS_SERVER_UPLOAD_STORE_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "bagit/status.h"
#include "ops/server/api_types.h"
#include "repo/principal.h"

namespace cairn::server {

struct UploadPart {
  uint32_t n = 0;  // from 1
  uint64_t size = 0;
  std::string sha256;  // lower-case hex
};

struct Upload {
  std::string id;  // 32 lower-case hex digits
  std::string principal, partner, object;
  std::string content_type;      // application/x-tar, application/gzip or application/zip
  std::optional<uint64_t> size;  // the whole archive's size, when the client knew it
  std::string resume_key;        // the client's, "" when none
  uint64_t part_size = 0;
  int64_t created_micros = 0, updated_micros = 0;
  std::string phase = "open";     // "open", "completing", "completed"
  std::vector<UploadPart> parts;  // by n
  int answer_status = 0;          // completed: the deposit's HTTP status
  std::string answer;             // completed: the deposit's JSON answer

  nlohmann::json ToJson() const;  // the state file
  static Result<Upload> FromJson(const nlohmann::json& doc);
};

struct UploadOptions {
  uint64_t part_size = uint64_t{32} << 20;
  int64_t expiry_micros = int64_t{24} * 3600 * 1000000;
  uint64_t max_upload_bytes = uint64_t{64} << 30;
  // The clock (microseconds since the epoch); empty: the system clock.
  std::function<int64_t()> now;
};

class UploadStore {
 public:
  // Deposits the archive at `path` for `upload` (the answer as POST /v1/deposits gives it: 201
  // stored or 422 refused), or fails when the deposit could not run.
  using DepositFn = std::function<Result<ApiResponse>(const Upload& upload, const std::string& path,
                                                      const std::string& request_id)>;
  // Finds the version an earlier, interrupted deposit of `path` made (nullopt: none): the answer
  // to give for it.
  using FindFn = std::function<Result<std::optional<ApiResponse>>(const Upload& upload,
                                                                  const std::string& path)>;

  UploadStore(std::string repo_root, UploadOptions options);
  ~UploadStore();  // stops the sweeper
  UploadStore(const UploadStore&) = delete;
  UploadStore& operator=(const UploadStore&) = delete;

  const UploadOptions& options() const { return options_; }
  std::string Dir() const;  // REPO/tmp/uploads

  // Opens an upload for `who` to partner/object, or returns the one still there (open or
  // completed) that the same principal opened for the same partner, object and non-empty
  // resume key. `created` tells which. InvalidArgument for a bad content type or key, and for
  // a `size` (the archive's, when known) or `size_at_least` (a lower bound the client knows
  // when it makes the archive as it sends it) over max_upload_bytes. An upload of unknown size
  // is refused (and removed) at the first part past max_upload_bytes, with the same message.
  Result<Upload> Begin(const repo::Principal& who, const std::string& partner,
                       const std::string& object, const std::string& content_type,
                       std::optional<uint64_t> size, uint64_t size_at_least,
                       const std::string& resume_key, bool* created);
  // The upload `id` as `who` may see it: NotFound when it is not there or not theirs.
  Result<Upload> Get(const repo::Principal& who, const std::string& id);

  // Where part `n` of upload `id` goes, before its body is read: the archive's path, the
  // offset and the part size (the most it may hold). NotFound as Get; AlreadyExists for a
  // part already received, one arriving on another connection, or an upload no longer open;
  // InvalidArgument for n out of range, and (the upload refused) for a part of an upload of
  // unknown size that would end past max_upload_bytes: its `length` when the client gave it
  // (Content-Length), else its first byte. The part counts as arriving until ReleasePart: its
  // file stays until then, even when its upload is refused or abandoned meanwhile.
  //
  // A refused or abandoned upload is removed once no part of it is arriving; until it expires,
  // every call about it by its owner (Get, PartTargetFor, RecordPart, Complete, Remove) fails
  // with what ended it, not with "no upload": "upload ID was refused: ..." (InvalidArgument)
  // past max_upload_bytes, so that a part sent beside the refused one learns why, and "upload
  // ID was abandoned" (NotFound) after Remove. Kept by this process only: a restart forgets it.
  struct PartTarget {
    std::string path;
    uint64_t offset = 0;
    uint64_t max_bytes = 0;
  };
  Result<PartTarget> PartTargetFor(const repo::Principal& who, const std::string& id, uint32_t n,
                                   std::optional<uint64_t> length = std::nullopt);
  void ReleasePart(const std::string& id, uint32_t n);
  // Records part `n` (`bytes` long, written at its offset) when the bytes hash to `sha256`;
  // otherwise InvalidArgument naming both digests, and nothing of the part is kept.
  Result<UploadPart> RecordPart(const repo::Principal& who, const std::string& id, uint32_t n,
                                uint64_t bytes, const std::string& sha256);
  // Deposits the upload (see the header comment); the deposit's answer.
  Result<ApiResponse> Complete(const repo::Principal& who, const std::string& id,
                               const std::string& request_id, const DepositFn& deposit,
                               const FindFn& find);
  // Abandons an upload (removed once no part of it is arriving): AlreadyExists while it is
  // being completed.
  Status Remove(const repo::Principal& who, const std::string& id);

  // Removes the uploads idle longer than the expiry (and debris of unfinished ones); the number
  // removed. Uploads being completed are left alone.
  Result<size_t> Sweep();
  // Sweeps now and then every min(expiry / 2, 10 min) on a thread, until destroyed.
  void StartSweeper();

 private:
  int64_t Now() const;
  std::string UploadDir(const std::string& id) const;
  std::string ArchivePath(const Upload& u) const;
  Result<Upload> Load(const std::string& id) const;
  Status Save(const Upload& u) const;
  // Load, then NotFound unless `who` opened it for the same partner. Holds mu_.
  Result<Upload> LoadOwned(const repo::Principal& who, const std::string& id) const;
  Status RemoveDir(const std::string& id) const;
  // Whether a part of upload `id` is arriving (PartTargetFor until ReleasePart). Holds mu_.
  bool Arriving(const std::string& id) const;
  // Ends upload `u` for good: `why` is what its owner is told of it from now on (LoadOwned);
  // its folder is removed now, or by ReleasePart once no part of it is arriving. Holds mu_.
  void Discard(const Upload& u, Status why);

  const std::string root_;
  const UploadOptions options_;
  mutable std::mutex mu_;                               // state files, busy_
  std::set<std::string> busy_;                          // uploads being completed by this process
  std::set<std::pair<std::string, uint32_t>> writing_;  // parts whose body is arriving
  // Uploads ended for good (Discard), by id, until they expire (Sweep), at most kMaxDiscarded.
  struct Discarded {
    std::string principal, partner;
    Status why;
    int64_t micros = 0;
  };
  std::map<std::string, Discarded> discarded_;
  std::thread sweeper_;
  std::mutex sweep_mu_;
  std::condition_variable sweep_cv_;
  bool stopping_ = false;
};

// True for 32 lower-case hex digits (an upload id).
bool IsUploadId(const std::string& text);

}  // namespace cairn::server

#endif  // CAIRN_OPS_SERVER_UPLOAD_STORE_H_
