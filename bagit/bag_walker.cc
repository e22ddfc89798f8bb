// BagWalker: see bag_walker.h. The folder walk and the archive walk, and the
// sinks' defaults.
#include "bagit/bag_walker.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "bagit/archive_bag_root.h"
#include "bagit/dir_list.h"
#include "bagit/fd_io.h"
#include "bagit/paths.h"
#include "bagit/run_pool.h"
#include "bagit/tag_files.h"

namespace cairn::bagit {

ByteSource LocalFileSource(const std::string& path) {
  return [path](const ChunkSink& sink) -> Status {
    int fd = open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return Status::FromErrno(errno, "open", path);
    // One buffer per open file: a worker holds one file at a time.
    std::unique_ptr<std::byte[]> buffer(new std::byte[kReadChunk]);
    Status result;
    for (;;) {
      ssize_t n = ReadSome(fd, std::span<std::byte>(buffer.get(), kReadChunk));
      if (n < 0) {
        result = Status::FromErrno(errno, "read", path);
        break;
      }
      if (n == 0) break;
      result = sink(std::span<const std::byte>(buffer.get(), static_cast<size_t>(n)));
      if (!result.ok()) break;
    }
    close(fd);
    return result;
  };
}

Result<ByteSource> BagSink::TagFile(std::string_view, ByteSource source) { return source; }

Status BagSink::HoldPayload(std::string_view path, uint64_t size, const Digests& digests) {
  held_.push_back(Held{std::string(path), size, digests});
  return Status::OK();
}

Status BagSink::ForEachHeldPayload(const HeldPayload& fn) {
  for (const Held& h : held_) fn(h.path, h.size, h.digests);
  held_.clear();
  return Status::OK();
}

Status BagSink::RenamePayload(std::string_view, std::string_view) { return Status::OK(); }

bool BagSink::IsSinkError(const Status&) const { return false; }

Result<BagSink::PayloadRead> HashingSink::PayloadFile(const PayloadEntry& entry,
                                                      AlgorithmSet algorithms, bool) {
  PayloadRead read;
  if (entry.local_path != nullptr) {
    if (algorithms.none()) {  // nothing to compare with: the size is enough
      read.file.size = entry.size;
      return read;
    }
    Result<FileDigests> hashed = HashFile(*entry.local_path, algorithms);
    if (!hashed.ok()) {
      read.unreadable = hashed.status();
    } else {
      read.file = std::move(hashed).value();
    }
    return read;
  }
  MultiHasher hasher(algorithms);
  read.unreadable = (*entry.source)([&](std::span<const std::byte> chunk) {
    hasher.Update(chunk);
    return Status::OK();
  });
  read.file.size = hasher.bytes();
  read.file.digests = hasher.Finish();
  return read;
}

namespace {

// Files listed per batch of a folder's payload: the walk holds one batch and
// one folder's listing, never the whole tree.
constexpr size_t kPayloadBatchFiles = 4096;
// Tag files an archive may hold before its bagit.txt (their encoding is not known yet).
constexpr size_t kMaxHeldTagBytes = 64 << 20;

std::string NotRegularMessage(std::string_view what, mode_t mode) {
  return std::string(what) + " must be regular files; this is a " + SpecialFileKind(mode);
}

class FolderWalk {
 public:
  FolderWalk(const std::string& root, BagChecker* checker, BagSink* sink, Report* report)
      : root_(root), checker_(checker), sink_(sink), report_(report) {}

  Status Run(unsigned threads) {
    CAIRN_ASSIGN_OR_RETURN(std::vector<std::string> top, ListDirSorted(root_));
    AlgorithmSet tag_algorithms = Only(Algorithm::kSha256);
    for (const std::string& name : top) {
      std::optional<Algorithm> a;
      if (ClassifyTagFile(name, &a) == TagKind::kTagManifest && a) tag_algorithms |= Only(*a);
    }
    checker_->SetTagAlgorithms(tag_algorithms);

    struct stat st;
    bool exists = lstat((root_ + "/bagit.txt").c_str(), &st) == 0;
    if (exists && S_ISREG(st.st_mode)) {
      CAIRN_RETURN_IF_ERROR(TagFile("bagit.txt"));
    } else {
      checker_->BagitTxtMissing();
      // A bagit.txt that is a link or a folder is named as such, never followed.
      if (exists) CAIRN_RETURN_IF_ERROR(TagEntry("bagit.txt"));
    }
    for (const std::string& name : top) {
      if (name == "data" || name == "bagit.txt") continue;
      CAIRN_RETURN_IF_ERROR(TagEntry(name));
    }
    bool data_present = lstat((root_ + "/data").c_str(), &st) == 0;
    if (data_present && S_ISDIR(st.st_mode)) {
      CAIRN_RETURN_IF_ERROR(Payload(threads));
    } else if (data_present) {
      checker_->Refuse("data", "bag.data-not-directory", "data must be a directory");
    }
    checker_->Finish(data_present);
    return Status::OK();
  }

 private:
  struct Listed {
    std::string rel;
    uint64_t size;
  };

  // A tag file that cannot be read is a finding naming it, as a payload file is.
  Status TagFile(const std::string& rel) {
    CAIRN_ASSIGN_OR_RETURN(ByteSource source,
                           sink_->TagFile(rel, LocalFileSource(root_ + "/" + rel)));
    Status s = checker_->TagFile(rel, source);
    if (sink_->IsSinkError(s)) return s;
    if (!s.ok()) report_->Error(rel, "tag.unreadable", s.message());
    return Status::OK();
  }

  // True, and the entry refused by its rule, when root_/rel is longer than the system opens
  // by name: ENAMETOOLONG is not an unreadable file, as if a permission were missing.
  bool RefusedTooLong(const std::string& rel) {
    const size_t bytes = root_.size() + 1 + rel.size();
    if (!PathTooLong(bytes)) return false;
    checker_->Refuse(rel, kPathTooLongRule, PathTooLongMessage(bytes));
    return true;
  }

  // A tag file, or a tag folder walked (sorted, depth first).
  Status TagEntry(const std::string& rel) {
    if (RefusedTooLong(rel)) return Status::OK();
    struct stat st;
    if (lstat((root_ + "/" + rel).c_str(), &st) != 0) {
      report_->Error(rel, "tag.unreadable",
                     Status::FromErrno(errno, "lstat", root_ + "/" + rel).message());
      return Status::OK();
    }
    if (S_ISREG(st.st_mode)) return TagFile(rel);
    if (!S_ISDIR(st.st_mode)) {
      checker_->Refuse(rel, S_ISLNK(st.st_mode) ? "tag.symlink" : "tag.special-file",
                       NotRegularMessage("tag files", st.st_mode));
      return Status::OK();
    }
    checker_->TagDirectory(rel);
    Result<std::vector<std::string>> names = ListDirSorted(root_ + "/" + rel);
    if (!names.ok()) {
      report_->Error(rel, "tag.unreadable", names.status().message());
      return Status::OK();
    }
    for (const std::string& name : *names) CAIRN_RETURN_IF_ERROR(TagEntry(rel + "/" + name));
    return Status::OK();
  }

  // Walks data/ (lstat: never follows a link); regular files are read in
  // batches on the pool.
  Status Payload(unsigned threads) {
    if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
    bool read = checker_->WantsHashes();          // else the listed size is enough
    algorithms_ = checker_->PayloadAlgorithms();  // the manifests are all read by now
    std::vector<Listed> files;
    auto flush = [&]() -> Status {
      // Largest first: both cores stay busy to the end of the batch (a large
      // file handed out last would leave one core hashing it alone).
      std::stable_sort(files.begin(), files.end(),
                       [](const Listed& a, const Listed& b) { return a.size > b.size; });
      Status s = RunPool(files.size(), threads, [&](size_t i) { return PayloadFile(files[i]); });
      files.clear();
      return s;
    };
    std::vector<std::string> pending = {"data"};
    while (!pending.empty()) {
      std::string dir = std::move(pending.back());
      pending.pop_back();
      Result<std::vector<std::string>> names = ListDirSorted(root_ + "/" + dir);
      if (!names.ok()) {
        checker_->Refuse(dir, "payload.unreadable", names.status().message());
        continue;
      }
      for (const std::string& name : *names) {
        std::string rel = dir + "/" + name;
        struct stat st;
        if (RefusedTooLong(rel)) continue;
        if (lstat((root_ + "/" + rel).c_str(), &st) != 0) {
          checker_->Refuse(rel, "payload.unreadable",
                           Status::FromErrno(errno, "lstat", rel).message());
        } else if (S_ISDIR(st.st_mode)) {
          checker_->PayloadDirectory(rel);
          pending.push_back(rel);
        } else if (!S_ISREG(st.st_mode)) {
          checker_->Refuse(rel, S_ISLNK(st.st_mode) ? "payload.symlink" : "payload.special-file",
                           NotRegularMessage("payload", st.st_mode));
        } else if (!read) {
          checker_->PayloadFile(rel, static_cast<uint64_t>(st.st_size), nullptr);
        } else {
          files.push_back(Listed{std::move(rel), static_cast<uint64_t>(st.st_size)});
          if (files.size() >= kPayloadBatchFiles) CAIRN_RETURN_IF_ERROR(flush());
        }
      }
    }
    return flush();
  }

  // On a worker thread.
  Status PayloadFile(const Listed& file) {
    std::string path = root_ + "/" + file.rel;
    ByteSource source = LocalFileSource(path);
    CAIRN_ASSIGN_OR_RETURN(
        BagSink::PayloadRead read,
        sink_->PayloadFile(PayloadEntry{file.rel, &path, &source, file.size}, algorithms_, true));
    if (!read.unreadable.ok()) {
      checker_->Refuse(file.rel, "payload.unreadable", read.unreadable.message());
      return Status::OK();
    }
    checker_->PayloadFile(file.rel, read.file.size,
                          algorithms_.any() ? &read.file.digests : nullptr);
    return Status::OK();
  }

  const std::string& root_;
  BagChecker* checker_;
  BagSink* sink_;
  Report* report_;
  AlgorithmSet algorithms_;  // the payload's, set when the payload walk starts
};

class ArchiveWalk {
 public:
  ArchiveWalk(ArchiveReader* reader, BagChecker* checker, BagSink* sink, Report* report)
      : reader_(reader), checker_(checker), sink_(sink), report_(report) {}

  Status Run(ArchiveReader* ahead) {
    if (ahead != nullptr && ahead->SeeksPastData() && checker_->WantsHashes()) ReadTagsAhead(ahead);
    bool stopped = false;  // a member could not be read: the rest is not read
    for (TagAhead& tag : tags_ahead_) {
      ByteSource held = MemorySource(&tag.bytes);
      Status s = Member(tag.entry, &held);
      if (!sink_failure_.ok()) return sink_failure_;
      if (sink_->IsSinkError(s)) return s;
      if (!s.ok()) {
        report_->Error(tag.entry.path, "archive.damaged", s.message());
        stopped = true;
        break;
      }
      if (checker_->oversized_tag()) return Status::OK();
    }
    size_t next_ahead = 0;  // tag members the walk below skips, in order
    ArchiveEntry entry;
    while (!stopped) {
      Result<bool> next = reader_->Next(&entry);
      if (!next.ok()) {
        report_->Error("", "archive.damaged", next.status().message());
        break;
      }
      if (!*next) {
        if (next_ahead < tags_ahead_.size()) ArchiveChanged(tags_ahead_[next_ahead].entry.path);
        break;
      }
      if (!tags_ahead_.empty() && IsTagFileMember(entry, &scratch_root_)) {
        if (next_ahead < tags_ahead_.size() && tags_ahead_[next_ahead].entry.path == entry.path &&
            tags_ahead_[next_ahead].entry.size == entry.size) {
          ++next_ahead;
          continue;
        }
        ArchiveChanged(entry.path);
        break;
      }
      Status s = Member(entry);
      if (!sink_failure_.ok()) return sink_failure_;
      if (sink_->IsSinkError(s)) return s;
      if (!s.ok()) {
        report_->Error(entry.path, "archive.damaged", s.message());
        break;
      }
      // Refused whatever follows: a hostile archive is not read on to its end.
      if (checker_->oversized_tag()) return Status::OK();
    }
    if (!bagit_seen_) {
      checker_->BagitTxtMissing();
      for (const auto& [path, bytes] : held_tags_) {
        CAIRN_RETURN_IF_ERROR(checker_->TagFile(path, MemorySource(&bytes)));
      }
    }
    std::vector<std::pair<std::string, std::string>> renamed;
    CAIRN_RETURN_IF_ERROR(sink_->ForEachHeldPayload(
        [&](const std::string& path, uint64_t size, const Digests& digests) {
          std::string name = checker_->ArchiveMemberName(path);
          checker_->PayloadFile(name, size, &digests);
          if (name != path) renamed.emplace_back(path, std::move(name));
        }));
    for (const auto& [from, to] : renamed) CAIRN_RETURN_IF_ERROR(sink_->RenamePayload(from, to));
    checker_->Finish(data_present_);
    return Status::OK();
  }

 private:
  // A tag file read ahead: its entry in the archive and its bytes.
  struct TagAhead {
    ArchiveEntry entry;
    std::string bytes;
  };

  // True for a regular file member inside the bag and outside data/. `root` sees every
  // member in order (it decides where the bag is); its refusals go to no report.
  static bool IsTagFileMember(const ArchiveEntry& entry, ArchiveBagRoot* root) {
    Report ignored;
    std::optional<std::string> rel = root->Relative(entry, &ignored);
    return rel && !rel->empty() && entry.type == EntryType::kFile && !IsPayloadPath(*rel);
  }

  // Reads the tag files of `ahead` into tags_ahead_ when one comes after a payload file;
  // leaves tags_ahead_ empty (the walk then reads in archive order, as for a stream) when none
  // does, when they hold more than kMaxHeldTagBytes, or when `ahead` cannot be read to its end
  // (the main walk reports the damage).
  void ReadTagsAhead(ArchiveReader* ahead) {
    ArchiveBagRoot root;
    std::vector<TagAhead> tags;
    bool payload_seen = false;
    bool out_of_order = false;
    uint64_t held = 0;
    ArchiveEntry entry;
    for (;;) {
      Result<bool> next = ahead->Next(&entry);
      if (!next.ok()) return;
      if (!*next) break;
      if (!IsTagFileMember(entry, &root)) {
        if (entry.type == EntryType::kFile) payload_seen = true;
        continue;
      }
      out_of_order = out_of_order || payload_seen;
      if (entry.size > kMaxHeldTagBytes - held) return;
      TagAhead tag{entry, {}};
      Status read = ahead->ReadData(
          [&](std::span<const std::byte> chunk) {
            tag.bytes.append(reinterpret_cast<const char*>(chunk.data()), chunk.size());
            return Status::OK();
          },
          kMaxHeldTagBytes - held);
      if (!read.ok()) return;
      held += tag.bytes.size();
      tags.push_back(std::move(tag));
    }
    if (!out_of_order) return;
    tags_ahead_ = std::move(tags);
    root_ = root;  // decided by the archive's first member, as the main walk would
  }

  void ArchiveChanged(const std::string& member) {
    report_->Error(member, "archive.changed",
                   "the archive changed while it was read: its tag files are not the ones read "
                   "ahead of its payload; deposit or validate it again once it is complete");
  }

  // A non-OK Status: the member could not be read (or the sink failed). `held`: the bytes of a
  // tag file read ahead, instead of the reader's.
  Status Member(const ArchiveEntry& entry, const ByteSource* held = nullptr) {
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
        if (!IsPayloadPath(*rel)) checker_->TagDirectory(*rel);
        return Status::OK();
      case EntryType::kFile:
        break;
    }
    // Never read past the declared size: the guard against an inflating member.
    uint64_t limit = entry.size > 0 ? entry.size : ~uint64_t{0};
    ByteSource member = [this, limit](const ChunkSink& sink) {
      return reader_->ReadData(sink, limit);
    };
    if (held != nullptr) member = *held;
    if (IsPayloadPath(*rel)) {
      data_present_ = true;
      return PayloadMember(checker_->ArchiveMemberName(*rel), entry.size, member);
    }
    if (*rel == "bagit.txt") {
      bagit_seen_ = true;
      CAIRN_ASSIGN_OR_RETURN(ByteSource source, sink_->TagFile(*rel, member));
      CAIRN_RETURN_IF_ERROR(checker_->TagFile(*rel, source));
      for (const auto& [path, bytes] : held_tags_) {
        CAIRN_RETURN_IF_ERROR(checker_->TagFile(path, MemorySource(&bytes)));
      }
      held_tags_.clear();
      return Status::OK();
    }
    std::optional<Algorithm> algorithm;
    if (ClassifyTagFile(*rel, &algorithm) == TagKind::kManifest && payload_checked_) {
      report_->Error(*rel, "archive.manifest-after-payload",
                     "this payload manifest comes after payload files that were already "
                     "checked; write tag files before data/ in the archive");
    }
    CAIRN_ASSIGN_OR_RETURN(ByteSource source, sink_->TagFile(*rel, member));
    if (bagit_seen_) return checker_->TagFile(*rel, source);
    // Before bagit.txt the encoding is unknown: keep the bytes, bounded.
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

  Status PayloadMember(const std::string& rel, uint64_t declared, const ByteSource& member) {
    if (!checker_->WantsHashes()) {
      uint64_t size = declared;
      if (declared == 0) {  // size not in the header (some zips): count the bytes
        CAIRN_RETURN_IF_ERROR(member([&](std::span<const std::byte> chunk) {
          size += chunk.size();
          return Status::OK();
        }));
      }
      checker_->PayloadFile(rel, size, nullptr);
      payload_checked_ = true;
      return Status::OK();
    }
    AlgorithmSet algorithms = checker_->PayloadAlgorithms();
    bool manifests_known = bagit_seen_ && algorithms.any();
    if (!manifests_known) algorithms = AlgorithmSet().set();
    Result<BagSink::PayloadRead> read = sink_->PayloadFile(
        PayloadEntry{rel, nullptr, &member, declared}, algorithms, manifests_known);
    if (!read.ok()) {
      sink_failure_ = read.status();
      return sink_failure_;
    }
    CAIRN_RETURN_IF_ERROR(read->unreadable);
    if (read->deferred) {  // checked at the end, with the held ones
      payload_checked_ = payload_checked_ || manifests_known;
      return Status::OK();
    }
    if (!manifests_known) return sink_->HoldPayload(rel, read->file.size, read->file.digests);
    checker_->PayloadFile(rel, read->file.size, &read->file.digests);
    payload_checked_ = true;
    return Status::OK();
  }

  ArchiveReader* reader_;
  BagChecker* checker_;
  BagSink* sink_;
  Report* report_;
  ArchiveBagRoot root_;  // where the bag is inside the archive
  bool bagit_seen_ = false;
  bool data_present_ = false;
  bool payload_checked_ = false;  // a payload file was checked against the manifests
  Status sink_failure_;           // the sink failed: the walk stops and returns it
  size_t held_bytes_ = 0;
  std::deque<std::pair<std::string, std::string>> held_tags_;
  std::vector<TagAhead> tags_ahead_;  // tag files read ahead, in archive order
  ArchiveBagRoot scratch_root_;       // where the bag is, for skipping them
};

}  // namespace

Status BagWalker::WalkFolder(const std::string& root, unsigned threads) {
  return FolderWalk(root, checker_, sink_, report_).Run(threads);
}

Status BagWalker::WalkArchive(ArchiveReader* reader, ArchiveReader* ahead) {
  return ArchiveWalk(reader, checker_, sink_, report_).Run(ahead);
}

}  // namespace cairn::bagit
