// The records the catalog API takes and returns (see repo/catalog/catalog.h).
// Times are microseconds since the Unix epoch; digests lower-case hex SHA-256.
#ifndef CAIRN_REPO_CATALOG_CATALOG_TYPES_H_
#define CAIRN_REPO_CATALOG_CATALOG_TYPES_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bagit/status.h"
#include "proto/event.pb.h"
#include "proto/job.pb.h"

namespace cairn::repo {

// What this catalog knows a site holds of one setting (table settings_seen): the version of its
// record there that this catalog wrote, found equal to its own or restored from, and that
// record's value.
struct SettingSeen {
  uint64_t version = 0;
  std::string value_sha256;  // SHA-256 of the record without version and time; "" not known
  bool removed = false;      // the record says the setting is gone
};

struct SiteRecord {
  int64_t id = 0;
  std::string name;
  std::string url;  // never holds secrets
  std::string region;
  int64_t created_micros = 0;
  // The repository id its CAIRN-SITE names when the site was adopted from
  // another repository (`cairn site add --adopt`); "" for its own sites.
  std::string adopted_from;
};

struct PartnerRecord {
  std::string id;
  std::string name;
  int64_t created_micros = 0;
};

// A policy text as stored, with where it came from (see policies::StoredPolicy).
struct PolicyRecord {
  std::string scope;  // kDefaultPolicyScope or a partner id
  std::string text;
  std::string source;
  std::string base_dir;
  int64_t updated_micros = 0;
  // Not stored: when setting it, a relative bagit_profile must stay inside base_dir (a policy
  // sent to the server, base_dir the repository's folder; policies::StoreContext).
  bool profile_inside_base_dir = false;
};
inline constexpr std::string_view kDefaultPolicyScope = "*";

struct FileEntry {
  std::string path;  // payload path as in the manifest: "data/a.txt"
  uint64_t size = 0;
  std::string sha256;
};

struct TagFileEntry {
  int64_t id = 0;    // tag_files row id (0 in NewVersion: assigned on insert)
  std::string name;  // "bagit.txt", "manifest-sha256.txt", "version.pb", ...
  uint64_t size = 0;
  std::string sha256;
};

// kUnreadable: reads of this copy failed kReadsBeforeUnreadable sweeps in a
// row while its site read fine (bad sectors): not counted, repaired like a
// corrupt copy (audit/, issue 14).
enum class ReplicaState { kOk, kPending, kCorrupt, kMissing, kUnavailable, kUnreadable };
// "ok", "pending", "corrupt", "missing", "unavailable", "unreadable".
std::string_view ReplicaStateName(ReplicaState state);
std::optional<ReplicaState> ParseReplicaState(std::string_view name);

// Everything one deposit adds, written by Catalog::InsertVersion in ONE
// transaction.
struct NewVersion {
  std::string partner;
  std::string object;
  uint32_t version = 0;        // from Catalog::NextVersion
  std::string depositor;       // user or account
  int64_t created_micros = 0;  // 0: the catalog's clock
  std::vector<FileEntry> files;
  // When set, the files come from here instead of `files` (so a version of a
  // million files need not be held in memory): InsertVersion calls it once,
  // inside its transaction, with a function to call for each file; its error
  // stops the insert. file_count and payload_bytes must then be the totals
  // of what it gives. Give them in digest order when you can (as
  // InsertVersion does with `files`): the blobs, files_by_blob and
  // replicas_of_blob rows then go into each index page in one run, rather
  // than each page being written out of SQLite's small cache and read back
  // for every file that lands on it (a 100,000-file deposit into a catalog of
  // 6,800,000 files: 35-37 s in digest order, 43-55 s in path order).
  std::function<Status(const std::function<Status(const FileEntry&)>&)> file_source;
  uint64_t file_count = 0;
  uint64_t payload_bytes = 0;
  std::vector<TagFileEntry> tag_files;
  // The bag's empty folders (the deepest, "data/a/b" in the payload, "metadata/x" in the tag
  // area), as version.pb lists them. Each must be a bag path other than "data" with no bagit
  // path violation, each once, at most bagit::kMaxEmptyFolders (InvalidArgument otherwise).
  std::vector<std::string> empty_folders;
  // Sites on which the caller has written and verified every blob and tag file
  // of this version: their replicas are recorded as ok, verified now.
  std::vector<std::string> stored_on;
  // next_due of those replicas = now + this (0: due at once).
  int64_t fixity_interval_micros = 0;
  // Appended to the event log in the same transaction (seq, id, time and
  // hashes filled in; partner/object/version filled in when empty).
  std::vector<proto::Event> events;
  // Enqueued in the same transaction (e.g. replication to the other sites).
  std::vector<proto::Job> jobs;
  // When set, what `cairn list` shows of the new version (MinCountedCopies
  // under this rule) is kept in the same transaction, without a pass over
  // its files: a version's tag files are new, so its fewest copies are those
  // on stored_on that the rule counts.
  struct CountedSites {
    std::vector<int64_t> site_ids;  // sites whose copies count
    bool distinct_regions = false;  // one copy per region
  };
  std::optional<CountedSites> listed_rule;

  // Filled by InsertVersion when no blob of the version was in the catalog
  // before: how many distinct blobs and tag files it has (what a receipt
  // counts copies of), each of them then with copies on stored_on and nowhere
  // else. std::nullopt otherwise.
  std::optional<uint64_t> new_items;
};

// A version as the sites should hold it under bags/<partner>/<object>/v<N>/
// (Catalog::ListVersionHoldings).
struct VersionHoldings {
  std::string partner;
  std::string object;
  uint32_t version = 0;
  std::vector<std::string> tag_files;        // names, version.pb included, sorted
  std::vector<std::string> record_ok_sites;  // sites whose copy of version.pb is ok, sorted
};

struct VersionInfo {
  int64_t id = 0;  // versions row id: the handle for ReplicasOf
  std::string partner;
  std::string object;
  uint32_t version = 0;
  int64_t created_micros = 0;
  std::string depositor;
  uint64_t file_count = 0;
  uint64_t payload_bytes = 0;
  std::vector<FileEntry> files;         // sorted by path; empty unless asked for
  std::vector<TagFileEntry> tag_files;  // sorted by name
  // The bag's empty folders ("data/a/b", "metadata/x": the deepest ones), sorted; always read.
  std::vector<std::string> empty_folders;
};

struct ObjectSummary {
  std::string partner;
  std::string object;
  int64_t created_micros = 0;
  uint32_t latest_version = 0;
  uint32_t version_count = 0;
  uint64_t latest_file_count = 0;
  uint64_t latest_payload_bytes = 0;
};

// One copy of a blob or a tag file on a site.
struct ReplicaRef {
  enum class Kind { kBlob, kTagFile };
  Kind kind = Kind::kBlob;
  std::string blob;         // kBlob: sha256
  int64_t tag_file_id = 0;  // kTagFile: tag_files row id
  static ReplicaRef Blob(std::string sha256) { return {Kind::kBlob, std::move(sha256), 0}; }
  static ReplicaRef TagFile(int64_t id) { return {Kind::kTagFile, {}, id}; }
};

struct ReplicaRecord {
  ReplicaRef ref;
  std::string site;
  ReplicaState state = ReplicaState::kPending;
  int64_t last_verified_micros = 0;
  int64_t next_due_micros = 0;
  std::string detail;
  // Filled by ReplicasOf: for tag files the name, for blobs the size.
  std::string tag_name;
  uint64_t size = 0;
  std::string sha256;  // of the blob or tag file
};

// Usage per partner. Shared blobs are split fairly: a blob referenced by k
// partners counts size/k to each of them (see SCHEMA.md, "Usage").
struct PartnerUsage {
  std::string partner;
  uint64_t files = 0;          // file rows in all versions
  uint64_t logical_bytes = 0;  // sum of file sizes in all versions, as deposited
  uint64_t unique_bytes = 0;   // distinct blobs the partner references, once each
  double fair_bytes = 0;       // sum of size/k over those blobs, plus tag files: one copy
  double stored_bytes = 0;     // fair share times the ok copies: bytes on all sites
  std::map<std::string, double> stored_bytes_by_site;
};

struct SiteUsage {
  std::string site;
  uint64_t blobs = 0;  // ok blob replicas
  uint64_t blob_bytes = 0;
  uint64_t tag_files = 0;  // ok tag file replicas
  uint64_t tag_bytes = 0;
};

struct Usage {
  std::vector<PartnerUsage> partners;  // by partner id
  std::vector<SiteUsage> sites;        // by site name
  uint64_t unique_blob_bytes = 0;      // every distinct blob once
  uint64_t logical_bytes = 0;          // all partners' logical bytes
};

// A job of the durable queue.
struct JobRecord {
  int64_t id = 0;
  proto::Job job;     // attempts, next_try and last_error mirror the row
  std::string state;  // "queued" | "leased" | "failed"
  std::string lease_owner;
  int64_t lease_until_micros = 0;
};

struct JobFilter {
  std::optional<proto::JobKind> kind;
  std::optional<std::string> partner;
  std::optional<std::string> object;
  std::optional<std::string> target_site;
};

// The ok copies of one version, per site (Catalog::ForEachVersionCopies).
struct VersionCopies {
  int64_t version_id = 0;
  std::string partner;
  std::string object;
  uint32_t version = 0;
  uint64_t available_items = 0;                      // distinct blobs and tag files ok on some site
  std::map<std::string, uint64_t> ok_items_by_site;  // site name -> items ok there
  // True when `site` holds every available item ok.
  bool Complete(const std::string& site) const {
    auto it = ok_items_by_site.find(site);
    return it != ok_items_by_site.end() && it->second >= available_items;
  }
};

struct JobCounts {
  uint64_t queued = 0;  // waiting, due now or later
  uint64_t leased = 0;
  uint64_t failed = 0;  // gave up: needs an operator
};

// Retry schedule of failed jobs: delay = min(base * 2^(attempts-1), max).
struct Backoff {
  int64_t base_micros = 30 * 1'000'000LL;
  int64_t max_micros = 6 * 3600 * 1'000'000LL;
  uint32_t max_attempts = 12;  // then the job is "failed" for good
};

struct EventFilter {
  std::optional<std::string> partner;
  std::optional<std::string> object;
  std::optional<std::string> type;  // PREMIS label
  std::optional<int64_t> since_micros;
  uint64_t after_seq = 0;
  uint64_t limit = 0;  // 0: no limit
};

// One event as stored: its seq and its serialized cairn.proto.Event.
struct EventRecord {
  uint64_t seq = 0;
  std::string bytes;
};

struct EventHead {
  uint64_t seq = 0;  // 0: empty log
  std::string hash;  // raw 32 bytes; 32 zero bytes for an empty log
};

// What a full check last found of one site's event segment (segment_checks):
// well formed, chained and equal to the catalog's events first..last.
struct SegmentCheckRecord {
  uint64_t first_seq = 0;
  uint64_t last_seq = 0;
  std::string bytes_sha256;   // raw 32 bytes: SHA-256 of the segment's bytes
  std::string hashes_sha256;  // raw 32 bytes: Catalog::EventHashesDigest(first, last) then
};

// The outcome of walking the whole chain.
struct ChainVerdict {
  bool ok = true;
  uint64_t checked = 0;        // events read
  uint64_t first_bad_seq = 0;  // 0 when ok
  std::string problem;         // what is wrong at first_bad_seq
  EventHead head;              // the last good event
};

// A trusted witness signer (table witness_keys).
struct WitnessKeyRecord {
  std::string public_key_hex;  // raw 32-byte Ed25519 key, lower-case hex
  std::string label;
  int64_t added_micros = 0;
};

// Where one copy is: a site name and the replica's state there.
struct CopyState {
  std::string site;
  // "ok", "unverified" (recorded ok, never verified: a rebuilt catalog's copies until audited),
  // "pending", "corrupt", "missing", "unavailable", "unreadable"
  std::string state;
};

// A payload file or tag file of a version and its copies.
struct FileCopies {
  std::string path;  // payload path or tag file name
  uint64_t size = 0;
  std::string sha256;
  std::vector<CopyState> copies;  // by site name; empty if no site holds one
};

// How many of a version's blobs and tag files have a replica in `state` on `site`.
struct ReplicaStateCount {
  std::string site;
  std::string state;
  uint64_t count = 0;
};

// A version by its names.
struct VersionRef {
  std::string partner;
  std::string object;
  uint32_t version = 0;
};

// One audit schedule (table schedules).
struct ScheduleRecord {
  std::string name;
  int64_t every_micros = 0;
  std::string site, partner, object;  // the scope ("" : all)
  std::string sample;
  uint64_t rate_bytes_per_sec = 0;
  std::string mode;  // "due" or "all"
  int64_t last_run_micros = 0;
  int64_t next_run_micros = 0;
  int64_t created_micros = 0;
};

}  // namespace cairn::repo

#endif  // CAIRN_REPO_CATALOG_CATALOG_TYPES_H_
