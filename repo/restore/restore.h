// Restore: rebuild one version of an object exactly as it was deposited.
//
//   RestoreRequest req{.partner = "acme", .object = "box-7", .dest = "/tmp/out"};
//   CAIRN_ASSIGN_OR_RETURN(RestoreReport r, Restore(repo, req));
//
// Tag files come back byte for byte (each verified against its SHA-256 in the
// catalog; version.pb, and the tag files Cairn added at deposit as listed in
// cairn-added.txt (with the list itself), are left out);
// every payload file is read from a site, hashed while written and verified
// before it becomes part of the bag. The catalog is only an index: before any
// payload byte is written, its list of files is checked against the bag as
// written on the sites, the version's own record (version.pb) and its
// manifest-sha256.txt, each read once as a stream (restore_check.h); a
// disagreement stops the restore naming the file, and no bytes the bag does
// not vouch for are ever written. The bag appears at DEST only when whole:
// a folder built in DEST.partial-XXXXXX and renamed, or an archive (tar, tgz,
// zip) whose top folder is DEST's base name.
//
// Choosing a copy: with `site` set, only that site is read. Otherwise sites
// whose replica is "ok" come first, then the other recorded replicas, then any
// site with no record. A copy that is corrupt (wrong bytes) or missing
// (NotFound) is recorded for repair: its replica state becomes corrupt or
// missing, a repair job is queued and a failed "fixity check" event is logged.
// A site that could not be read is only skipped (never called corrupt).
// Every restore, successful or not, logs one "dissemination" event.
#ifndef CAIRN_REPO_RESTORE_H_
#define CAIRN_REPO_RESTORE_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "bagit/status.h"
#include "repo/events/segments.h"
#include "repo/principal.h"
#include "repo/restore/restore_engine.h"
#include "repo/restore/restore_output.h"
#include "repo/site/repository.h"

namespace cairn::repo {

struct RestoreRequest {
  std::string partner;
  std::string object;
  uint32_t version = 0;  // 0: the latest
  std::string dest;      // must not exist; its parent folder must
  // How the dissemination event names the destination; empty: `dest`. A server names the
  // download, never its spool file.
  std::string dest_name;
  std::string site;  // empty: any site; else only this one
  RestoreFormat format = RestoreFormat::kDir;
  unsigned threads = 0;  // parallel file copies (0: 4)
  // Instead of DEST: the bag as a tar written to this descriptor as it is made (a pipe `cairn
  // serve` sends), its top folder `stream_bag_name`, files spooled in `spool_dir` until
  // verified; `dest` then only names the receiver in the dissemination event. A failure leaves
  // the tar unended (the reader can tell); the caller closes the descriptor.
  int stream_fd = -1;
  std::string stream_bag_name;
  std::string spool_dir;
  // For the dissemination event.
  std::string user;
  std::string role = std::string(RoleName(Role::kOperator));  // user's
  std::string agent_version;
};

struct RestoreReport {
  std::string partner;
  std::string object;
  uint32_t version = 0;
  std::string dest;
  RestoreFormat format = RestoreFormat::kDir;
  std::string bag_name;  // archives: the top folder; folders: DEST's name
  uint64_t payload_files = 0;
  uint64_t payload_bytes = 0;
  uint64_t tag_files = 0;
  std::map<std::string, uint64_t> files_from_site;
  // Bad copies found (and recorded for repair) and sites that could not be read.
  std::vector<CopyProblem> problems;
  uint32_t repairs_queued = 0;
};

// What a restore that found DEST's file system full says after "nothing was left at DEST".
inline constexpr std::string_view kFreeSpaceThenRerun =
    "free space there or restore to another folder, then run the same command again";

// Rebuilds partner/object@version at request.dest. Errors:
//   InvalidArgument  bad ids, unknown format, or a catalog entry whose path is
//                    unsafe (absolute, "..", ...): nothing is written
//   NotFound         unknown object, version or site
//   AlreadyExists    DEST exists
//   Corruption       some file has no good copy: a copy was read and found
//                    wrong, or is missing where the catalog records one, or no
//                    site holds one; the message names the file and the
//                    outcome of each site recorded as holding it (or owing
//                    it), and of any other that gave wrong bytes (a site only
//                    tried by key that lacks the file is not named); or the
//                    catalog disagrees with version.pb or manifest-sha256.txt
//                    (rule restore.catalog-disagrees, naming the file; no copy
//                    is marked bad), or lists neither; nothing is left at DEST
//   Unavailable      some file could only not be read: every site holding it
//                    is down ("no site holding a copy of F could be opened
//                    (a, s3); retry when they are back"); nothing is left at
//                    DEST
// Whether it succeeds or not, its events (the dissemination, the bad copies
// it met) then go to every site's log; how that went is put in `*events`
// when not null.
Result<RestoreReport> Restore(Repository& repo, const RestoreRequest& request,
                              EventsFlushed* events = nullptr);

// Every check by which Restore of `request` can refuse before it writes or records anything,
// run without restoring: an unknown or withdrawn object or version (NotFound, Withdrawn), "the
// latest" older than a site's (NotFound, naming the sites and the rebuild), a site's tombstone
// of the version that the catalog does not know (Withdrawn, naming it and the rebuild), no
// destination. The same words as Restore's. The version Restore would restore. For a caller
// that must refuse before it answers: `cairn serve`, before the headers of a streamed tar.
Result<uint32_t> CheckRestore(Repository& repo, const RestoreRequest& request);

// The parts of a request as typed on the command line: "acme/box-7" or
// "acme/box-7@v3" (version 0 when absent). InvalidArgument otherwise.
Status ParseObjectRef(std::string_view text, std::string* partner, std::string* object,
                      uint32_t* version);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_RESTORE_H_
