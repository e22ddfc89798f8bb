// Validating a serialized bag (.tar, .tar.gz, .tgz, .zip) as one stream through
// libarchive: nothing is extracted. Tag files are read into the checker as they
// pass; payload files are hashed as they stream by. Members that could escape
// the bag (absolute, "..", links, devices) are refused by name, unread.
//
// Order inside the archive: the bag's tag files usually come first (Cairn writes
// them first). Tag files that come before bagit.txt are held in memory (up to
// kMaxHeldTagBytes) until it arrives. Payload files that come before any payload
// manifest are hashed with every algorithm and their digests held until the end.
#include <sys/stat.h>

#include <deque>

#include "bagit/archive_bag_root.h"
#include "bagit/bag_checker.h"
#include "bagit/paths.h"
#include "bagit/validator.h"

namespace cairn::bagit {
namespace {

constexpr size_t kMaxHeldTagBytes = 64 << 20;

std::string_view SerializationName(ArchiveFormat f) {
  switch (f) {
    case ArchiveFormat::kTar:
      return "application/tar";
    case ArchiveFormat::kTarGz:
      return "application/tar+gzip";
    case ArchiveFormat::kZip:
      return "application/zip";
  }
  return "";
}

class ArchiveWalker {
 public:
  ArchiveWalker(ArchiveReader* reader, BagChecker* checker, Report* report)
      : reader_(reader), checker_(checker), report_(report) {}

  // Reads every member; false if the archive turned out to be damaged.
  void Run() {
    ArchiveEntry entry;
    for (;;) {
      Result<bool> next = reader_->Next(&entry);
      if (!next.ok()) {
        report_->Error("", "archive.damaged", next.status().message());
        break;
      }
      if (!*next) break;
      Status s = Member(entry);
      if (!s.ok()) {
        report_->Error(entry.path, "archive.damaged", s.message());
        break;
      }
    }
    if (!bagit_seen_) {
      checker_->BagitTxtMissing();
      for (const auto& [path, bytes] : held_tags_) {
        (void)checker_->TagFile(path, MemorySource(&bytes));
      }
    }
    for (const Held& h : held_payload_) checker_->PayloadFile(h.path, h.size, &h.digests);
  }

  bool data_present() const { return data_present_; }

 private:
  struct Held {
    std::string path;
    uint64_t size;
    Digests digests;
  };

  Status Member(const ArchiveEntry& entry) {
    std::optional<std::string> rel = root_.Relative(entry, report_);
    if (!rel || rel->empty()) return Status::OK();
    switch (entry.type) {
      case EntryType::kSymlink:
        checker_->Refuse(*rel, "archive.symlink",
                         "symbolic link member (to '" + Printable(entry.link_target) +
                             "') is not allowed in a bag");
        return Status::OK();
      case EntryType::kHardlink:
        checker_->Refuse(
            *rel, "archive.hardlink",
            "hard link member (to '" + Printable(entry.link_target) + "') is not allowed in a bag");
        return Status::OK();
      case EntryType::kOther:
        checker_->Refuse(*rel, "archive.special-file",
                         "device, fifo or socket member is not allowed in a bag");
        return Status::OK();
      case EntryType::kDirectory:
        if (*rel == "data") data_present_ = true;
        if (IsPayloadPath(*rel) && *rel != "data") checker_->PayloadDirectory(*rel);
        return Status::OK();
      case EntryType::kFile:
        break;
    }
    uint64_t limit = entry.size > 0 ? entry.size : ~uint64_t{0};
    if (IsPayloadPath(*rel)) {
      data_present_ = true;
      return PayloadMember(*rel, entry.size, limit);
    }
    ByteSource source = [this, limit](const ChunkSink& sink) {
      return reader_->ReadData(sink, limit);
    };
    if (*rel == "bagit.txt") {
      bagit_seen_ = true;
      CAIRN_RETURN_IF_ERROR(checker_->TagFile(*rel, source));
      for (const auto& [path, bytes] : held_tags_) {
        CAIRN_RETURN_IF_ERROR(checker_->TagFile(path, MemorySource(&bytes)));
      }
      held_tags_.clear();
      return Status::OK();
    }
    std::optional<Algorithm> algorithm;
    if (ClassifyTagFile(*rel, &algorithm) == TagKind::kManifest && payload_checked_) {
      report_->Warning(*rel, "archive.manifest-after-payload",
                       "this payload manifest comes after payload files in the archive: those "
                       "files were verified with the manifests before it only");
    }
    if (bagit_seen_) return checker_->TagFile(*rel, source);
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

  Status PayloadMember(const std::string& rel, uint64_t declared, uint64_t limit) {
    bool manifests_known =
        bagit_seen_ && (!checker_->PayloadAlgorithms().none() || !checker_->WantsHashes());
    if (!checker_->WantsHashes()) {
      uint64_t size = declared;
      if (declared == 0) {  // size not in the header (some zips): count the bytes
        CAIRN_RETURN_IF_ERROR(reader_->ReadData(
            [&](std::span<const std::byte> chunk) {
              size += chunk.size();
              return Status::OK();
            },
            limit));
      }
      checker_->PayloadFile(rel, size, nullptr);
      payload_checked_ = true;
      return Status::OK();
    }
    AlgorithmSet algorithms =
        manifests_known ? checker_->PayloadAlgorithms() : AlgorithmSet().set();
    MultiHasher hasher(algorithms);
    CAIRN_RETURN_IF_ERROR(reader_->ReadData(
        [&](std::span<const std::byte> chunk) {
          hasher.Update(chunk);
          return Status::OK();
        },
        limit));
    uint64_t size = hasher.bytes();
    Digests digests = hasher.Finish();
    if (manifests_known) {
      checker_->PayloadFile(rel, size, &digests);
      payload_checked_ = true;
    } else {
      held_payload_.push_back(Held{rel, size, std::move(digests)});
    }
    return Status::OK();
  }

  ArchiveReader* reader_;
  BagChecker* checker_;
  Report* report_;
  ArchiveBagRoot root_;  // where the bag is inside the archive
  bool bagit_seen_ = false;
  bool data_present_ = false;
  bool payload_checked_ = false;
  size_t held_bytes_ = 0;
  std::deque<std::pair<std::string, std::string>> held_tags_;
  std::deque<Held> held_payload_;
};

}  // namespace

Result<Validation> ValidateBagArchive(const std::string& archive, const ValidateOptions& options) {
  struct stat st;
  if (stat(archive.c_str(), &st) != 0) return Status::FromErrno(errno, "open bag", archive);
  Validation v;
  v.contents = std::make_unique<BagContents>();
  v.contents->serialized = true;
  if (std::optional<ArchiveFormat> f = FormatFromName(archive)) {
    v.contents->serialization = std::string(SerializationName(*f));
  }
  v.report.bag = archive;
  v.report.mode = options.mode;
  Result<std::unique_ptr<ArchiveReader>> reader = ArchiveReader::Open(archive);
  if (!reader.ok()) {
    if (reader.status().code() != Code::kInvalidArgument) return reader.status();
    v.report.Error("", "archive.unreadable", reader.status().message());
    return v;
  }
  BagChecker checker(options, &v.report, v.contents.get());
  ArchiveWalker walker(reader->get(), &checker, &v.report);
  walker.Run();
  checker.Finish(walker.data_present());
  return v;
}

Result<Validation> ValidateBag(const std::string& path, const ValidateOptions& options) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return Status::FromErrno(errno, "open bag", path);
  if (S_ISDIR(st.st_mode)) return ValidateBagDirectory(path, options);
  if (!FormatFromName(path)) {
    return Status::InvalidArgument(path +
                                   ": not a bag directory nor a .tar, .tar.gz, .tgz or .zip file");
  }
  return ValidateBagArchive(path, options);
}

}  // namespace cairn::bagit
