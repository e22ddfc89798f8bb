// Checking a restore's catalog rows against version.pb and manifest-sha256.txt
// as they stream past (see restore_check.h).
#include "repo/restore/restore_check.h"

#include <algorithm>
#include <vector>

#include "bagit/tag_files.h"
#include "proto/version.pb.h"
#include "repo/site_layout.h"

namespace cairn::repo::restore_internal {
namespace {

constexpr size_t kNoItem = static_cast<size_t>(-1);
// Largest single field of version.pb held while it streams in (a file entry
// is a path and a digest: far below this). A longer one is a broken record.
constexpr uint64_t kMaxRecordField = 16 << 20;

// Index of `path` in `payload` (sorted by path), or kNoItem.
size_t FindPayloadItem(std::span<const RestoreItem> payload, std::string_view path) {
  auto it =
      std::lower_bound(payload.begin(), payload.end(), path,
                       [](const RestoreItem& item, std::string_view p) { return item.path < p; });
  if (it == payload.end() || it->path != path) return kNoItem;
  return static_cast<size_t>(it - payload.begin());
}

std::string DigestAndSize(std::string_view sha256, uint64_t size) {
  return "sha256 " + std::string(sha256) + " (" + std::to_string(size) + " bytes)";
}

// The first disagreement found, in full, and how many followed it.
class Disagreements {
 public:
  void Add(std::string message) {
    if (count_++ == 0) first_ = std::move(message);
  }
  // `n` more disagreements, counted but not described.
  void AddMore(uint64_t n) { count_ += n; }
  void Clear() {
    first_.clear();
    count_ = 0;
  }
  Status ToStatus() const {
    if (count_ == 0) return Status::OK();
    std::string msg = first_;
    if (count_ > 1) msg += " (and " + std::to_string(count_ - 1) + " more disagreements)";
    return Status::Corruption(
        msg +
        ": the catalog disagrees with the bag as stored on the sites (rule "
        "restore.catalog-disagrees); nothing was restored and no copy was blamed. `cairn audit "
        "run` reports the same; `cairn catalog rebuild --from SITE` rebuilds the catalog from "
        "the sites");
  }

 private:
  std::string first_;
  uint64_t count_ = 0;
};

// Which payload items a checked file listed.
class Coverage {
 public:
  explicit Coverage(size_t n) : seen_(n, false) {}
  // False if `i` was marked before.
  bool Mark(size_t i) {
    if (seen_[i]) return false;
    seen_[i] = true;
    ++count_;
    return true;
  }
  void Clear() {
    std::fill(seen_.begin(), seen_.end(), false);
    count_ = 0;
  }
  // Reports the items never marked (the first in full, then a count).
  void ReportUnmarked(std::span<const RestoreItem> payload, std::string_view where,
                      Disagreements* d) const {
    if (count_ == seen_.size()) return;
    size_t first = 0;
    while (seen_[first]) ++first;
    d->Add(payload[first].path + ": in the catalog but not in " + std::string(where));
    d->AddMore(seen_.size() - count_ - 1);
  }

 private:
  std::vector<bool> seen_;
  size_t count_ = 0;
};

// Reads a base-128 varint at bytes[*pos]. 1: read; 0: more bytes needed; -1:
// longer than 10 bytes (not protobuf).
int ReadVarint(std::string_view bytes, size_t* pos, uint64_t* value) {
  uint64_t v = 0;
  for (size_t i = 0; i < 10; ++i) {
    if (*pos + i >= bytes.size()) return 0;
    uint8_t b = static_cast<uint8_t>(bytes[*pos + i]);
    v |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
    if ((b & 0x80) == 0) {
      *pos += i + 1;
      *value = v;
      return 1;
    }
  }
  return -1;
}

// version.pb, parsed field by field as it streams in: one field held at a time.
class RecordCheckTarget final : public FileTarget {
 public:
  RecordCheckTarget(const VersionInfo& version, std::span<const RestoreItem> payload, bool* checked)
      : version_(version),
        payload_(payload),
        files_(payload.size()),
        tags_seen_(version.tag_files.size(), false),
        folders_seen_(version.empty_folders.size(), false),
        checked_(checked) {}

  Status Append(std::span<const std::byte> data) override {
    if (broken_) return Status::OK();
    pending_.append(reinterpret_cast<const char*>(data.data()), data.size());
    Parse();
    return Status::OK();
  }

  Status Reset() override {
    pending_.clear();
    broken_ = false;
    partner_.clear();
    object_.clear();
    version_number_ = 0;
    files_.Clear();
    std::fill(tags_seen_.begin(), tags_seen_.end(), false);
    std::fill(folders_seen_.begin(), folders_seen_.end(), false);
    problems_.Clear();
    return Status::OK();
  }

  Status Commit() override {
    if (broken_ || !pending_.empty()) {
      return Status::Corruption(
          "version.pb: not a readable version record, though its bytes match the catalog's "
          "sha256 of it (rule restore.record-unreadable); nothing was restored");
    }
    const std::string what =
        version_.partner + "/" + version_.object + "@v" + std::to_string(version_.version);
    std::string says = partner_ + "/" + object_ + "@v" + std::to_string(version_number_);
    if (says != what) problems_.Add("version.pb: it is the record of " + says + ", not of " + what);
    files_.ReportUnmarked(payload_, "version.pb", &problems_);
    for (size_t i = 0; i < version_.tag_files.size(); ++i) {
      const TagFileEntry& t = version_.tag_files[i];
      if (!tags_seen_[i] && t.name != layout::kVersionRecordName) {
        problems_.Add("tag file " + t.name + ": in the catalog but not in version.pb");
      }
    }
    for (size_t i = 0; i < folders_seen_.size(); ++i) {
      if (!folders_seen_[i]) {
        problems_.Add("empty folder " + version_.empty_folders[i] +
                      ": in the catalog but not in version.pb");
      }
    }
    CAIRN_RETURN_IF_ERROR(problems_.ToStatus());
    *checked_ = true;
    return Status::OK();
  }

 private:
  // Consumes every whole top-level field in pending_.
  void Parse() {
    std::string_view bytes = pending_;
    size_t done = 0;
    while (done < bytes.size() && ParseField(bytes, &done)) {
    }
    if (broken_) {
      pending_.clear();
    } else {
      pending_.erase(0, done);
    }
  }

  // Handles the field at bytes[*pos] and moves *pos past it. False when the
  // field is not all there yet, or when the record is broken (broken_ set).
  bool ParseField(std::string_view bytes, size_t* pos) {
    size_t p = *pos;
    uint64_t key = 0, value = 0;
    int r = ReadVarint(bytes, &p, &key);
    if (r <= 0) {
      broken_ = r < 0;
      return false;
    }
    uint32_t field = static_cast<uint32_t>(key >> 3);
    switch (key & 7) {
      case 0:  // varint
        r = ReadVarint(bytes, &p, &value);
        if (r <= 0) {
          broken_ = r < 0;
          return false;
        }
        if (field == proto::VersionRecord::kVersionFieldNumber) {
          version_number_ = static_cast<uint32_t>(value);
        }
        break;
      case 1:    // fixed64
      case 5: {  // fixed32
        size_t n = (key & 7) == 1 ? 8 : 4;
        if (bytes.size() - p < n) return false;
        p += n;
        break;
      }
      case 2:  // length-delimited
        r = ReadVarint(bytes, &p, &value);
        if (r < 0 || (r > 0 && value > kMaxRecordField)) {
          broken_ = true;
          return false;
        }
        if (r == 0 || bytes.size() - p < value) return false;
        Field(field, bytes.substr(p, value));
        p += value;
        break;
      default:  // groups: never in this message
        broken_ = true;
        return false;
    }
    *pos = p;
    return !broken_;
  }

  void Field(uint32_t field, std::string_view bytes) {
    switch (field) {
      case proto::VersionRecord::kPartnerFieldNumber:
        partner_ = std::string(bytes);
        break;
      case proto::VersionRecord::kObjectFieldNumber:
        object_ = std::string(bytes);
        break;
      case proto::VersionRecord::kFilesFieldNumber:
        if (!file_.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
          broken_ = true;
          return;
        }
        CheckFile(file_);
        break;
      case proto::VersionRecord::kTagFilesFieldNumber:
        if (!tag_.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
          broken_ = true;
          return;
        }
        CheckTag(tag_);
        break;
      case proto::VersionRecord::kEmptyFoldersFieldNumber:
        CheckEmptyFolder(bytes);
        break;
      default:
        break;
    }
  }

  void CheckFile(const proto::VersionFile& f) {
    size_t i = FindPayloadItem(payload_, f.path());
    if (i == kNoItem) {
      problems_.Add(f.path() + ": version.pb lists it, " + DigestAndSize(f.sha256(), f.size()) +
                    ", the catalog does not");
      return;
    }
    if (!files_.Mark(i)) {
      problems_.Add(f.path() + ": listed twice in version.pb");
      return;
    }
    const RestoreItem& item = payload_[i];
    if (item.sha256 != f.sha256() || item.size != f.size()) {
      problems_.Add(f.path() + ": the catalog says " + DigestAndSize(item.sha256, item.size) +
                    ", the version's record version.pb says " +
                    DigestAndSize(f.sha256(), f.size()));
    }
  }

  void CheckTag(const proto::TagFile& t) {
    const std::vector<TagFileEntry>& tags = version_.tag_files;
    auto it = std::find_if(tags.begin(), tags.end(),
                           [&](const TagFileEntry& e) { return e.name == t.name(); });
    if (it == tags.end() || it->name == layout::kVersionRecordName) {
      problems_.Add("tag file " + t.name() + ": version.pb lists it, the catalog does not");
      return;
    }
    tags_seen_[static_cast<size_t>(it - tags.begin())] = true;
    if (it->sha256 != t.sha256() || it->size != t.size()) {
      problems_.Add("tag file " + t.name() + ": the catalog says " +
                    DigestAndSize(it->sha256, it->size) + ", version.pb says " +
                    DigestAndSize(t.sha256(), t.size()));
    }
  }

  void CheckEmptyFolder(std::string_view path) {
    const std::vector<std::string>& folders = version_.empty_folders;  // sorted
    auto it = std::lower_bound(folders.begin(), folders.end(), path);
    if (it == folders.end() || *it != path) {
      problems_.Add("empty folder " + std::string(path) +
                    ": version.pb lists it, the catalog "
                    "does not");
      return;
    }
    size_t i = static_cast<size_t>(it - folders.begin());
    if (folders_seen_[i]) problems_.Add("empty folder " + *it + ": listed twice in version.pb");
    folders_seen_[i] = true;
  }

  const VersionInfo& version_;
  std::span<const RestoreItem> payload_;
  Coverage files_;
  std::vector<bool> tags_seen_;
  std::vector<bool> folders_seen_;  // of version_.empty_folders
  bool* checked_;
  std::string pending_;  // bytes of the field being received
  bool broken_ = false;
  std::string partner_;
  std::string object_;
  uint32_t version_number_ = 0;
  proto::VersionFile file_;  // reused for every entry
  proto::TagFile tag_;
  Disagreements problems_;
};

// manifest-sha256.txt, decoded and cut into lines as it streams to `inner`
// (null: checked only).
class ManifestCheckTarget final : public FileTarget {
 public:
  ManifestCheckTarget(std::unique_ptr<FileTarget> inner, std::span<const RestoreItem> payload,
                      std::string encoding, bool* checked)
      : inner_(std::move(inner)),
        payload_(payload),
        encoding_(std::move(encoding)),
        listed_(payload.size()),
        checked_(checked) {
    Start();
  }

  Status Append(std::span<const std::byte> data) override {
    if (inner_) CAIRN_RETURN_IF_ERROR(inner_->Append(data));
    if (stopped_) return Status::OK();
    text_.clear();
    Status s = decoder_->Feed(
        std::string_view(reinterpret_cast<const char*>(data.data()), data.size()), &text_);
    if (s.ok()) s = splitter_->Feed(text_);
    if (!s.ok()) Stop(s);
    return Status::OK();
  }

  Status Reset() override {
    if (inner_) CAIRN_RETURN_IF_ERROR(inner_->Reset());
    listed_.Clear();
    problems_.Clear();
    Start();
    return Status::OK();
  }

  Status Commit() override {
    if (!stopped_) {
      Status s = decoder_->Finish();
      if (s.ok()) s = splitter_->Finish();
      if (!s.ok()) Stop(s);
    }
    listed_.ReportUnmarked(payload_, std::string(kCheckedManifestName), &problems_);
    CAIRN_RETURN_IF_ERROR(problems_.ToStatus());
    *checked_ = true;
    return inner_ ? inner_->Commit() : Status::OK();
  }

 private:
  void Start() {
    stopped_ = false;
    auto decoder = bagit::TagTextDecoder::Create(encoding_);
    if (!decoder.ok()) {
      decoder_.reset();
      Stop(decoder.status());
      return;
    }
    decoder_ = std::move(decoder).value();
    splitter_ = std::make_unique<bagit::LineSplitter>(
        [this](uint64_t no, std::string_view line) { Line(no, line); });
  }

  void Stop(const Status& why) {
    stopped_ = true;
    problems_.Add(std::string(kCheckedManifestName) + ": cannot be read as text in " + encoding_ +
                  ": " + why.message());
  }

  void Line(uint64_t no, std::string_view line) {
    bagit::Report findings;
    std::optional<bagit::ParsedManifestLine> parsed = bagit::ParseManifestLine(
        line, bagit::Algorithm::kSha256, kCheckedManifestName, no, &findings);
    if (!parsed) {
      if (findings.error_count() > 0 && !findings.findings().empty()) {
        problems_.Add(findings.findings().front().ToString());
      }
      return;
    }
    size_t i = FindPayloadItem(payload_, parsed->path);
    if (i == kNoItem) return;  // a name the bag listed but did not hold (see restore_check.h)
    listed_.Mark(i);
    if (parsed->digest != payload_[i].sha256) {
      problems_.Add(parsed->path + ": the catalog says sha256 " + payload_[i].sha256 + ", " +
                    std::string(kCheckedManifestName) + " line " + std::to_string(no) +
                    " says sha256 " + parsed->digest);
    }
  }

  std::unique_ptr<FileTarget> inner_;
  std::span<const RestoreItem> payload_;
  std::string encoding_;
  Coverage listed_;
  bool* checked_;
  std::unique_ptr<bagit::TagTextDecoder> decoder_;
  std::unique_ptr<bagit::LineSplitter> splitter_;
  std::string text_;
  bool stopped_ = false;
  Disagreements problems_;
};

// bagit.txt on its way to `inner`: its declared encoding is kept for the
// manifest, read after it.
class BagitTxtTeeTarget final : public FileTarget {
 public:
  BagitTxtTeeTarget(std::unique_ptr<FileTarget> inner, std::string* encoding)
      : inner_(std::move(inner)), encoding_(encoding) {}
  Status Append(std::span<const std::byte> data) override {
    if (inner_) CAIRN_RETURN_IF_ERROR(inner_->Append(data));
    if (bytes_.size() + data.size() <= kMaxBytes) {
      bytes_.append(reinterpret_cast<const char*>(data.data()), data.size());
    }
    return Status::OK();
  }
  Status Reset() override {
    bytes_.clear();
    return inner_ ? inner_->Reset() : Status::OK();
  }
  Status Commit() override {
    bagit::Report ignored;  // deposit validated it; only the encoding is wanted
    *encoding_ = bagit::ParseBagitTxt(bytes_, &ignored).encoding;
    return inner_ ? inner_->Commit() : Status::OK();
  }

 private:
  static constexpr size_t kMaxBytes = 64 * 1024;
  std::unique_ptr<FileTarget> inner_;
  std::string* encoding_;
  std::string bytes_;
};

// Bytes read only to be verified (a check-only item with no parser).
class DiscardTarget final : public FileTarget {
 public:
  Status Append(std::span<const std::byte>) override { return Status::OK(); }
  Status Reset() override { return Status::OK(); }
  Status Commit() override { return Status::OK(); }
};

}  // namespace

CheckingOutput::CheckingOutput(RestoreOutput& out, const VersionInfo& version,
                               std::span<const RestoreItem> payload,
                               std::set<std::string> check_only)
    : out_(out), version_(version), payload_(payload), check_only_(std::move(check_only)) {
  check_only_.insert(std::string(layout::kVersionRecordName));
}

Result<std::unique_ptr<FileTarget>> CheckingOutput::NewFile(const std::string& path,
                                                            uint64_t size) {
  if (path == layout::kVersionRecordName) {
    return std::unique_ptr<FileTarget>(new RecordCheckTarget(version_, payload_, &record_checked_));
  }
  std::unique_ptr<FileTarget> inner;
  if (!check_only_.count(path)) {
    CAIRN_ASSIGN_OR_RETURN(inner, out_.NewFile(path, size));
  }
  if (path == "bagit.txt") {
    return std::unique_ptr<FileTarget>(new BagitTxtTeeTarget(std::move(inner), &encoding_));
  }
  if (path == kCheckedManifestName) {
    return std::unique_ptr<FileTarget>(
        new ManifestCheckTarget(std::move(inner), payload_, encoding_, &manifest_checked_));
  }
  if (!inner) return std::unique_ptr<FileTarget>(new DiscardTarget());
  return inner;
}

Status CheckingOutput::Finish() {
  if (!record_checked_ || !manifest_checked_) {
    return Status::Corruption(std::string("restore: ") +
                              (record_checked_ ? std::string(kCheckedManifestName) : "version.pb") +
                              " was never read, so the payload files were not checked against it");
  }
  // Listed by version.pb as by the catalog (checked with the record), made after every file.
  for (const std::string& folder : version_.empty_folders) {
    CAIRN_RETURN_IF_ERROR(out_.NewFolder(folder));
  }
  return out_.Finish();
}

}  // namespace cairn::repo::restore_internal
