// The receiving half of a remote restore (`cairn --server URL restore`): a bag arrives as a tar
// stream, one top folder holding the bag, tag files first (the order a restore writes them,
// restore_engine.h), and is written to a RestoreOutput, each file checked against the bag's own
// manifests as its bytes pass, before it is committed:
//   - a payload file must be listed, with the digest of the bytes received, in every payload
//     manifest of the bag (manifest-ALG.txt), and those manifests must have arrived before it;
//   - every file a payload manifest lists must arrive;
//   - every tag file a tag manifest (tagmanifest-ALG.txt) lists must arrive with its digest;
//   - the files and bytes of the payload must equal bag-info.txt's Payload-Oxum when present.
// A folder member below data/ is made as such (RestoreOutput::NewFolder): a bag's empty folders
// come so. Nothing is made visible: the caller checks what the server says (ReceivedBag's counts)
// and then calls RestoreOutput::Finish(); destroying the output instead removes what was written.
//
//   CAIRN_ASSIGN_OR_RETURN(auto reader, bagit::ArchiveReader::Open("/dev/fd/7"));
//   CAIRN_ASSIGN_OR_RETURN(ReceivedBag bag, ReceiveBag(*reader, *out, "the server's answer"));
#ifndef CAIRN_REPO_RESTORE_RESTORE_RECEIVE_H_
#define CAIRN_REPO_RESTORE_RESTORE_RECEIVE_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "bagit/archive.h"
#include "bagit/status.h"
#include "repo/restore/restore_output.h"

namespace cairn::repo {

struct ReceivedBag {
  std::string top;  // the stream's top folder (the server's bag name)
  uint64_t payload_files = 0;
  uint64_t payload_bytes = 0;
  uint64_t tag_files = 0;
};

// Reads every member of `in` into `out` (see above). `source` names the stream in messages.
// Errors name the file and the rule:
//   Corruption  a digest differs (rule restore.received-digest), a payload file is not listed
//               in a manifest (restore.received-unlisted) or arrived before any payload manifest
//               (restore.received-order), a listed file never arrived (restore.received-missing),
//               Payload-Oxum disagrees (restore.received-oxum), a member is not a regular file or
//               folder below the one top folder, lies outside the bag's rules (path.*) or comes
//               twice (restore.received-member), a member is shorter than declared, or a
//               manifest or bag-info.txt cannot be read (restore.received-tag-file)
//   others      the archive could not be read (a cut stream) or `out` could not be written
Result<ReceivedBag> ReceiveBag(bagit::ArchiveReader& in, RestoreOutput& out,
                               std::string_view source);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_RESTORE_RESTORE_RECEIVE_H_
