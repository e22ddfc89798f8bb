// BagChecker, part 1: reading tag files and payload files as they come.
// The cross-file rules run in Finish() (bag_checker_finish.cc).
#include "bagit/bag_checker.h"

#include <span>

#include "bagit/paths.h"

namespace cairn::bagit {

ByteSource MemorySource(const std::string* bytes) {
  return [bytes](const ChunkSink& sink) {
    return sink(std::as_bytes(std::span<const char>(bytes->data(), bytes->size())));
  };
}

BagChecker::BagChecker(const ValidateOptions& options, Report* report, BagContents* contents)
    : options_(options), report_(report), contents_(contents) {
  report_->mode = options.mode;
}

void BagChecker::BagitTxtMissing() {
  report_->Error("bagit.txt", "bag.bagit-txt-missing",
                 "bagit.txt is missing: this is not a bag (BagIt 1.0 rules applied)");
  bagit_seen_ = true;
}

Status BagChecker::ReadTagBytes(std::string_view path, const ByteSource& source, size_t max_bytes,
                                std::string* bytes, TagFileRecord* record) {
  MultiHasher hasher(tag_algorithms_);
  bool too_large = false;
  Status s = source([&](std::span<const std::byte> chunk) {
    hasher.Update(chunk);
    if (bytes == nullptr) return Status::OK();
    if (bytes->size() + chunk.size() > max_bytes) {
      // Stop reading: the file is refused whatever follows, and a hostile one
      // (a bag-info.txt inflating to gigabytes) must not be read to its end.
      too_large = true;
      return Status::Aborted("tag file over its size limit");
    }
    bytes->append(reinterpret_cast<const char*>(chunk.data()), chunk.size());
    return Status::OK();
  });
  record->size = hasher.bytes();
  record->digests = hasher.Finish();
  if (too_large) {
    report_->Error(path, "tag.too-large",
                   "larger than " + std::to_string(max_bytes) + " bytes; not read further");
    bytes->clear();
    // Read only in part: its digests say nothing, so the tag manifests are not
    // compared with them (an empty digest is skipped).
    record->digests = Digests();
    oversized_tag_ = true;
    if (s.code() == Code::kAborted) s = Status::OK();
  }
  return s;
}

Status BagChecker::ReadTagLines(std::string_view path, const ByteSource& source,
                                TagFileRecord* record,
                                const std::function<void(uint64_t, std::string_view)>& on_line) {
  MultiHasher hasher(tag_algorithms_);
  auto decoder = TagTextDecoder::Create(contents_->declaration.encoding);
  if (!decoder.ok()) {
    report_->Error(path, "tag.encoding", decoder.status().message());
  }
  LineSplitter splitter(on_line);
  bool stopped = !decoder.ok();
  std::string text;
  Status s = source([&](std::span<const std::byte> chunk) {
    hasher.Update(chunk);
    if (stopped) return Status::OK();
    text.clear();
    Status d = (*decoder)->Feed(
        std::string_view(reinterpret_cast<const char*>(chunk.data()), chunk.size()), &text);
    if (!d.ok()) {
      report_->Error(path, "tag.encoding",
                     d.message() + " (" + contents_->declaration.encoding + ")",
                     splitter.lines() + 1);
      stopped = true;
      return Status::OK();
    }
    Status l = splitter.Feed(text);
    if (!l.ok()) {
      report_->Error(path, "tag.line-too-long", l.message(), splitter.lines() + 1);
      stopped = true;
    }
    return Status::OK();
  });
  if (!stopped) {
    Status d = (*decoder)->Finish();
    if (!d.ok()) report_->Error(path, "tag.encoding", d.message());
    (void)splitter.Finish();
    if ((*decoder)->bom_seen()) {
      report_->Warning(path, "tag.bom", "starts with a byte-order mark");
    }
  }
  record->size = hasher.bytes();
  record->digests = hasher.Finish();
  return s;
}

Status BagChecker::TagFile(std::string_view path, const ByteSource& source) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    NoteFoldersHolding(path);  // a tag folder holding it is not empty
  }
  if (contents_->FindTagFile(path) != nullptr) {
    // An archive can carry a member twice: which one is the bag's?
    report_->Error(path, "tag.duplicate-member", "the same tag file appears twice");
    return Status::OK();
  }
  TagFileRecord record;
  record.path = std::string(path);
  std::optional<Algorithm> algorithm;
  TagKind kind = ClassifyTagFile(path, &algorithm);
  const BagitVersion& ver = contents_->declaration.version;
  Status s;
  switch (kind) {
    case TagKind::kBagitTxt: {
      std::string bytes;
      s = ReadTagBytes(path, source, 64 * 1024, &bytes, &record);
      contents_->declaration = ParseBagitTxt(bytes, report_);
      report_->version =
          contents_->declaration.version_known ? contents_->declaration.version.ToString() : "";
      bagit_seen_ = true;
      break;
    }
    case TagKind::kBagInfo: {
      std::string bytes;
      s = ReadTagBytes(path, source, kMaxSmallTagFile, &bytes, &record);
      auto decoder = TagTextDecoder::Create(contents_->declaration.encoding);
      std::string text;
      Status d = decoder.ok() ? (*decoder)->Feed(bytes, &text) : decoder.status();
      if (d.ok()) d = (*decoder)->Finish();
      if (!d.ok()) {
        report_->Error(path, "tag.encoding", d.message());
      } else {
        contents_->bag_info = ParseBagInfo(text, ver, path, report_);
      }
      break;
    }
    case TagKind::kManifest: {
      if (!algorithm) {
        report_->Warning(path, "manifest.unknown-algorithm",
                         "unknown digest algorithm; this manifest was not checked");
        s = ReadTagBytes(path, source, 0, nullptr, &record);
        break;
      }
      Status begin = contents_->manifests->BeginManifest(*algorithm, std::string(path));
      if (!begin.ok()) {
        report_->Error(path, "manifest.duplicate-algorithm", begin.message());
        s = ReadTagBytes(path, source, 0, nullptr, &record);
        break;
      }
      s = ReadTagLines(path, source, &record, [&](uint64_t no, std::string_view line) {
        std::optional<ParsedManifestLine> parsed =
            ParseManifestLine(line, *algorithm, path, no, report_);
        if (!parsed) return;
        if (!IsPayloadPath(parsed->path) || parsed->path == "data") {
          report_->Error(path, "manifest.path-outside-data",
                         "payload manifests list only files under data/, not '" +
                             Printable(parsed->path) + "'",
                         no);
          return;
        }
        contents_->manifests->Add(*parsed, no, ver, report_);
      });
      contents_->manifests->EndManifest(ver, report_);
      break;
    }
    case TagKind::kTagManifest: {
      int index = static_cast<int>(tag_manifests_.size());
      if (algorithm) tag_manifests_.push_back(TagManifest{std::string(path), *algorithm});
      if (!algorithm) {
        report_->Warning(path, "tagmanifest.unknown-algorithm",
                         "unknown digest algorithm; this tag manifest was not checked");
      }
      s = ReadTagLines(path, source, &record, [&](uint64_t no, std::string_view line) {
        if (!algorithm) return;
        std::optional<ParsedManifestLine> parsed =
            ParseManifestLine(line, *algorithm, path, no, report_);
        if (!parsed) return;
        if (IsPayloadPath(parsed->path)) {
          report_->Error(
              path, "tagmanifest.lists-payload",
              "tag manifests list tag files, not payload '" + Printable(parsed->path) + "'", no);
          return;
        }
        std::optional<Algorithm> listed_alg;
        if (ClassifyTagFile(parsed->path, &listed_alg) == TagKind::kTagManifest) {
          report_->Error(
              path, "tagmanifest.lists-tagmanifest",
              "a tag manifest must not list a tag manifest ('" + Printable(parsed->path) + "')",
              no);
          return;
        }
        tag_manifest_lines_.push_back(
            TagManifestLine{index, std::move(parsed->path), std::move(parsed->digest), no});
      });
      break;
    }
    case TagKind::kFetch: {
      s = ReadTagLines(path, source, &record, [&](uint64_t no, std::string_view line) {
        if (std::optional<FetchEntry> entry = ParseFetchLine(line, path, no, report_)) {
          contents_->fetch.push_back(std::move(*entry));
        }
      });
      break;
    }
    case TagKind::kOther: {
      s = ReadTagBytes(path, source, 0, nullptr, &record);  // hashed only
      break;
    }
  }
  contents_->tag_files.push_back(std::move(record));
  return s;
}

AlgorithmSet BagChecker::PayloadAlgorithms() const {
  if (options_.mode != ValidationMode::kFull) return AlgorithmSet();
  return contents_->manifests->algorithms();
}

void BagChecker::PayloadFile(std::string_view path, uint64_t size, const Digests* digests) {
  std::lock_guard<std::mutex> lock(mu_);
  ++payload_files_;
  payload_bytes_ += size;
  NoteFoldersHolding(path);
  if (IsOsJunk(path)) {
    report_->Warning(path, "payload.os-junk",
                     "operating-system junk file; it is preserved like any other file");
  }
  if (options_.mode == ValidationMode::kFast) return;
  ManifestIndex& index = *contents_->manifests;
  std::optional<ManifestIndex::EntryId> id = index.Find(path);
  if (!id) {
    if (index.manifest_count() > 0) {
      report_->Error(path, "payload.not-in-manifest", "payload file listed in no payload manifest");
    }
    return;
  }
  if (index.seen(*id)) {
    report_->Error(path, "payload.duplicate-member", "the same payload path appears twice");
    return;
  }
  index.MarkSeen(*id);
  if (digests == nullptr) return;
  for (int m : index.Mismatches(*id, *digests)) {
    Algorithm a = index.manifest_algorithm(m);
    report_->Error(path, "payload.digest-mismatch",
                   std::string(AlgorithmName(a)) + " is " + (*digests)[a] + " but " +
                       index.manifest_file(m) + " says " + index.HexDigest(*id, a));
  }
}

std::string BagChecker::ArchiveMemberName(std::string_view member) {
  std::lock_guard<std::mutex> lock(mu_);
  ManifestIndex& index = *contents_->manifests;
  if (index.manifest_count() == 0 || index.Find(member) || IsAscii(member)) {
    return std::string(member);
  }
  if (!spellings_) {
    spellings_.emplace();
    index.ForEach(
        [&](const ManifestIndex::EntryView& entry) { spellings_->Add(entry.path, entry.id); });
  }
  std::optional<ManifestIndex::EntryId> only = spellings_->Unique(
      member, [&](ManifestIndex::EntryId id) { return index.seen(id) || claimed_.contains(id); });
  if (!only) return std::string(member);
  claimed_.insert(*only);
  if (renamed_++ == 0) first_renamed_ = index.path(*only);
  return index.path(*only);
}

void BagChecker::NoteFoldersHolding(std::string_view path) {
  if (!folders_tracked_) return;
  // Upwards until a folder noted before (its own parents were noted with it).
  for (size_t slash = path.rfind('/'); slash != std::string_view::npos && slash > 0;
       slash = path.rfind('/', slash - 1)) {
    std::string_view folder = path.substr(0, slash);
    if (folder == "data" || folders_holding_.contains(folder)) return;
    if (folders_holding_.size() >= kMaxTrackedFolders) return GiveUpFolders();
    folders_holding_.emplace(folder);
  }
}

void BagChecker::GiveUpFolders() {
  folders_tracked_ = false;
  payload_folders_.clear();
  folders_holding_.clear();
}

void BagChecker::TagDirectory(std::string_view path) {
  std::lock_guard<std::mutex> lock(mu_);
  if (folders_tracked_ && payload_folders_.size() >= kMaxTrackedFolders) GiveUpFolders();
  if (folders_tracked_) payload_folders_.emplace(path);
}

void BagChecker::PayloadDirectory(std::string_view path) {
  std::lock_guard<std::mutex> lock(mu_);
  if (folders_tracked_ && payload_folders_.size() >= kMaxTrackedFolders) GiveUpFolders();
  if (folders_tracked_) payload_folders_.emplace(path);
  std::optional<ManifestIndex::EntryId> id = contents_->manifests->Find(path);
  if (!id) return;
  contents_->manifests->MarkSeen(*id);
  report_->Error(path, "manifest.lists-directory",
                 "a payload manifest lists this directory; manifests list only files");
}

void BagChecker::Refuse(std::string_view path, std::string_view rule, std::string message) {
  std::lock_guard<std::mutex> lock(mu_);
  std::optional<ManifestIndex::EntryId> id = contents_->manifests->Find(path);
  if (id) contents_->manifests->MarkSeen(*id);  // reported here, not again as missing
  report_->Error(path, rule, std::move(message));
}

const TagFileRecord* BagContents::FindTagFile(std::string_view path) const {
  for (const TagFileRecord& r : tag_files) {
    if (r.path == path) return &r;
  }
  return nullptr;
}

}  // namespace cairn::bagit
