#include "repo/site/site.h"

#include <sys/resource.h>

#include <algorithm>
#include <ctime>
#include <map>
#include <set>

#include "bagit/time_text.h"
#include "proto/version.pb.h"
#include "repo/run_pool.h"
#include "repo/storage/sha256_stream.h"

namespace cairn::repo {
namespace {

Status CheckBlobName(std::string_view sha256_hex) {
  if (layout::IsSha256Hex(sha256_hex)) return Status::OK();
  return Status::InvalidArgument("blob name '" + std::string(sha256_hex) +
                                 "' is not 64 lower-case hex digits");
}

Status CheckBagIds(std::string_view partner, std::string_view object, uint32_t version) {
  CAIRN_RETURN_IF_ERROR(layout::ValidatePartnerId(partner));
  CAIRN_RETURN_IF_ERROR(layout::ValidateObjectId(object));
  if (version == 0) return Status::InvalidArgument("version numbers start at 1");
  return Status::OK();
}

Status CheckTombstoneName(std::string_view name) {
  if (name == layout::kTombstoneName || name == layout::kPurgeTombstoneName) return Status::OK();
  return Status::InvalidArgument("'" + std::string(name) + "' is not a tombstone name");
}

// True if the backend holds any object other than README.txt (a leftover of
// an Init that stopped before writing the marker).
Result<bool> HoldsForeignObjects(StorageBackend& backend) {
  bool found = false;
  Status status = backend.List("", [&found](const ObjectInfo& info) {
    if (info.key == layout::kReadmeKey) return Status::OK();
    found = true;
    return Status::Aborted("stop listing");
  });
  if (!status.ok() && !found) return status;
  return found;
}

}  // namespace

Result<std::unique_ptr<Site>> Site::Init(std::unique_ptr<StorageBackend> backend,
                                         std::string_view site_id, std::string_view created,
                                         const Owner& owner) {
  CAIRN_RETURN_IF_ERROR(layout::ValidateSiteId(site_id));
  const std::string url = backend->DisplayUrl();
  CAIRN_RETURN_IF_ERROR(backend->CreateRoot().WithContext("create site " + url));
  auto existing = backend->ReadAll(layout::kSiteMarkerKey);
  if (existing.ok()) {
    CAIRN_ASSIGN_OR_RETURN(layout::SiteMarker marker,
                           layout::ParseSiteMarker(*existing, url + "/CAIRN-SITE"));
    if (!marker.repository_id.empty() && !owner.repository_id.empty() &&
        marker.repository_id != owner.repository_id && !owner.adopt) {
      return Status::AlreadyExists(
          "site " + url + " belongs to another Cairn repository (its CAIRN-SITE names repository " +
          marker.repository_id + " and site '" + marker.site_id + "'; this repository is " +
          owner.repository_id +
          "): two repositories must never share a site. If that repository is gone for good, "
          "adopt the site deliberately with `cairn site add " +
          marker.site_id + " URL --adopt`");
    }
    if (marker.site_id != site_id) {
      return Status::AlreadyExists("site " + url + " is already Cairn site '" + marker.site_id +
                                   "', not '" + std::string(site_id) + "'");
    }
    if (backend->Stat(layout::kReadmeKey).status().IsNotFound()) {
      CAIRN_RETURN_IF_ERROR(
          backend->Put(layout::kReadmeKey, layout::SiteReadmeText(marker.layout_version)));
    }
    return std::unique_ptr<Site>(new Site(std::move(backend), std::move(marker)));
  }
  if (!existing.status().IsNotFound()) return existing.status();
  CAIRN_ASSIGN_OR_RETURN(bool foreign, HoldsForeignObjects(*backend));
  if (foreign) {
    return Status::InvalidArgument("site " + url +
                                   " is not empty and has no CAIRN-SITE marker: refusing to "
                                   "make it a Cairn site");
  }
  if (owner.layout_version < layout::kOldestLayoutVersion ||
      owner.layout_version > layout::kLayoutVersion) {
    return Status::InvalidArgument("site layout version " + std::to_string(owner.layout_version) +
                                   " is unknown");
  }
  layout::SiteMarker marker;
  marker.layout_version = owner.layout_version;
  marker.site_id = std::string(site_id);
  marker.created = created.empty() ? NowUtc() : std::string(created);
  CAIRN_RETURN_IF_ERROR(
      backend->Put(layout::kReadmeKey, layout::SiteReadmeText(marker.layout_version)));
  PutOptions once;
  once.if_absent = true;
  marker.repository_id = owner.repository_id;
  Status written = backend->Put(layout::kSiteMarkerKey, layout::FormatSiteMarker(marker), once);
  if (written.IsAlreadyExists()) {
    return Init(std::move(backend), site_id, created, owner);  // lost a race
  }
  CAIRN_RETURN_IF_ERROR(written);
  return std::unique_ptr<Site>(new Site(std::move(backend), std::move(marker)));
}

Result<std::unique_ptr<Site>> Site::Open(std::unique_ptr<StorageBackend> backend) {
  const std::string url = backend->DisplayUrl();
  auto text = backend->ReadAll(layout::kSiteMarkerKey);
  if (text.status().IsNotFound()) {
    // No marker because there is no bucket at all: said so, in `site check`'s words (its
    // location check is this probe), not as a site that lost its marker.
    if (Status location = backend->Probe(); location.IsNotFound()) {
      return Status::Unavailable("site " + url + ": " + location.message());
    }
    return Status::Unavailable("site " + url + " " + std::string(kNoSiteMarker));
  }
  if (!text.ok()) return text.status().WithContext("open site " + url);
  CAIRN_ASSIGN_OR_RETURN(layout::SiteMarker marker,
                         layout::ParseSiteMarker(*text, url + "/CAIRN-SITE"));
  return std::unique_ptr<Site>(new Site(std::move(backend), std::move(marker)));
}

Status Site::MissingOrDown(Status not_found) {
  auto marker = backend_->Stat(layout::kSiteMarkerKey);
  if (marker.ok()) return not_found;
  if (marker.status().IsNotFound()) {
    return Status::Unavailable(
        "site " + DisplayUrl() +
        ": CAIRN-SITE marker is gone (not mounted?) while reading: " + not_found.message());
  }
  return marker.status();
}

std::string Site::StorageKey(std::string_view key) const {
  if (!key.starts_with(layout::kBlobsPrefix)) return std::string(key);
  std::optional<std::string> digest = layout::ParseAnyBlobKey(key);
  return digest ? BlobKey(*digest) : std::string(key);
}

Status Site::Read(std::string_view key, uint64_t offset, uint64_t length, const ByteSink& sink) {
  Status status = backend_->Read(StorageKey(key), offset, length, sink);
  return status.IsNotFound() ? MissingOrDown(status) : status;
}

Result<ObjectInfo> Site::Stat(std::string_view key) {
  auto info = backend_->Stat(StorageKey(key));
  if (info.status().IsNotFound()) return MissingOrDown(info.status());
  return info;
}

Result<std::string> Site::ReadAll(std::string_view key) {
  auto bytes = backend_->ReadAll(StorageKey(key));
  if (bytes.status().IsNotFound()) return MissingOrDown(bytes.status());
  return bytes;
}

Result<int> Site::OpenForCopy(std::string_view key) {
  auto fd = backend_->OpenForCopy(StorageKey(key));
  if (fd.status().IsNotFound()) return MissingOrDown(fd.status());
  return fd;
}

Status Site::List(std::string_view prefix, const std::function<Status(const ObjectInfo&)>& fn) {
  auto marker = backend_->Stat(layout::kSiteMarkerKey);
  if (!marker.ok()) return MissingOrDown(marker.status());
  return backend_->List(prefix, fn);
}

Status Site::ListTopLevel(const std::function<Status(const ObjectInfo&)>& fn) {
  auto marker = backend_->Stat(layout::kSiteMarkerKey);
  if (!marker.ok()) return MissingOrDown(marker.status());
  return backend_->ListTopLevel(fn);
}

Status Site::ListAfter(std::string_view prefix, std::string_view start_after,
                       const std::function<Status(const ObjectInfo&)>& fn) {
  auto marker = backend_->Stat(layout::kSiteMarkerKey);
  if (!marker.ok()) return MissingOrDown(marker.status());
  return backend_->ListAfter(prefix, start_after, fn);
}

Result<bool> Site::HasBlob(std::string_view sha256_hex) {
  CAIRN_RETURN_IF_ERROR(CheckBlobName(sha256_hex));
  auto info = Stat(BlobKey(sha256_hex));
  if (info.ok()) return true;
  if (info.status().IsNotFound()) return false;
  return info.status();
}

Result<std::unique_ptr<BlobWriter>> Site::NewBlobWriter(std::string_view sha256_hex,
                                                        std::optional<uint64_t> size,
                                                        std::vector<std::string> part_sha256,
                                                        bool caller_hashes) {
  PutOptions options;
  options.if_absent = true;
  options.size_hint = size;
  if (!sha256_hex.empty()) {
    CAIRN_RETURN_IF_ERROR(CheckBlobName(sha256_hex));
    options.expected_sha256 = std::string(sha256_hex);
    options.key_hint = BlobKey(sha256_hex);
    options.part_sha256 = std::move(part_sha256);
    options.caller_hashes_appended = caller_hashes;
  }
  Result<std::unique_ptr<BlobWriter>> writer = backend_->NewWriter(options);
  if (!writer.ok()) return writer.status().WithContext("site " + id());
  return writer;
}

Result<Site::BlobCommitResult> Site::CommitBlob(BlobWriter& writer, std::string_view sha256_hex,
                                                std::optional<uint64_t> size) {
  Status named = CheckBlobName(sha256_hex);
  if (!named.ok()) {
    writer.Abort();
    return named;
  }
  const std::string key = BlobKey(sha256_hex);
  const std::string where = "site " + id() + ": blob " + std::string(sha256_hex);
  BlobCommitResult result;
  // A blob already there is read back before it is counted on: a damaged one
  // is replaced by the writer's bytes, which are known good. A plain backend
  // Stat: a new blob costs no marker round-trip here (a version's bag files
  // check the marker before they are written, and a posix backend refuses
  // every write once its root or marker is gone).
  Result<ObjectInfo> present = backend_->Stat(key);
  if (present.ok()) {
    Result<BlobCommitResult> found = JudgeExistingBlob(sha256_hex, size);
    if (!found.ok() || found->how == BlobCommit::kVerified) {
      writer.Abort();
      return found;
    }
    if (found->how == BlobCommit::kReplaced) {
      // The damaged copy goes only for bytes seen to be the blob's (BlobWriter::CheckAppended:
      // read back on posix, hashed as they were sent on S3): a replacement read from another
      // site whose copy is damaged too (not found yet) would fail its commit and leave nothing
      // here. A writer that cannot tell before its commit (NotSupported) is checked by it.
      Status checked = writer.CheckAppended(sha256_hex);
      if (!checked.ok() && checked.code() != Code::kNotSupported) {
        writer.Abort();
        if (checked.IsCorruption()) {
          return Status::Corruption(where + ": the damaged copy is kept: the bytes to replace it " +
                                    "with are not the blob's either (" + checked.message() + ")");
        }
        return checked.WithContext(where + ": the damaged copy is kept");
      }
      result.replaced = found->replaced;
      Status removed = backend_->Remove(key);
      if (!removed.ok()) {
        writer.Abort();
        return removed.WithContext(where + ": could not remove the damaged copy");
      }
    }
  } else if (!present.status().IsNotFound()) {
    writer.Abort();
    return present.status().WithContext(where);
  }
  Status committed = writer.Commit(key);
  if (committed.ok()) {
    result.how = result.replaced.empty() ? BlobCommit::kCreated : BlobCommit::kReplaced;
    return result;
  }
  writer.Abort();
  if (!committed.IsAlreadyExists()) return committed.WithContext(where);
  // Another writer made the blob meanwhile: verify it like any existing blob.
  Status verified = VerifyBlob(sha256_hex, size);
  if (!verified.ok()) return verified;
  CAIRN_RETURN_IF_ERROR(ExtendBlobRetention(sha256_hex));
  result.how = BlobCommit::kVerified;
  result.replaced.clear();
  return result;
}

Result<Site::BlobCommitResult> Site::JudgeExistingBlob(std::string_view sha256_hex,
                                                       std::optional<uint64_t> size) {
  Status verified = VerifyBlob(sha256_hex, size);
  if (verified.ok()) {
    CAIRN_RETURN_IF_ERROR(ExtendBlobRetention(sha256_hex));
    return BlobCommitResult{BlobCommit::kVerified, ""};
  }
  // Wrong bytes, or bytes this live site cannot read back (a bad sector: I/O
  // error): the writer's bytes are known good, so replacing them loses
  // nothing. A site that went away (Unavailable) is left alone.
  if (verified.IsCorruption() || verified.code() == Code::kIOError) {
    return BlobCommitResult{BlobCommit::kReplaced, verified.message()};
  }
  if (verified.IsNotFound()) return BlobCommitResult{BlobCommit::kCreated, ""};  // gone meanwhile
  return verified;
}

std::vector<Result<Site::BlobCommitResult>> Site::CommitBlobs(std::span<const BlobToCommit> blobs) {
  BlobBatches batches(this);
  (void)batches.Add(blobs);
  return batches.Finish();
}

Site::BlobBatches::BlobBatches(Site* site, unsigned threads)
    : site_(site), threads_(std::max(threads, 1u)), barrier_(site->backend_->NewCommitBarrier()) {}

Site::BlobBatches::~BlobBatches() = default;

std::vector<Result<Site::BlobCommitResult>> Site::BlobBatches::Settle(const Status& names_durable) {
  if (!names_durable.ok()) {
    for (size_t i : visible_) results_[i] = names_durable.WithContext(where_[i]);
  }
  visible_.clear();
  where_.clear();
  return std::exchange(results_, {});
}

std::vector<Result<Site::BlobCommitResult>> Site::BlobBatches::Finish() {
  return Settle(barrier_->Sync());
}

std::vector<Result<Site::BlobCommitResult>> Site::BlobBatches::Add(
    std::span<const BlobToCommit> blobs) {
  Site& site = *site_;
  CommitBarrier& barrier = *barrier_;
  std::vector<Result<BlobCommitResult>> results(blobs.size(), Status::Aborted("not committed"));
  std::vector<std::string> where(blobs.size());
  for (size_t i = 0; i < blobs.size(); ++i) {
    where[i] = "site " + site.id() + ": blob " + blobs[i].sha256_hex;
  }
  // A site that commits in batches finds a blob already there when it names
  // the new one (AlreadyExists, the writer still prepared); any other is
  // asked first, and such a blob goes through CommitBlob.
  const bool ask_first = !site.capabilities().batch_commit;
  std::vector<size_t> prepared;
  for (size_t i = 0; i < blobs.size(); ++i) {
    BlobWriter& writer = *blobs[i].writer;
    Status named = CheckBlobName(blobs[i].sha256_hex);
    if (!named.ok()) {
      writer.Abort();
      results[i] = named;
      continue;
    }
    const std::string key = site.BlobKey(blobs[i].sha256_hex);
    Status s;
    if (ask_first) {
      Result<ObjectInfo> present = site.backend_->Stat(key);
      if (present.ok()) {
        // Read back, kept or replaced: rare, and one by one.
        results[i] = site.CommitBlob(writer, blobs[i].sha256_hex, blobs[i].size);
        continue;
      }
      s = present.status().IsNotFound() ? Status::OK() : present.status();
    }
    if (s.ok()) s = writer.PrepareCommit(key, barrier);
    if (!s.ok()) {
      writer.Abort();
      results[i] = s.WithContext(where[i]);
      continue;
    }
    prepared.push_back(i);
  }
  // The bytes of every new blob durable before any name points at them, and
  // the names of the batch before.
  Status synced = barrier.Sync();
  std::vector<Result<BlobCommitResult>> before = Settle(synced);
  results_ = std::move(results);
  where_ = std::move(where);
  if (!synced.ok()) {
    for (size_t i : prepared) {
      blobs[i].writer->Abort();
      results_[i] = synced.WithContext(where_[i]);
    }
    return before;
  }
  // Each name on its own (a batch's names are made in parallel: each blob's
  // own folder, file and result); visible[i]: blob i counts once durable.
  std::vector<char> visible(blobs.size(), 0);
  auto name = [&](size_t i) {
    BlobWriter& writer = *blobs[i].writer;
    const std::string key = site.BlobKey(blobs[i].sha256_hex);
    Status committed = writer.CommitPrepared(key, barrier);
    if (committed.ok()) {
      results_[i] = BlobCommitResult{};
      visible[i] = 1;
      return;
    }
    if (!committed.IsAlreadyExists()) {
      writer.Abort();
      results_[i] = committed.WithContext(where_[i]);
      return;
    }
    // A blob is there already (an earlier deposit's, one the catalog does not
    // know, or this batch's for a file of the same bytes): read back like any
    // existing blob, never trusted. It counts only once the next Sync has
    // made this batch's names durable.
    Result<BlobCommitResult> found = site.JudgeExistingBlob(blobs[i].sha256_hex, blobs[i].size);
    if (found.ok() && found->how == BlobCommit::kVerified) {
      writer.Abort();
      results_[i] = *found;
      visible[i] = 1;
      return;
    }
    // Damaged: replaced by the writer's bytes, which are known good and
    // durable, as CommitBlob does (a site asked first met another writer's
    // blob here: its damage is reported, as CommitBlob's race does).
    if (!found.ok() || (ask_first && found->how == BlobCommit::kReplaced)) {
      writer.Abort();
      results_[i] = found.ok() ? Status::Corruption(found->replaced) : found;
      return;
    }
    Status removed = site.backend_->Remove(key);
    if (!removed.ok() && !removed.IsNotFound()) {  // NotFound: a twin of this batch removed it
      writer.Abort();
      results_[i] = removed.WithContext(where_[i] + ": could not remove the damaged copy");
      return;
    }
    committed = writer.CommitPrepared(key, barrier);
    if (!committed.ok()) {
      writer.Abort();
      results_[i] = committed.WithContext(where_[i]);
      return;
    }
    results_[i] = *found;
    visible[i] = 1;
  };
  (void)RunPool(prepared.size(), threads_, [&](size_t p) {
    name(prepared[p]);
    return Status::OK();
  });
  for (size_t i : prepared) {
    if (visible[i]) visible_.push_back(i);
  }
  return before;
}

size_t Site::BlobBatchLimit(size_t at_most) {
  static const size_t quarter = [] {
    struct rlimit files;
    if (getrlimit(RLIMIT_NOFILE, &files) != 0 || files.rlim_cur == RLIM_INFINITY) {
      return size_t{1024};
    }
    return static_cast<size_t>(files.rlim_cur / 4);
  }();
  return std::clamp<size_t>(quarter, 16, std::max<size_t>(at_most, 16));
}

uint64_t Site::RaiseOpenFileLimit() {
  constexpr rlim_t kWanted = 65'536;
  struct rlimit files;
  if (getrlimit(RLIMIT_NOFILE, &files) != 0) return 0;
  const rlim_t target =
      files.rlim_max == RLIM_INFINITY ? kWanted : std::min(files.rlim_max, kWanted);
  if (files.rlim_cur != RLIM_INFINITY && files.rlim_cur < target) {
    files.rlim_cur = target;
    if (setrlimit(RLIMIT_NOFILE, &files) != 0) (void)getrlimit(RLIMIT_NOFILE, &files);
  }
  return files.rlim_cur;
}

Status Site::PutBlob(std::string_view sha256_hex, std::string_view bytes) {
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<BlobWriter> writer,
                         NewBlobWriter(sha256_hex, bytes.size()));
  Status status = writer->Append(std::as_bytes(std::span<const char>(bytes.data(), bytes.size())));
  if (!status.ok()) {
    writer->Abort();
    return status;
  }
  return CommitBlob(*writer, sha256_hex, bytes.size()).status();
}

Status Site::ReadBlob(std::string_view sha256_hex, const ByteSink& sink) {
  CAIRN_RETURN_IF_ERROR(CheckBlobName(sha256_hex));
  return Read(BlobKey(sha256_hex), 0, StorageBackend::kToEnd, sink);
}

Status Site::CheckMarkerBeforeWrite() {
  auto marker = backend_->Stat(layout::kSiteMarkerKey);
  if (marker.ok()) return Status::OK();
  if (marker.status().IsNotFound()) {
    return Status::Unavailable("site " + DisplayUrl() +
                               ": CAIRN-SITE marker is gone (not mounted?): nothing is written");
  }
  return marker.status();
}

Result<std::string> Site::HashOf(const std::string& key) {
  Sha256Stream hash;
  Status read = Read(key, 0, StorageBackend::kToEnd, [&hash](std::span<const std::byte> chunk) {
    hash.Update(chunk);
    return Status::OK();
  });
  if (read.IsNotFound()) return read;
  if (!read.ok()) return read.WithContext("site " + DisplayUrl() + ": read " + key);
  return hash.FinishHex();
}

Status Site::SettleWriteOnce(const std::string& key, Status written, std::string_view sha256_hex,
                             std::string_view conflict) {
  if (!written.IsAlreadyExists()) return written;
  Result<std::string> held = HashOf(key);
  if (!held.ok())
    return held.status().WithContext("site " + DisplayUrl() + ": compare with " + key);
  if (*held == sha256_hex) return Status::OK();
  return Status::AlreadyExists("site " + DisplayUrl() + ": " + key + " already holds " +
                               std::string(conflict));
}

Status Site::PutOnce(const std::string& key, std::string_view bytes, std::string_view conflict) {
  CAIRN_RETURN_IF_ERROR(CheckMarkerBeforeWrite());
  PutOptions once;
  once.if_absent = true;
  return SettleWriteOnce(key, backend_->Put(key, bytes, once), Sha256Hex(bytes), conflict);
}

Status Site::VerifyBlob(std::string_view sha256_hex, std::optional<uint64_t> size) {
  CAIRN_RETURN_IF_ERROR(CheckBlobName(sha256_hex));
  Sha256Stream hash;
  uint64_t read = 0;
  Status s = ReadBlob(sha256_hex, [&](std::span<const std::byte> chunk) {
    hash.Update(chunk);
    read += chunk.size();
    return Status::OK();
  });
  const std::string where = "site " + id() + ": blob " + std::string(sha256_hex);
  if (!s.ok()) return s.WithContext(where);
  std::string digest = hash.FinishHex();
  if (digest == sha256_hex && (!size || *size == read)) return Status::OK();
  return Status::Corruption(where + ": read " + std::to_string(read) + " bytes with sha256 " +
                            digest +
                            (size ? ", expected " + std::to_string(*size) + " bytes" : ""));
}

Status Site::ExtendBlobRetention(std::string_view sha256_hex) {
  CAIRN_RETURN_IF_ERROR(CheckBlobName(sha256_hex));
  Status kept = backend_->ExtendRetention(BlobKey(sha256_hex));
  if (kept.ok()) return kept;
  return kept.WithContext("site " + id() + ": blob " + std::string(sha256_hex));
}

Result<std::string> Site::MakeRoomForBlob(std::string_view sha256_hex) {
  CAIRN_RETURN_IF_ERROR(CheckBlobName(sha256_hex));
  Result<std::string> done = backend_->MakeRoomFor(BlobKey(sha256_hex));
  if (!done.ok())
    return done.status().WithContext("site " + id() + ": blob " + std::string(sha256_hex));
  return done;
}

Status Site::RemoveUnreferencedBlob(std::string_view sha256_hex) {
  CAIRN_RETURN_IF_ERROR(CheckBlobName(sha256_hex));
  Status removed = backend_->Remove(BlobKey(sha256_hex));
  if (!removed.ok())
    return removed.WithContext("site " + id() + ": remove blob " + std::string(sha256_hex));
  return removed;
}

Result<Erasure> Site::PurgeBlob(std::string_view sha256_hex) {
  CAIRN_RETURN_IF_ERROR(CheckBlobName(sha256_hex));
  Result<Erasure> erased = backend_->RemoveEveryVersion(BlobKey(sha256_hex));
  if (!erased.ok()) {
    return erased.status().WithContext("site " + id() + ": purge blob " + std::string(sha256_hex));
  }
  return erased;
}

Status Site::PutTagFile(std::string_view partner, std::string_view object, uint32_t version,
                        std::string_view name, std::string_view bytes) {
  CAIRN_RETURN_IF_ERROR(CheckBagIds(partner, object, version));
  CAIRN_RETURN_IF_ERROR(layout::ValidateTagFileName(name));
  return PutOnce(layout::TagFileKey(partner, object, version, name), bytes, kOtherDeposit);
}

Status Site::PutTombstone(std::string_view partner, std::string_view object, uint32_t version,
                          std::string_view bytes, std::string_view name) {
  CAIRN_RETURN_IF_ERROR(CheckBagIds(partner, object, version));
  CAIRN_RETURN_IF_ERROR(CheckTombstoneName(name));
  return PutOnce(layout::TombstoneKey(partner, object, version, name), bytes,
                 "another tombstone (written once, never replaced)");
}

Result<Erasure> Site::RemovePurgedBagFile(std::string_view key) {
  std::optional<layout::TagFileRef> ref = layout::ParseTagFileKey(key);
  if (!ref) {
    return Status::InvalidArgument("site " + id() + ": " + std::string(key) +
                                   " is not a bag file: not removed by a purge");
  }
  Result<std::string> tombstone = ReadTombstone(ref->partner, ref->object, ref->version);
  if (!tombstone.ok()) {
    if (!tombstone.status().IsNotFound()) return tombstone.status();
    return Status::InvalidArgument("site " + id() + ": " + std::string(key) +
                                   ": the version has no tombstone here: not removed");
  }
  Result<Erasure> erased = backend_->RemoveEveryVersion(key);
  if (!erased.ok())
    return erased.status().WithContext("site " + id() + ": remove " + std::string(key));
  return erased;
}

Result<std::string> Site::ReadTombstone(std::string_view partner, std::string_view object,
                                        uint32_t version, std::string_view name) {
  CAIRN_RETURN_IF_ERROR(CheckBagIds(partner, object, version));
  CAIRN_RETURN_IF_ERROR(CheckTombstoneName(name));
  return ReadAll(layout::TombstoneKey(partner, object, version, name));
}

Result<std::string> Site::ReadTagFile(std::string_view partner, std::string_view object,
                                      uint32_t version, std::string_view name) {
  CAIRN_RETURN_IF_ERROR(CheckBagIds(partner, object, version));
  CAIRN_RETURN_IF_ERROR(layout::ValidateTagFileName(name));
  return ReadAll(layout::TagFileKey(partner, object, version, name));
}

Status Site::PutVersionRecord(std::string_view partner, std::string_view object, uint32_t version,
                              std::string_view bytes) {
  CAIRN_RETURN_IF_ERROR(CheckBagIds(partner, object, version));
  return PutOnce(layout::VersionRecordKey(partner, object, version), bytes, kOtherDeposit);
}

Result<std::string> Site::ReadVersionRecord(std::string_view partner, std::string_view object,
                                            uint32_t version) {
  CAIRN_RETURN_IF_ERROR(CheckBagIds(partner, object, version));
  return ReadAll(layout::VersionRecordKey(partner, object, version));
}

Result<std::unique_ptr<BlobWriter>> Site::NewBagFileWriter() {
  CAIRN_RETURN_IF_ERROR(CheckMarkerBeforeWrite());
  PutOptions once;
  once.if_absent = true;
  return backend_->NewWriter(once);
}

Status Site::CommitTagFile(BlobWriter& writer, std::string_view partner, std::string_view object,
                           uint32_t version, std::string_view name, std::string_view sha256_hex) {
  Status status = CheckBagIds(partner, object, version);
  if (status.ok()) status = layout::ValidateTagFileName(name);
  if (!status.ok()) {
    writer.Abort();
    return status;
  }
  const std::string key = layout::TagFileKey(partner, object, version, name);
  status = writer.Commit(key);
  if (!status.ok()) writer.Abort();
  return SettleWriteOnce(key, status, sha256_hex);
}

Status Site::CommitVersionRecord(BlobWriter& writer, std::string_view partner,
                                 std::string_view object, uint32_t version,
                                 std::string_view sha256_hex) {
  Status status = CheckBagIds(partner, object, version);
  if (!status.ok()) {
    writer.Abort();
    return status;
  }
  const std::string key = layout::VersionRecordKey(partner, object, version);
  status = writer.Commit(key);
  if (!status.ok()) writer.Abort();
  return SettleWriteOnce(key, status, sha256_hex);
}

Result<std::string> Site::ProvenDamaged(const layout::TagFileRef& ref, const std::string& key,
                                        std::string_view held_sha256, std::string_view sha256_hex,
                                        bool verified_here) {
  const std::string held = "it held bytes with sha256 " + std::string(held_sha256);
  if (verified_here) {
    return key + ": the catalog verified this site holding it with sha256 " +
           std::string(sha256_hex) + " once, and bag files are written once; " + held;
  }
  const std::string record_key = layout::VersionRecordKey(ref.partner, ref.object, ref.version);
  Result<std::string> record = ReadAll(record_key);
  if (record.status().IsNotFound()) return std::string();  // nothing vouches either way
  if (!record.ok()) return record.status().WithContext("site " + DisplayUrl());
  proto::VersionRecord parsed;
  const bool parses = parsed.ParseFromString(*record);
  const bool names_it = parses && parsed.partner() == ref.partner &&
                        parsed.object() == ref.object && parsed.version() == ref.version;
  if (ref.is_version_record()) {
    // A record of another deposit of this version is a consistent record of
    // it; bytes that are not one cannot be anybody's record.
    if (!parses) return key + " does not parse as a version record (" + held + ")";
    if (!names_it) {
      return key + " names " + parsed.partner() + "/" + parsed.object() + " v" +
             std::to_string(parsed.version()) + ", not its own version (" + held + ")";
    }
    uint64_t bytes = 0;
    for (const proto::VersionFile& f : parsed.files()) bytes += f.size();
    if (static_cast<uint64_t>(parsed.files_size()) != parsed.file_count() ||
        bytes != parsed.payload_bytes()) {
      return key + " is inconsistent (lists " + std::to_string(parsed.files_size()) + " files of " +
             std::to_string(bytes) + " bytes, says " + std::to_string(parsed.file_count()) +
             " files of " + std::to_string(parsed.payload_bytes()) + " bytes; " + held + ")";
    }
    return std::string();
  }
  // A tag file: this site's own record of the version vouches for its bytes.
  if (!names_it) return std::string();
  for (const proto::TagFile& tag : parsed.tag_files()) {
    if (tag.name() == ref.name && tag.sha256() == sha256_hex) {
      return key + ": this site's own " + record_key + " lists it with sha256 " +
             std::string(sha256_hex) + ", " + held;
    }
  }
  return std::string();
}

Result<Site::BagFileCopyResult> Site::CopyBagFile(const layout::TagFileRef& ref,
                                                  std::string_view sha256_hex,
                                                  std::optional<uint64_t> size,
                                                  const std::function<Status(BlobWriter&)>& fill,
                                                  bool verified_here) {
  CAIRN_RETURN_IF_ERROR(CheckBagIds(ref.partner, ref.object, ref.version));
  if (!ref.is_version_record()) CAIRN_RETURN_IF_ERROR(layout::ValidateTagFileName(ref.name));
  CAIRN_RETURN_IF_ERROR(CheckMarkerBeforeWrite());
  const std::string key = ref.is_version_record()
                              ? layout::VersionRecordKey(ref.partner, ref.object, ref.version)
                              : layout::TagFileKey(ref.partner, ref.object, ref.version, ref.name);
  BagFileCopyResult result;
  std::string damaged_sha256;  // set when the key holds bytes proven damaged
  Result<std::string> held = HashOf(key);
  if (held.ok()) {
    if (*held == sha256_hex) {
      result.how = BagFileCopy::kPresent;
      return result;
    }
    CAIRN_ASSIGN_OR_RETURN(result.replaced,
                           ProvenDamaged(ref, key, *held, sha256_hex, verified_here));
    if (result.replaced.empty()) {
      return Status::AlreadyExists("site " + DisplayUrl() + ": " + key + " already holds " +
                                   std::string(kOtherDeposit) + " (it holds sha256 " + *held +
                                   ", the copy has " + std::string(sha256_hex) + ")");
    }
    damaged_sha256 = *held;
  } else if (!held.status().IsNotFound()) {
    return held.status();
  }
  PutOptions options;
  options.if_absent = damaged_sha256.empty();
  options.expected_sha256 = std::string(sha256_hex);
  options.size_hint = size;
  options.key_hint = key;
  Result<std::unique_ptr<BlobWriter>> writer = backend_->NewWriter(options);
  if (!writer.ok()) return writer.status().WithContext("site " + DisplayUrl());
  Status status = fill(**writer);
  if (status.ok() && !damaged_sha256.empty()) {
    // Replaced only if it still holds the damaged bytes (nothing wrote meanwhile).
    Result<std::string> now = HashOf(key);
    if (now.ok() && *now != damaged_sha256) {
      (*writer)->Abort();
      if (*now == sha256_hex) {
        result.how = BagFileCopy::kPresent;
        result.replaced.clear();
        return result;
      }
      return Status::AlreadyExists("site " + DisplayUrl() + ": " + key +
                                   " changed since it was found damaged: left untouched");
    }
    if (!now.ok() && !now.status().IsNotFound()) status = now.status();
  }
  if (status.ok()) status = (*writer)->Commit(key);
  if (!status.ok()) (*writer)->Abort();
  if (damaged_sha256.empty()) {
    CAIRN_RETURN_IF_ERROR(SettleWriteOnce(key, status, sha256_hex));
    result.how = status.ok() ? BagFileCopy::kCreated : BagFileCopy::kPresent;
    return result;
  }
  CAIRN_RETURN_IF_ERROR(status);
  result.how = BagFileCopy::kReplaced;
  return result;
}

Result<std::vector<Site::VersionFolder>> Site::ListVersionFolders(std::string_view partner,
                                                                  std::string_view object) {
  CAIRN_RETURN_IF_ERROR(layout::ValidatePartnerId(partner));
  CAIRN_RETURN_IF_ERROR(layout::ValidateObjectId(object));
  std::map<uint32_t, VersionFolder> folders;
  CAIRN_RETURN_IF_ERROR(List(layout::ObjectPrefix(partner, object), [&](const ObjectInfo& info) {
    std::optional<layout::TagFileRef> ref = layout::ParseTagFileKey(info.key);
    const bool tombstone = !ref;
    if (tombstone) ref = layout::ParseTombstoneKey(info.key);
    if (!ref || ref->partner != partner || ref->object != object) return Status::OK();
    VersionFolder& f = folders[ref->version];
    f.version = ref->version;
    f.complete |= ref->is_version_record();
    f.withdrawn |= tombstone;
    return Status::OK();
  }));
  std::vector<VersionFolder> out;
  for (const auto& [version, folder] : folders) out.push_back(folder);
  return out;
}

Status Site::RemoveUnacknowledgedVersion(std::string_view partner, std::string_view object,
                                         uint32_t version, std::string_view own_record_sha256) {
  CAIRN_RETURN_IF_ERROR(CheckBagIds(partner, object, version));
  const std::string record = layout::VersionRecordKey(partner, object, version);
  std::vector<std::string> keys;
  bool has_record = false;
  CAIRN_RETURN_IF_ERROR(
      List(layout::VersionPrefix(partner, object, version), [&](const ObjectInfo& info) {
        if (info.key == record) {
          has_record = true;
        } else {
          keys.push_back(info.key);
        }
        return Status::OK();
      }));
  if (has_record) {
    const Status complete = Status::AlreadyExists("site " + DisplayUrl() + ": " + record +
                                                  " exists: a complete version is never removed");
    if (own_record_sha256.empty()) return complete;
    Sha256Stream hash;
    CAIRN_RETURN_IF_ERROR(Read(record, 0, StorageBackend::kToEnd, [&hash](auto chunk) {
      hash.Update(chunk);
      return Status::OK();
    }));
    if (hash.FinishHex() != own_record_sha256) return complete;
    CAIRN_RETURN_IF_ERROR(backend_->Remove(record).WithContext("site " + DisplayUrl()));
  }
  for (const std::string& key : keys) {
    CAIRN_RETURN_IF_ERROR(backend_->Remove(key).WithContext("site " + DisplayUrl()));
  }
  return RemoveFoldersEmptied(layout::VersionPrefix(partner, object, version), keys);
}

Status Site::RemoveFoldersEmptied(const std::string& version_prefix,
                                  const std::vector<std::string>& removed) {
  // The folders below the version's that held the removed keys, the deepest first.
  std::set<std::string> inside;
  for (const std::string& key : removed) {
    for (size_t slash = key.find('/', version_prefix.size()); slash != std::string::npos;
         slash = key.find('/', slash + 1)) {
      inside.insert(key.substr(0, slash + 1));
    }
  }
  std::vector<std::string> folders(inside.begin(), inside.end());
  std::sort(folders.begin(), folders.end(), [](const std::string& a, const std::string& b) {
    return std::count(a.begin(), a.end(), '/') > std::count(b.begin(), b.end(), '/');
  });
  for (const std::string& folder : folders) {
    CAIRN_RETURN_IF_ERROR(
        backend_->RemoveEmptyFolder(folder).status().WithContext("site " + DisplayUrl()));
  }
  // Then the version's folder, and its object's and partner's while each is left empty (never
  // bags/ itself).
  std::string folder = version_prefix;
  while (folder.size() > layout::kBagsPrefix.size() && folder.starts_with(layout::kBagsPrefix)) {
    Result<bool> removed_folder = backend_->RemoveEmptyFolder(folder);
    if (!removed_folder.ok()) return removed_folder.status().WithContext("site " + DisplayUrl());
    if (!*removed_folder) break;
    folder.pop_back();  // its '/'
    folder.erase(folder.rfind('/') + 1);
  }
  return Status::OK();
}

Status Site::PutEventSegment(uint64_t first_seq, uint64_t last_seq, std::string_view bytes) {
  if (first_seq > last_seq) return Status::InvalidArgument("event segment with first > last");
  return PutOnce(layout::EventSegmentKey(first_seq, last_seq), bytes, "different events");
}

Status Site::ReplaceDamagedEventSegment(uint64_t first_seq, uint64_t last_seq,
                                        std::string_view damaged, std::string_view bytes) {
  if (first_seq > last_seq) return Status::InvalidArgument("event segment with first > last");
  const std::string key = layout::EventSegmentKey(first_seq, last_seq);
  if (damaged == bytes) {
    return Status::InvalidArgument("site " + id() + ": " + key +
                                   ": the replacement is the same as the damaged bytes");
  }
  Result<std::string> held = ReadAll(key);
  if (!held.ok() && held.status().IsNotFound()) {
    return PutEventSegment(first_seq, last_seq, bytes);
  }
  CAIRN_RETURN_IF_ERROR(held.status());
  if (*held != damaged) {
    return Status::AlreadyExists("site " + id() + ": " + key +
                                 " changed since it was found damaged: left untouched");
  }
  CAIRN_RETURN_IF_ERROR(backend_->Put(key, bytes));
  CAIRN_ASSIGN_OR_RETURN(std::string back, ReadAll(key));
  if (back != bytes) {
    return Status::Corruption("site " + id() + ": " + key +
                              " reads back different bytes after it was rewritten");
  }
  return Status::OK();
}

Result<std::optional<std::string>> Site::BringReadmeUpToDate() {
  const std::string text = layout::SiteReadmeText(marker_.layout_version);
  Result<std::string> held = backend_->ReadAll(layout::kReadmeKey);
  if (held.ok() && *held == text) return std::optional<std::string>();
  if (!held.ok() && !held.status().IsNotFound()) {
    return held.status().WithContext("site " + DisplayUrl() + ": read README.txt");
  }
  std::string why = !held.ok() ? "it was missing"
                    : held->find(layout::kEmptyFoldersListName) == std::string::npos
                        ? "its by-hand recipe lacked step 3, which makes a bag's empty folders "
                          "from " +
                              std::string(layout::kEmptyFoldersListName)
                        : "it was not this Cairn's text";
  CAIRN_RETURN_IF_ERROR(CheckMarkerBeforeWrite());
  CAIRN_RETURN_IF_ERROR(
      backend_->Put(layout::kReadmeKey, text).WithContext("site " + DisplayUrl() + ": README.txt"));
  return std::optional<std::string>(std::move(why));
}

Status Site::PutSettingsRecord(std::string_view kind, std::string_view name, uint64_t version,
                               std::string_view bytes) {
  return PutOnce(layout::SettingsRecordKey(kind, name, version), bytes,
                 "another version of the setting");
}

Status WithMarkerNextStep(const std::string& name, Status opened) {
  // Its marker gone, or (posix) its whole folder: an unmounted share or a lost disk alike.
  if (!opened.IsUnavailable() || (opened.message().find(kNoSiteMarker) == std::string::npos &&
                                  opened.message().find(kSiteRootMissing) == std::string::npos)) {
    return opened;
  }
  return Status::Unavailable(opened.message() + "; if it is an unmounted share, mount it; if " +
                             "its files were moved, `cairn site move " + name +
                             " PLACE` points it there; if it was lost, `cairn site resync " + name +
                             " --init` makes it again from the other sites; if it was added by " +
                             "mistake or is retired, `cairn site remove " + name +
                             "` takes it out");
}

}  // namespace cairn::repo
