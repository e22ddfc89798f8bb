// Ingest driver for a bag folder: the bag walker's folder walk (as the
// validator walks it: tag files first, bagit.txt before the rest, then the
// payload) with deposit's StagingSink, so every byte read also goes to the
// first site: tag files are teed into writers, and each payload file is read
// ONCE, hashed with the manifest algorithms plus sha256 while appended to a
// blob writer, and its blob committed only when every manifest listing it
// agrees.
#include "bagit/bag_walker.h"
#include "repo/deposit/deposit_stage.h"

namespace cairn::repo::deposit_internal {

Status IngestBagDirectory(const std::string& dir, const IngestTarget& target, Ingest* ingest) {
  std::string root = dir;
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  ingest->kind = "bag";
  ingest->report.bag = dir;
  bagit::ValidateOptions options;
  options.mode = bagit::ValidationMode::kFull;
  options.threads = target.threads;
  options.profile = target.profile;
  bagit::BagChecker checker(options, &ingest->report, ingest->contents.get());
  StagingSink sink(target, ingest);
  Status walked =
      bagit::BagWalker(&checker, &sink, &ingest->report).WalkFolder(root, target.threads);
  Status committed = sink.Finish();  // every payload blob durable, or the first failure
  return walked.ok() ? committed : walked;
}

}  // namespace cairn::repo::deposit_internal
