// CopyAndVerify: one streamed copy between two sites, then a read-back check.
#include "repo/replicate/site_copy.h"

#include <unistd.h>

#include <algorithm>
#include <optional>

#include "repo/catalog/catalog.h"
#include "repo/storage/sha256_stream.h"

namespace cairn::repo {
namespace {

// Reads `key` back from `site` and checks size and SHA-256.
Status Verify(Site& site, const SiteCopyItem& item) {
  Sha256Stream hash;
  uint64_t size = 0;
  Status s = site.Read(item.key, 0, StorageBackend::kToEnd, [&](std::span<const std::byte> chunk) {
    hash.Update(chunk);
    size += chunk.size();
    return Status::OK();
  });
  if (!s.ok()) return s;
  std::string digest = hash.FinishHex();
  if (digest != item.sha256 || size != item.size) {
    return Status::Corruption(item.name + ": read back " + std::to_string(size) +
                              " bytes with sha256 " + digest + ", expected " +
                              std::to_string(item.size) + " bytes with sha256 " + item.sha256);
  }
  return Status::OK();
}

// Streams item's bytes from `from` into `writer`: a local source file is
// copied by the writer without passing through here. A failure to read the
// source goes to `read` (and the fill returns OK, so the writer is aborted by
// the caller); a failure to write is returned.
Status FillFrom(Site& from, const SiteCopyItem& item, BlobWriter& writer, SiteCopyResult* result,
                Status* read) {
  // The local-file path where the source claims it; its open error is the
  // read's (no second read by Read, which would double a down site's retries).
  if (from.capabilities().open_for_copy) {
    Result<int> source_fd = from.OpenForCopy(item.key);
    if (!source_fd.ok()) {
      *read = source_fd.status();
      return Status::OK();
    }
    Status write_status = writer.AppendFromFile(*source_fd, 0, item.size);
    ::close(*source_fd);
    if (write_status.ok()) result->bytes_written = item.size;
    if (write_status.code() != Code::kInvalidArgument) return write_status;
    *read = Status::Corruption(item.name + ": shorter than " + std::to_string(item.size) +
                               " bytes on site " + from.id());
    return Status::OK();
  }
  Status write_status;
  *read = from.Read(item.key, 0, StorageBackend::kToEnd, [&](std::span<const std::byte> c) {
    write_status = writer.Append(c);
    result->bytes_written += c.size();
    return write_status;
  });
  if (!write_status.ok()) *read = Status::OK();  // the read stopped because the write failed
  return write_status;
}

// Records a failure of the target site in `result`, naming the site once
// (Site's own errors already name it).
void TargetFailed(SiteCopyResult& result, const Site& to, const Status& s) {
  const std::string target = "site " + to.id();
  result.status = s.message().starts_with(target + ": ") ? s : s.WithContext(target);
  result.target_failed = true;
}

// Records that the source's bytes do not hash to the digest: that copy is bad.
void SourceCorrupt(SiteCopyResult& result, const Site& from, const SiteCopyItem& item,
                   const Status& s) {
  result.status = s.WithContext("site " + from.id() + " (copy of " + item.name + ")");
}

}  // namespace

BlobCopy PrepareBlobCopy(Site& from, Site& to, const SiteCopyItem& item, bool ask_first) {
  BlobCopy copy;
  SiteCopyResult& result = copy.result;
  auto target_failed = [&](const Status& s) {
    TargetFailed(result, to, s);
    return std::move(copy);
  };
  // Verified, never trusted: a blob already on the target is read back (here,
  // or by the batch commit that finds it).
  Status v = ask_first ? to.VerifyBlob(item.sha256, item.size)
                       : Status::NotFound("not asked: the catalog knows no copy there");
  if (v.ok()) v = to.ExtendBlobRetention(item.sha256);  // the version counts on it now
  if (v.ok()) {
    result.already_present = true;
    return copy;
  }
  if (!v.IsCorruption() && !v.IsNotFound() && v.code() != Code::kIOError) {
    result.status = v;  // names the site
    result.target_failed = true;
    return copy;
  }
  // Missing, wrong bytes under the right name, or bytes the (answering)
  // site cannot read back: Site::CommitBlob(s) replaces them with the good copy.
  // Missing may be a directory where the blob's file should be: moved out of the way first
  // (no copy could be written over it), and said.
  if (v.IsNotFound() && ask_first) {
    Result<std::string> made_room = to.MakeRoomForBlob(item.sha256);
    if (!made_room.ok()) return target_failed(made_room.status());
    result.made_room = std::move(made_room).value();
  }
  Result<std::unique_ptr<BlobWriter>> writer = to.NewBlobWriter(item.sha256, item.size);
  if (!writer.ok()) return target_failed(writer.status());
  Status read;
  Status write_status = FillFrom(from, item, **writer, &result, &read);
  if (!write_status.ok()) {
    (*writer)->Abort();
    return target_failed(write_status);
  }
  if (!read.ok()) {
    (*writer)->Abort();
    result.status = read.WithContext("site " + from.id());
    return copy;
  }
  if (to.capabilities().digest_appended) {
    // Hashed back here (on the caller's worker), so the commit only compares.
    Result<bagit::Digests> digests = (*writer)->DigestAppended({});
    if (!digests.ok()) {
      (*writer)->Abort();
      return target_failed(digests.status());
    }
  }
  copy.writer = std::move(writer).value();
  return copy;
}

SiteCopyResult FinishBlobCopy(Site& from, Site& to, const SiteCopyItem& item, BlobCopy& copy,
                              const Result<Site::BlobCommitResult>& committed) {
  SiteCopyResult result = std::move(copy.result);
  auto target_failed = [&](const Status& s) {
    TargetFailed(result, to, s);
    return result;
  };
  if (committed.status().IsCorruption()) {
    SourceCorrupt(result, from, item, committed.status());
    return result;
  }
  if (!committed.ok()) return target_failed(committed.status());
  if (committed->how == Site::BlobCommit::kVerified) {
    // A good blob was there already (written meanwhile, or one the catalog
    // did not know): kept, the writer's bytes discarded.
    result.already_present = true;
    result.bytes_written = 0;
    return result;
  }
  // Read back from the target: done by the writer before the rename when it
  // could (the posix kernel copy), else here after the commit.
  if (copy.writer->VerifiedByReadBack()) return result;
  Status v = Verify(to, item);
  if (!v.ok()) return target_failed(v);
  return result;
}

SiteCopyResult CopyAndVerify(Site& from, Site& to, const SiteCopyItem& item) {
  SiteCopyResult result;
  const std::string target = "site " + to.id();
  auto target_failed = [&](const Status& s) {
    TargetFailed(result, to, s);
    return result;
  };
  Status read;
  bool blob = item.ref.kind == ReplicaRef::Kind::kBlob;
  if (!blob) {
    // Tag files and version records: write-once through the Site, which
    // replaces only bytes it can prove damaged (never another deposit's).
    std::optional<layout::TagFileRef> ref = layout::ParseTagFileKey(item.key);
    if (!ref) return target_failed(Status::InvalidArgument(item.key + " is not a bag file key"));
    Result<Site::BagFileCopyResult> copied = to.CopyBagFile(
        *ref, item.sha256, item.size,
        [&](BlobWriter& writer) -> Status {
          Status written = FillFrom(from, item, writer, &result, &read);
          if (written.ok() && !read.ok()) return read;  // aborts the writer
          return written.ok() ? written : written.WithContext(target);
        },
        item.target_verified_once);
    if (!read.ok()) {
      result.status = read.WithContext("site " + from.id());
      return result;
    }
    if (copied.status().IsCorruption()) {
      SourceCorrupt(result, from, item, copied.status());
      return result;
    }
    if (!copied.ok()) return target_failed(copied.status());
    if (copied->how == Site::BagFileCopy::kPresent) {
      result.already_present = true;  // read back and hashed by CopyBagFile
      result.bytes_written = 0;
      return result;
    }
  } else {
    BlobCopy copy = PrepareBlobCopy(from, to, item);
    if (!copy.writer) return copy.result;
    // A blob found there meanwhile (a concurrent copy) is read back by CommitBlob.
    Result<Site::BlobCommitResult> committed = to.CommitBlob(*copy.writer, item.sha256, item.size);
    return FinishBlobCopy(from, to, item, copy, committed);
  }
  Status v = Verify(to, item);
  if (!v.ok()) return target_failed(v);
  return result;
}

Result<std::vector<std::string>> SitesToAskByKey(Catalog& catalog,
                                                 const std::vector<std::string>& known,
                                                 std::string_view except) {
  CAIRN_ASSIGN_OR_RETURN(std::vector<SiteRecord> sites, catalog.ListSites());
  std::vector<std::string> ask;
  for (const SiteRecord& site : sites) {
    if (site.name == except || std::find(known.begin(), known.end(), site.name) != known.end()) {
      continue;
    }
    ask.push_back(site.name);
  }
  return ask;
}

}  // namespace cairn::repo
