// Ingest driver for a serialized bag (.tar, .tar.gz, .tgz, .zip): the bag walker's archive
// walk, one pass through bagit::ArchiveReader (after a walk of the headers that reads tag files
// placed after the payload first, for a file that skips by seeking), never unpacked to disk,
// with deposit's StagingSink: tag members are teed into writers on the first site as the checker
// reads them; payload members stream straight into blob writers while hashed. Hostile members
// (links, devices, absolute or ".." names, members outside the bag's folder) are refused by the
// walker, by name, unread.
#include "bagit/archive.h"
#include "bagit/bag_walker.h"
#include "repo/deposit/deposit_stage.h"

namespace cairn::repo::deposit_internal {

Status IngestArchive(const std::string& path, const IngestTarget& target, Ingest* ingest) {
  ingest->kind = "serialized bag";
  ingest->report.bag = path;
  ingest->contents->serialized = true;
  // The manifests' size is known only once they are read: indexed on disk.
  CAIRN_RETURN_IF_ERROR(ChooseManifestIndex(kManifestBytesUnknown, target, ingest));
  Result<std::unique_ptr<bagit::ArchiveReader>> reader = bagit::ArchiveReader::Open(path);
  if (!reader.ok()) {
    if (reader.status().code() != Code::kInvalidArgument) return reader.status();
    ingest->report.Error("", "archive.unreadable", reader.status().message());
    return Status::OK();
  }
  bagit::ValidateOptions options;
  options.profile = target.profile;
  options.refuse_normalization_twins = true;
  bagit::BagChecker checker(options, &ingest->report, ingest->contents.get());
  StagingSink sink(target, ingest);
  // A second reader of the same file reads tag files placed after the payload first.
  Result<std::unique_ptr<bagit::ArchiveReader>> ahead = bagit::ArchiveReader::Open(path);
  Status walked = bagit::BagWalker(&checker, &sink, &ingest->report)
                      .WalkArchive(reader->get(), ahead.ok() ? ahead->get() : nullptr);
  Status committed = sink.Finish();  // every payload blob durable, or the first failure
  return walked.ok() ? committed : walked;
}

}  // namespace cairn::repo::deposit_internal
