// A remote deposit (issue 17): the source sent to `cairn serve` as a resumable upload (POST
// /v1/uploads, numbered parts each with its SHA-256, then complete), never whole in memory on
// this side (one part at a time). A serialized bag (.tar, .tar.gz, .tgz, .zip) is sent as is; a
// bag folder (one holding bagit.txt) as a tar made on the fly; a plain folder as a bag made on
// the fly (FolderTarStream's BagOnTheFly: hashed as it streams, with the algorithms of the
// partner's policy, its tag files after its payload). The upload is found again by a
// resume key made of the partner, object, the source's absolute path and the stat of each of
// its files (size, mtime, ctime, inode)
// (not of the server's URL: the uploads live on that server, which may be reached by another name):
// a rerun after a dropped connection sends only the parts the server lacks, after re-reading and
// re-hashing the ones it holds (a source whose bytes differ starts a new upload).
#ifndef CAIRN_OPS_CLIENT_DEPOSIT_UPLOAD_H_
#define CAIRN_OPS_CLIENT_DEPOSIT_UPLOAD_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "bagit/creator.h"
#include "ops/client/api_client.h"

namespace cairn::client {

// Sends `source` as the next version of partner/object. The answer: 201 with the deposit's
// JSON (stored, report, receipt: as `cairn deposit --json`) or 422 with the refusal's.
// InvalidArgument for a source that is neither a serialized bag nor a folder, or a bad `info`
// field; other errors as ApiClient::Call. A network failure once the upload is open (a part's,
// the completion's, any request about the upload: Unavailable, exit 2) names the request and
// the upload and ends with "(rerun the command to resume)": rerunning resumes. Progress is told
// to `progress` (the CLI prints it as a local deposit's).
struct UploadProgress {
  enum class Phase {
    kUpload,    // after each part: sent, or found on the server already
    kComplete,  // every part is on the server, which now deposits the upload
  };
  Phase phase = Phase::kUpload;
  uint64_t sent = 0;              // bytes of this command's parts so far
  uint64_t held = 0;              // bytes of the parts the server held already (a rerun)
  std::optional<uint64_t> total;  // the source's size, when known (not a folder's)
};
struct UploadOptions {
  // A folder holding bagit.txt is bagged as plain files (as `deposit --as-folder`).
  bool as_folder = false;
  std::vector<bagit::InfoField> info;  // bag-info.txt fields of a plain folder's bag
  std::string software_agent = "Cairn";
  // Told each step of the upload, from this thread; may be empty.
  std::function<void(const UploadProgress&)> progress;
  // Once set (the CLI's first SIGINT/SIGTERM), no other part is begun and the upload is not
  // completed: the parts in flight are waited for, and the answer is Aborted, "interrupted:
  // nothing was stored" (the parts sent stay on the server until the upload expires, and the
  // same command resumes it). A completion already sent is waited for: its deposit is the
  // server's. May be null.
  const std::atomic<bool>* cancel = nullptr;
};
Result<ApiClient::Answer> UploadDeposit(ApiClient& api, const std::string& partner,
                                        const std::string& object, const std::string& source,
                                        const UploadOptions& options = {});

// The resume key of an upload of `source` (hex SHA-256; see above).
std::string UploadResumeKey(const std::string& server, const std::string& partner,
                            const std::string& object, const std::string& source);

}  // namespace cairn::client

#endif  // CAIRN_OPS_CLIENT_DEPOSIT_UPLOAD_H_
