// Ingest driver for a serialized bag (.tar, .tar.gz, .tgz, .zip): one pass
// through bagit::ArchiveReader, never unpacked to disk. Tag members are teed
// into writers on the first site as the checker reads them (those that come
// before bagit.txt are held in memory, bounded, until it arrives). Payload
// members stream straight into blob writers while hashed: when the manifests
// are already known the blob is committed only if they agree; when they come
// later, the blob is committed under its SHA-256 at once (correct by
// construction), its digests are held in the deposit scratch (on disk) and
// it is checked at the end; the caller removes such new blobs if
// the bag is refused. Hostile members (links, devices, absolute or ".."
// names, members outside the bag's folder) are refused by name, unread.
#include <deque>
#include <mutex>

#include "bagit/archive.h"
#include "bagit/archive_bag_root.h"
#include "bagit/paths.h"
#include "bagit/tag_files.h"
#include "repo/deposit_stage.h"

namespace cairn::repo::deposit_internal {
namespace {

using bagit::Algorithm;
using bagit::ArchiveEntry;
using bagit::EntryType;

constexpr size_t kMaxHeldTagBytes = 64 << 20;

class ArchiveIngest {
 public:
  ArchiveIngest(bagit::ArchiveReader* reader, const IngestTarget& target, Ingest* ingest)
      : reader_(reader),
        target_(target),
        ingest_(ingest),
        stager_(target, ingest),
        checker_(Options(target), &ingest->report, ingest->contents.get()) {}

  Status Run() {
    ArchiveEntry entry;
    for (;;) {
      Result<bool> next = reader_->Next(&entry);
      if (!next.ok()) {
        ingest_->report.Error("", "archive.damaged", next.status().message());
        break;
      }
      if (!*next) break;
      Status s = Member(entry);
      if (stager_.IsSiteError(s)) return s;
      if (!s.ok()) {
        ingest_->report.Error(entry.path, "archive.damaged", s.message());
        break;
      }
      // Refused whatever follows: a hostile archive is not read on to its end.
      if (checker_.oversized_tag()) return Status::OK();
    }
    if (!bagit_seen_) {
      checker_.BagitTxtMissing();
      for (auto& [path, bytes] : held_tags_) {
        CAIRN_RETURN_IF_ERROR(checker_.TagFile(path, MemorySource(&bytes)));
      }
    }
    CAIRN_RETURN_IF_ERROR(ingest_->scratch->ForEachHeldPayload(
        [this](const std::string& path, uint64_t size, const bagit::Digests& digests) {
          checker_.PayloadFile(path, size, &digests);
        }));
    checker_.Finish(data_present_);
    return Status::OK();
  }

 private:
  static bagit::ValidateOptions Options(const IngestTarget& target) {
    bagit::ValidateOptions options;
    options.profile = target.profile;
    return options;
  }

  Status Member(const ArchiveEntry& entry) {
    std::optional<std::string> rel = root_.Relative(entry, &ingest_->report);
    if (!rel || rel->empty()) return Status::OK();
    switch (entry.type) {
      case EntryType::kSymlink:
        checker_.Refuse(*rel, "archive.symlink",
                        "symbolic link member (to '" + bagit::Printable(entry.link_target) +
                            "') is not allowed in a bag");
        return Status::OK();
      case EntryType::kHardlink:
        checker_.Refuse(*rel, "archive.hardlink",
                        "hard link member (to '" + bagit::Printable(entry.link_target) +
                            "') is not allowed in a bag");
        return Status::OK();
      case EntryType::kOther:
        checker_.Refuse(*rel, "archive.special-file",
                        "device, fifo or socket member is not allowed in a bag");
        return Status::OK();
      case EntryType::kDirectory:
        if (*rel == "data") data_present_ = true;
        if (bagit::IsPayloadPath(*rel) && *rel != "data") checker_.PayloadDirectory(*rel);
        return Status::OK();
      case EntryType::kFile:
        break;
    }
    uint64_t limit = entry.size > 0 ? entry.size : ~uint64_t{0};
    if (bagit::IsPayloadPath(*rel)) {
      data_present_ = true;
      return PayloadMember(*rel, limit);
    }
    bagit::ByteSource member = [this, limit](const bagit::ChunkSink& sink) {
      return reader_->ReadData(sink, limit);
    };
    if (*rel == "bagit.txt") {
      bagit_seen_ = true;
      CAIRN_ASSIGN_OR_RETURN(bagit::ByteSource source,
                             StageTagFile(target_, ingest_, *rel, member));
      CAIRN_RETURN_IF_ERROR(checker_.TagFile(*rel, source));
      for (auto& [path, bytes] : held_tags_) {
        CAIRN_RETURN_IF_ERROR(checker_.TagFile(path, MemorySource(&bytes)));
      }
      held_tags_.clear();
      return Status::OK();
    }
    std::optional<Algorithm> algorithm;
    if (bagit::ClassifyTagFile(*rel, &algorithm) == bagit::TagKind::kManifest && payload_checked_) {
      ingest_->report.Error(*rel, "archive.manifest-after-payload",
                            "this payload manifest comes after payload files that were already "
                            "checked; write tag files before data/ in the archive");
    }
    CAIRN_ASSIGN_OR_RETURN(bagit::ByteSource source, StageTagFile(target_, ingest_, *rel, member));
    if (bagit_seen_) return checker_.TagFile(*rel, source);
    // Before bagit.txt the encoding is unknown: keep the bytes (and store them).
    std::string bytes;
    CAIRN_RETURN_IF_ERROR(source([&](std::span<const std::byte> chunk) {
      held_bytes_ += chunk.size();
      if (held_bytes_ > kMaxHeldTagBytes) {
        return Status::InvalidArgument("more than 64 MiB of tag files before bagit.txt");
      }
      bytes.append(reinterpret_cast<const char*>(chunk.data()), chunk.size());
      return Status::OK();
    }));
    held_tags_.emplace_back(*rel, std::move(bytes));
    return Status::OK();
  }

  Status PayloadMember(const std::string& rel, uint64_t limit) {
    bool manifests_known = bagit_seen_ && checker_.PayloadAlgorithms().any();
    const bagit::ManifestIndex& index = *ingest_->contents->manifests;
    std::optional<bagit::ManifestIndex::EntryId> id;
    std::string expected;
    if (manifests_known) {
      id = index.Find(rel);
      if (id) expected = index.HexDigest(*id, Algorithm::kSha256);
    }
    bagit::AlgorithmSet algorithms =
        manifests_known ? checker_.PayloadAlgorithms() : bagit::AlgorithmSet().set();
    bagit::ByteSource member = [this, limit](const bagit::ChunkSink& sink) {
      return reader_->ReadData(sink, limit);
    };
    CAIRN_ASSIGN_OR_RETURN(PayloadStager::Staged staged,
                           stager_.Stage(member, algorithms, expected, true));
    if (!manifests_known) {
      // Correct by construction: stored under the digest of its own bytes.
      CAIRN_RETURN_IF_ERROR(stager_.Commit(rel, &staged));
      // Checked when the manifests are known, at the end; kept on disk meanwhile.
      std::lock_guard<std::mutex> lock(ingest_->mu);
      CAIRN_RETURN_IF_ERROR(ingest_->scratch->HoldPayload(rel, staged.size, staged.digests));
      return Status::OK();
    }
    if (id && index.Mismatches(*id, staged.digests).empty()) {
      CAIRN_RETURN_IF_ERROR(stager_.Commit(rel, &staged));
    } else {
      PayloadStager::Discard(&staged);
    }
    checker_.PayloadFile(rel, staged.size, &staged.digests);
    payload_checked_ = true;
    return Status::OK();
  }

  bagit::ArchiveReader* reader_;
  const IngestTarget& target_;
  Ingest* ingest_;
  PayloadStager stager_;
  bagit::BagChecker checker_;
  bagit::ArchiveBagRoot root_;  // where the bag is inside the archive
  bool bagit_seen_ = false;
  bool data_present_ = false;
  bool payload_checked_ = false;
  size_t held_bytes_ = 0;
  std::deque<std::pair<std::string, std::string>> held_tags_;
};

}  // namespace

Status IngestArchive(const std::string& path, const IngestTarget& target, Ingest* ingest) {
  ingest->kind = "serialized bag";
  ingest->report.bag = path;
  ingest->contents->serialized = true;
  Result<std::unique_ptr<bagit::ArchiveReader>> reader = bagit::ArchiveReader::Open(path);
  if (!reader.ok()) {
    if (reader.status().code() != Code::kInvalidArgument) return reader.status();
    ingest->report.Error("", "archive.unreadable", reader.status().message());
    return Status::OK();
  }
  ArchiveIngest run(reader->get(), target, ingest);
  return run.Run();
}

}  // namespace cairn::repo::deposit_internal
