// Deposit: a folder, a bag folder or a serialized bag becomes version N of a
// partner's object, in one read of each input byte (DESIGN.md, "Deposit, in
// one pass"):
//
//   source -> (bag it if it is not a bag) -> validate against RFC 8493 and the
//   partner's policy while streaming each payload file once into the first
//   site -> commit blobs (by SHA-256, write-once) -> tag files -> version.pb
//   (last) -> ONE catalog transaction (object, version, files, tag files,
//   replicas on the first site, events, replication jobs) -> copies to the
//   other sites the policy names, each verified by reading it back -> the new
//   events to every site's log (segments.h).
//
// A bad deposit is refused whole: nothing of it stays visible, and the report
// names each file and rule. The blobs it newly wrote are removed at once when
// no other writer is in flight, else left to `cairn gc` (another deposit may
// have adopted them: repo/deposit/gc.h). A deposit killed at any point leaves no
// visible object (the catalog commit is the visibility point) and running it
// again completes it.
//
// A blob already on the first site is verified, never trusted: it is read
// back before the depositor's bytes are dropped, and a damaged one is replaced
// with them (a fixity check failure and a recovery event record it).
#ifndef CAIRN_REPO_DEPOSIT_H_
#define CAIRN_REPO_DEPOSIT_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "bagit/report.h"
#include "bagit/status.h"
#include "repo/events/segments.h"
#include "repo/principal.h"

namespace cairn::repo {

class Catalog;
class Repository;

// Where a deposit stands, for a progress display.
struct DepositProgress {
  enum class Phase { kStore, kCommit, kReplicate, kEvents };
  Phase phase = Phase::kStore;
  uint64_t files = 0;  // payload files stored so far (kStore), or in all
  uint64_t bytes = 0;  // their bytes
};

struct DepositRequest {
  std::string partner;
  // A folder (bagged by Cairn), a bag folder (has bagit.txt), or a serialized
  // bag (.tar, .tar.gz, .tgz, .zip).
  std::string source;
  // Empty: derived from the source's name (without .tar/.tar.gz/.tgz/.zip).
  std::string object_id;
  // "Label: value" lines added to bag-info.txt; only for folder sources (a
  // bag's own bag-info.txt is kept byte for byte).
  std::vector<std::string> info;
  // A folder holding a bagit.txt is bagged as plain files (bagit.txt becomes
  // data/bagit.txt) instead of read as a bag. InvalidArgument for an archive.
  bool as_folder = false;
  // A plain folder holding no file (an unmounted share's mount point) is refused
  // (source.empty) unless this is set: then it is stored as an empty version.
  bool allow_empty = false;
  // Copy to the other sites the policy names now (else the jobs stay queued).
  bool replicate = true;
  std::string depositor;  // empty: $USER
  // The depositor's role, for the events and the receipt's words (a server request sets its
  // principal's): a receipt for anyone but an operator names a site whose copies are pending by
  // its name only, never its error (the server's paths and URLs) or a command of the
  // repository's host (kPendingCopiesByOperator).
  std::string role = std::string(RoleName(Role::kOperator));
  // How events, the receipt and the report name the source; empty: `source`. A server names
  // the upload here, never its spool file.
  std::string source_name;
  std::string agent_version;  // Cairn's version, for events and Bag-Software-Agent
  unsigned threads = 0;       // payload workers; 0: IoWorkers() (two per core, 4 to 16)
  // Memory the index of the bag's payload manifests may take: it is kept in
  // memory when its estimate (three times the manifests' bytes) fits, else in
  // the deposit's scratch file, so a deposit's memory does not grow with its
  // file count. A serialized bag's manifests, whose size is not known before
  // they are read, are always indexed on disk. 0: always on disk.
  uint64_t manifest_memory_bytes = uint64_t{32} << 20;
  // Called after each payload file is stored and when a phase begins; from
  // worker threads, one call at a time. Must be quick (throttle display in
  // it). May be empty.
  std::function<void(const DepositProgress&)> progress;
  // Set (by SIGINT/SIGTERM) to stop at the next safe point: before the catalog commit, no
  // payload file is begun after it is seen and the deposit fails with Aborted ("interrupted:
  // nothing was stored; ..."), leaving nothing visible, as any failure; after the commit, the
  // copies to the other sites in flight finish and no other is begun (the outcome's
  // `interrupted`; the rest stay queued for `cairn replicate`). May be null.
  const std::atomic<bool>* cancel = nullptr;
};

// Who makes a receipt's pending copies, as it tells a depositor who is not an operator: one who
// runs none of the repository host's commands (`cairn replicate`, an audit's repairs).
inline constexpr const char* kPendingCopiesByOperator = "the consortium's operator will copy them";

// Copies of the new version on one site.
struct SiteCopies {
  std::string site;
  uint64_t ok = 0;       // blobs and tag files verified on the site
  uint64_t pending = 0;  // still to copy (site down, or --no-replicate)
  std::string error;     // why copies are pending, if known
};

struct Receipt {
  std::string partner;
  std::string object;
  uint32_t version = 0;
  std::string source;
  std::string source_kind;  // "folder", "bag", "serialized bag"
  uint64_t files = 0;
  uint64_t bytes = 0;
  // Payload bytes new to the partner (what no other version of it holds; content that
  // only other partners hold is counted here too, though stored once on the site), and
  // the payload files that are not: a receipt never tells what other partners store.
  uint64_t bytes_stored = 0;
  uint64_t blobs_reused = 0;
  // False in a receipt a server found again after it stopped mid-deposit: those two figures
  // were not kept (null in JSON; the text says so rather than "0 new payload bytes").
  bool stored_figures_known = true;
  // name -> sha256 of every tag manifest (and of manifest-sha256.txt).
  std::vector<std::pair<std::string, std::string>> manifest_digests;
  bool cairn_added_sha256_manifest = false;
  std::string first_site;
  std::vector<SiteCopies> copies;  // one entry per site the policy wants
  uint32_t copies_wanted = 0;
  std::vector<std::string> warnings;  // validation warnings, pending copies

  // "acme/photos v2: 12 files, 3.4 MB ..." and one line per site.
  std::string ToText() const;
  nlohmann::json ToJson() const;
  // The receipt ToJson made (a server's answer, for the client to print as text).
  // InvalidArgument naming the field when `j` is not one.
  static Result<Receipt> FromJson(const nlohmann::json& j);
};

// What a deposit came to: stored (receipt set) or refused (report has errors).
struct DepositOutcome {
  bool refused = false;
  bagit::Report report;  // errors (refused) or warnings
  std::optional<Receipt> receipt;
  // The bag's payload manifests were indexed in memory, not in the scratch
  // file (DepositRequest::manifest_memory_bytes).
  bool manifest_index_in_memory = false;
  // The events of the deposit (or of the blobs it repaired) on the sites' logs.
  EventsFlushed events;
  // Stored (receipt set), but DepositRequest::cancel stopped the copies to the other sites
  // before all were made: the receipt counts those still pending.
  bool interrupted = false;
};

// Deposits `request.source` as the next version of partner/object. Returns a
// refusal (not an error) for a bad deposit: invalid bag, policy or profile
// violation, unknown partner, unreadable or special source file, hostile
// archive member. Returns an error Status when the deposit could not run: no
// first site reachable, a site that refuses writes (named), catalog failure.
// Either way nothing of this deposit stays visible unless a receipt is returned.
// An outcome ends with the new events copied to the sites' logs (`events`).
Result<DepositOutcome> Deposit(Repository& repo, const DepositRequest& request);

// Fills receipt->copies: for each site of `plan`, the version's blobs and tag
// files whose copy there is ok, and how many are still pending. With `since_micros` (the
// deposit's start), a site still short of copies counts only those this deposit verified there
// (Catalog::CountCopiesVerifiedSince): not a copy the catalog records from another version,
// which nobody looked at when the site could not be opened, nor one another partner's content
// put there (a receipt must not tell it). Replication checks those when it reaches the site.
Status FillCopies(Catalog& catalog, int64_t version_id, const std::vector<std::string>& plan,
                  Receipt* receipt, std::optional<int64_t> since_micros = std::nullopt);

// What a deposit of the plain folder `dir` would refuse before reading any file: names that are
// not UTF-8 or cannot be bag paths, links, special files, unreadable folders (the rules and
// messages of the deposit's own walk); a warning when it has too many empty folders to keep.
// For a client that sends the folder elsewhere (a server) to refuse it as a local deposit would,
// before sending anything. A folder holding no file is refused (source.empty) unless
// `allow_empty`, as DepositRequest::allow_empty.
bagit::Report CheckSourceFolder(const std::string& dir, bool allow_empty = false);

// The object id a source's name gives: its last path component without
// .tar, .tar.gz, .tgz or .zip. InvalidArgument if that is not a valid id
// (then --id must be given).
Result<std::string> ObjectIdFromSource(const std::string& source);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_DEPOSIT_H_
