// StorageBackend convenience methods, key validation and the URL scheme table.
#include "repo/storage/backend.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <set>
#include <vector>

#include "bagit/fd_io.h"
#include "repo/key_rule.h"
#include "repo/storage/backends.h"
#include "repo/test_hooks.h"

namespace cairn::repo {
namespace {

using Factory = Result<std::unique_ptr<StorageBackend>> (*)(std::string_view url);

struct Scheme {
  std::string_view prefix;
  Factory open;
};

// The one table of storage schemes. A new backend adds one line here.
constexpr std::array<Scheme, 3> kSchemes = {{
    {"file://", &OpenPosixBackend},
    {"mem://", &OpenMemoryBackend},
    {"s3://", &OpenS3Backend},
}};

}  // namespace

Status StorageBackend::Put(std::string_view key, std::string_view bytes,
                           const PutOptions& options) {
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<BlobWriter> writer, NewWriter(options));
  Status status = writer->Append(std::as_bytes(std::span<const char>(bytes.data(), bytes.size())));
  if (status.ok()) status = writer->Commit(key);
  if (!status.ok()) writer->Abort();
  return status;
}

Status CheckKeyHint(const PutOptions& options, std::string_view key) {
  if (options.key_hint.empty() || options.key_hint == key) return Status::OK();
  return Status::InvalidArgument("commit to '" + std::string(key) +
                                 "' by a writer opened for key '" + options.key_hint + "'");
}

Status StorageBackend::ListAfter(std::string_view prefix, std::string_view start_after,
                                 const std::function<Status(const ObjectInfo&)>& fn) {
  return List(prefix, [&](const ObjectInfo& info) {
    return info.key > start_after ? fn(info) : Status::OK();
  });
}

Status StorageBackend::ListTopLevel(const std::function<Status(const ObjectInfo&)>& fn) {
  std::set<std::string> folders;
  return List("", [&](const ObjectInfo& info) {
    const size_t slash = info.key.find('/');
    if (slash == std::string::npos) return fn(info);
    std::string folder = info.key.substr(0, slash + 1);
    if (!folders.insert(folder).second) return Status::OK();
    return fn(ObjectInfo{std::move(folder), 0});
  });
}

Status StorageBackend::Probe() {
  Status status = Stat("CAIRN-SITE").status();
  return status.IsNotFound() ? Status::OK() : status;
}

Status StorageBackend::ExtendRetention(std::string_view) { return Status::OK(); }

Result<std::string> StorageBackend::MakeRoomFor(std::string_view) { return std::string(); }

Result<bool> StorageBackend::RemoveEmptyFolder(std::string_view prefix) {
  // A prefix is no folder here, but a bad one is refused as every backend refuses a bad key.
  if (prefix.ends_with('/')) prefix.remove_suffix(1);
  CAIRN_RETURN_IF_ERROR(ValidateKey(prefix));
  return false;
}

Result<Erasure> StorageBackend::RemoveEveryVersion(std::string_view key) {
  CAIRN_RETURN_IF_ERROR(Remove(key));
  return Erasure{};
}

Result<std::string> StorageBackend::ReadAll(std::string_view key) {
  std::string out;
  Status status = Read(key, 0, kToEnd, [&out](std::span<const std::byte> chunk) {
    out.append(reinterpret_cast<const char*>(chunk.data()), chunk.size());
    return Status::OK();
  });
  if (!status.ok()) return status;
  return out;
}

Result<std::unique_ptr<StorageBackend>> OpenBackend(std::string_view url) {
  for (const Scheme& scheme : kSchemes) {
    if (url.substr(0, scheme.prefix.size()) != scheme.prefix) continue;
    Result<std::unique_ptr<StorageBackend>> backend = scheme.open(url);
    if (!backend.ok()) return backend;
    return test_hooks::WrapBackend(url, std::move(backend).value());
  }
  // Print only the scheme part: the rest of an unknown URL might hold a secret.
  std::string_view shown = url.substr(0, url.find(':'));
  return Status::InvalidArgument("storage URL with unknown scheme '" + std::string(shown) +
                                 "': expected file://, mem:// or s3://");
}

Status BlobWriter::AppendFromFile(int fd, uint64_t offset, uint64_t length) {
  std::vector<std::byte> buffer(std::min<uint64_t>(length, 1 << 20));
  while (length > 0) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(length, buffer.size()));
    ssize_t n = PreadSome(fd, std::span(buffer).first(want), offset);
    if (n < 0) return Status::FromErrno(errno, "read", "fd " + std::to_string(fd));
    if (n == 0) return Status::InvalidArgument("file ends before the bytes to copy");
    CAIRN_RETURN_IF_ERROR(
        Append(std::span<const std::byte>(buffer.data(), static_cast<size_t>(n))));
    offset += static_cast<uint64_t>(n);
    length -= static_cast<uint64_t>(n);
  }
  return Status::OK();
}

Status BlobWriter::PrepareCommit(std::string_view, CommitBarrier&) { return Status::OK(); }

Status BlobWriter::CommitPrepared(std::string_view key, CommitBarrier&) { return Commit(key); }

std::unique_ptr<CommitBarrier> StorageBackend::NewCommitBarrier() {
  return std::make_unique<CommitBarrier>();
}

Result<bagit::Digests> BlobWriter::DigestAppended(bagit::AlgorithmSet) {
  return Status::NotSupported("this storage cannot read a blob back before it is committed");
}

Status BlobWriter::CheckAppended(std::string_view sha256_hex) {
  CAIRN_ASSIGN_OR_RETURN(bagit::Digests digests, DigestAppended({}));
  return AppendedSha256Is("the bytes read back", digests[bagit::Algorithm::kSha256], sha256_hex);
}

Status AppendedSha256Is(std::string_view what, std::string_view actual,
                        std::string_view sha256_hex) {
  if (actual == sha256_hex) return Status::OK();
  return Status::Corruption(std::string(what) + ": the bytes' SHA-256 is " + std::string(actual) +
                            ", not " + std::string(sha256_hex));
}

Result<int> StorageBackend::OpenForCopy(std::string_view key) {
  return Status::NotSupported("no local file for " + std::string(key) + " on " + DisplayUrl() +
                              ": this storage does not claim open_for_copy");
}

}  // namespace cairn::repo
