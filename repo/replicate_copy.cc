// CopyAndVerify: one streamed copy between two sites, then a read-back check.
#include "repo/replicate_copy.h"

#include <unistd.h>

#include "repo/storage/sha256_stream.h"

namespace cairn::repo::replicate_internal {
namespace {

// Reads `key` back from `site` and checks size and SHA-256.
Status Verify(Site& site, const CopyItem& item) {
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

}  // namespace

CopyResult CopyAndVerify(Site& from, Site& to, const CopyItem& item) {
  CopyResult result;
  std::string target = "site " + to.id();
  // Site's own errors already name it.
  auto at_target = [&target](const Status& s) {
    return s.message().starts_with(target + ": ") ? s : s.WithContext(target);
  };
  bool blob = item.ref.kind == ReplicaRef::Kind::kBlob;
  if (blob) {
    // Verified, never trusted: a blob already on the target is read back.
    Status v = to.VerifyBlob(item.sha256, item.size);
    if (v.ok()) {
      result.already_present = true;
      return result;
    }
    if (!v.IsCorruption() && !v.IsNotFound() && v.code() != Code::kIOError) {
      result.status = v;  // names the site
      result.target_failed = true;
      return result;
    }
    // Missing, wrong bytes under the right name, or bytes the (answering)
    // site cannot read back: Site::CommitBlob below replaces them with the
    // good copy.
  }
  PutOptions options;
  options.expected_sha256 = item.sha256;
  options.size_hint = item.size;
  options.key_hint = item.key;
  Result<std::unique_ptr<BlobWriter>> writer =
      blob ? to.NewBlobWriter(item.sha256, item.size) : to.backend().NewWriter(options);
  if (!writer.ok()) {
    result.status = at_target(writer.status());
    result.target_failed = true;
    return result;
  }
  Status write_status;
  Status read;
  // The local-file path where the source claims it; its open error is the
  // read's (no second read by Read).
  Result<int> source_fd = Status::NotSupported("streamed");
  if (from.capabilities().open_for_copy) source_fd = from.OpenForCopy(item.key);
  if (!source_fd.ok() && source_fd.status().code() != Code::kNotSupported) {
    read = source_fd.status();
  } else if (source_fd.ok()) {
    // A local file: the writer copies it without passing it through here.
    write_status = (*writer)->AppendFromFile(*source_fd, 0, item.size);
    if (write_status.ok()) result.bytes_written = item.size;
    if (write_status.code() == Code::kInvalidArgument) {
      read = Status::Corruption(item.name + ": shorter than " + std::to_string(item.size) +
                                " bytes on site " + from.id());
      write_status = Status::OK();
    }
    ::close(*source_fd);
  } else {
    read = from.Read(item.key, 0, StorageBackend::kToEnd, [&](std::span<const std::byte> c) {
      write_status = (*writer)->Append(c);
      result.bytes_written += c.size();
      return write_status;
    });
  }
  if (!write_status.ok()) {
    (*writer)->Abort();
    result.status = write_status.WithContext(target);
    result.target_failed = true;
    return result;
  }
  if (!read.ok()) {
    (*writer)->Abort();
    result.status = read.WithContext("site " + from.id());
    return result;
  }
  Status commit;
  if (blob) {
    // A blob found there meanwhile (a concurrent copy) is read back by CommitBlob.
    Result<Site::BlobCommitResult> committed = to.CommitBlob(**writer, item.sha256, item.size);
    commit = committed.status();
    if (committed.ok() && committed->how == Site::BlobCommit::kVerified) return result;
  } else {
    commit = (*writer)->Commit(item.key);
  }
  if (commit.IsCorruption()) {
    // The source's bytes do not hash to the digest: that copy is bad.
    result.status = commit.WithContext("site " + from.id() + " (copy of " + item.name + ")");
    return result;
  }
  if (!commit.ok()) {
    result.status = at_target(commit);
    result.target_failed = true;
    return result;
  }
  // Read back from the target: done by the writer before the rename when it
  // could (the posix kernel copy), else here after the commit.
  if ((*writer)->VerifiedByReadBack()) return result;
  Status v = Verify(to, item);
  if (!v.ok()) {
    result.status = v.WithContext(target);
    result.target_failed = true;
  }
  return result;
}

}  // namespace cairn::repo::replicate_internal
