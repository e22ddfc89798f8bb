// StorageBackend convenience methods, key validation and the URL scheme table.
#include "repo/storage/backend.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <vector>

#include "bagit/fd_io.h"
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

constexpr size_t kMaxKeyLength = 1024;

Status BadKey(std::string_view key, std::string_view rule) {
  return Status::InvalidArgument("storage key '" + std::string(key) + "': " + std::string(rule));
}

}  // namespace

Status ValidateKey(std::string_view key) {
  if (key.empty()) return BadKey(key, "is empty");
  if (key.size() > kMaxKeyLength) return BadKey(key.substr(0, 64), "is longer than 1024 bytes");
  if (key.front() == '/') return BadKey(key, "must be relative (starts with '/')");
  if (key.back() == '/') return BadKey(key, "must not end with '/'");
  for (char c : key) {
    if (c == '\\') return BadKey(key, "contains a backslash");
    if (c == '\0') return BadKey(key, "contains a NUL byte");
  }
  size_t start = 0;
  bool first = true;
  while (start <= key.size()) {
    size_t end = key.find('/', start);
    if (end == std::string_view::npos) end = key.size();
    std::string_view segment = key.substr(start, end - start);
    if (segment.empty()) return BadKey(key, "has an empty segment ('//')");
    if (segment == "." || segment == "..") return BadKey(key, "has a '.' or '..' segment");
    if (first && segment == "tmp") return BadKey(key, "'tmp/' is reserved for temp files");
    first = false;
    start = end + 1;
  }
  return Status::OK();
}

Status ValidatePrefix(std::string_view prefix) {
  if (prefix.empty()) return Status::OK();
  if (prefix.back() == '/') prefix.remove_suffix(1);
  return ValidateKey(prefix);
}

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

Status StorageBackend::Probe() {
  Status status = Stat("CAIRN-SITE").status();
  return status.IsNotFound() ? Status::OK() : status;
}

Status StorageBackend::ExtendRetention(std::string_view) { return Status::OK(); }

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

Result<bagit::Digests> BlobWriter::DigestAppended(bagit::AlgorithmSet) {
  return Status::NotSupported("this storage cannot read a blob back before it is committed");
}

Result<int> StorageBackend::OpenForCopy(std::string_view key) {
  return Status::NotSupported("no local file for " + std::string(key) + " on " + DisplayUrl() +
                              ": this storage does not claim open_for_copy");
}

}  // namespace cairn::repo
