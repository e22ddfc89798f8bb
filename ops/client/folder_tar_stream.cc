// The one file of ops/client/ that calls libarchive (and walks a folder with std::filesystem,
// error_code overloads only: nothing throws out of here).
#include "ops/client/folder_tar_stream.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <set>
#include <vector>

#include "bagit/archive_locale.h"

namespace cairn::client {

namespace fs = std::filesystem;

// Bytes read from a member's file per step; the buffer holds about one of these at a time.
constexpr size_t kChunk = 64 * 1024;

struct FolderTarStream::Walk {
  fs::path root;
  std::string top;
  fs::recursive_directory_iterator it, end;
  // A bag folder sent as is: its top-level files (bagit.txt first, then the other tag files, by
  // name) go before data/, so that the server knows the manifests before the payload arrives
  // and hashes each payload file with the manifests' algorithms only (after the payload it
  // would have to hash with all six). The recursive walk then skips them.
  std::vector<fs::directory_entry> front;
  size_t front_at = 0;
  std::set<fs::path> front_names;
  archive_entry* entry = archive_entry_new();
  // Every member's mtime: the folder's own, so that the same folder makes the same tar bytes
  // again (a resumed upload re-hashes the parts the server holds and must find them equal).
  time_t mtime = 0;
  ~Walk() { archive_entry_free(entry); }
};

struct FolderTarStream::Bagging {
  bagit::CreateOptions options;
  std::vector<bagit::Algorithm> algorithms;
  bagit::MultiHasher hasher;
  std::vector<std::string> manifests;  // one per algorithm, in `algorithms` order
  uint64_t files = 0, bytes = 0;
  bool tags_written = false;
  explicit Bagging(const bagit::CreateOptions& o)
      : options(o),
        algorithms(bagit::BagAlgorithms(o.algorithms)),
        hasher([this] {
          bagit::AlgorithmSet set;
          for (bagit::Algorithm a : algorithms) set |= bagit::Only(a);
          return set;
        }()),
        manifests(algorithms.size()) {}
};

// libarchive's write callback: the tar bytes go to the stream's buffer.
long AppendTar(::archive*, void* self, const void* data, size_t size) {
  auto* stream = static_cast<FolderTarStream*>(self);
  stream->buffer_.append(static_cast<const char*>(data), size);
  stream->max_buffered_ =
      std::max(stream->max_buffered_, stream->buffer_.size() - stream->buffer_at_);
  return static_cast<long>(size);
}

Result<std::unique_ptr<FolderTarStream>> FolderTarStream::Open(const std::string& folder,
                                                               const std::string& top,
                                                               const BagOnTheFly* bag) {
  std::error_code ec;
  if (!fs::is_directory(fs::symlink_status(folder, ec))) {
    return Status::InvalidArgument(folder + " is not a folder");
  }
  std::unique_ptr<FolderTarStream> stream(new FolderTarStream());
  stream->walk_ = std::make_unique<Walk>();
  Walk& w = *stream->walk_;
  w.root = fs::path(folder).lexically_normal();
  if (w.root.has_filename() == false) w.root = w.root.parent_path();
  w.top = top.empty() ? w.root.filename().string() : top;
  struct stat root_stat;
  if (::stat(w.root.c_str(), &root_stat) == 0) w.mtime = root_stat.st_mtime;
  if (bag != nullptr) {
    // A bad bag-info field is refused now, before a byte is sent.
    CAIRN_RETURN_IF_ERROR(bagit::BagInfoTxt(bag->options, 0, 0).status());
    stream->bag_ = std::make_unique<Bagging>(bag->options);
  }
  if (bag == nullptr) {
    for (fs::directory_iterator it(w.root, ec), end; !ec && it != end; it.increment(ec)) {
      if (it->is_regular_file(ec) && !it->is_symlink(ec)) w.front.push_back(*it);
    }
    if (ec) return Status::InvalidArgument("cannot read folder " + folder + ": " + ec.message());
    std::sort(w.front.begin(), w.front.end(), [](const auto& a, const auto& b) {
      bool a_bagit = a.path().filename() == "bagit.txt";
      bool b_bagit = b.path().filename() == "bagit.txt";
      if (a_bagit != b_bagit) return a_bagit;
      return a.path().filename() < b.path().filename();
    });
    for (const fs::directory_entry& f : w.front) w.front_names.insert(f.path());
  }
  w.it = fs::recursive_directory_iterator(w.root, ec);
  if (ec) return Status::InvalidArgument("cannot read folder " + folder + ": " + ec.message());
  ::archive* a = archive_write_new();
  stream->archive_ = a;
  int rc = archive_write_set_format_pax_restricted(a);
  if (rc == ARCHIVE_OK) rc = archive_write_set_bytes_per_block(a, 10240);
  if (rc == ARCHIVE_OK) rc = archive_write_set_bytes_in_last_block(a, 1);
  if (rc == ARCHIVE_OK) {
    rc = archive_write_open2(a, stream.get(), nullptr, AppendTar, nullptr, nullptr);
  }
  if (rc != ARCHIVE_OK) return Status::IOError("libarchive: cannot start a tar");
  return stream;
}

FolderTarStream::~FolderTarStream() {
  if (fd_ >= 0) ::close(fd_);
  if (archive_ != nullptr) {
    if (!closed_) archive_write_fail(archive_);
    archive_write_free(archive_);
  }
}

void FolderTarStream::Failed() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (archive_ != nullptr && !closed_) archive_write_fail(archive_);
  closed_ = true;
}

Status FolderTarStream::NextMember() {
  Walk& w = *walk_;
  std::error_code ec;
  fs::directory_entry entry;
  if (w.front_at < w.front.size()) {
    entry = w.front[w.front_at++];
  } else {
    for (;;) {
      if (w.it == w.end) {
        if (bag_ && member_name_.empty() && !bag_->tags_written) {
          // A folder with nothing in it: its bag's payload folder, empty, as a local deposit
          // makes it (without it the bag would lack data/, bag.data-missing).
          member_name_ = ".";
          return AppendEmptyPayloadFolder();
        }
        if (bag_ && !bag_->tags_written) return AppendTagFiles();
        if (archive_write_close(archive_) != ARCHIVE_OK) {
          return Status::IOError("libarchive: close");
        }
        closed_ = true;
        return Status::OK();
      }
      entry = *w.it;
      bool sent_first = w.it.depth() == 0 && w.front_names.contains(entry.path());
      w.it.increment(ec);
      if (ec) return Status::IOError("cannot walk " + w.root.string() + ": " + ec.message());
      if (!sent_first) break;
    }
  }
  const std::string rel = entry.path().lexically_relative(w.root).generic_string();
  const std::string name = w.top + (bag_ ? "/data/" : "/") + rel;
  fs::file_status st = entry.symlink_status(ec);
  if (ec) return Status::IOError("cannot stat " + rel + ": " + ec.message());
  bagit::internal::ScopedUtf8Locale utf8;
  archive_entry_clear(w.entry);
  archive_entry_copy_pathname(w.entry, name.c_str());
  archive_entry_set_mtime(w.entry, w.mtime, 0);
  if (fs::is_directory(st)) {
    archive_entry_set_filetype(w.entry, AE_IFDIR);
    archive_entry_set_perm(w.entry, 0755);
  } else if (fs::is_regular_file(st)) {
    fd_ = ::open(entry.path().c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd_ < 0) return Status::FromErrno(errno, "open", rel);
    remaining_ = entry.file_size(ec);
    if (ec) return Status::IOError("cannot stat " + rel + ": " + ec.message());
    archive_entry_set_filetype(w.entry, AE_IFREG);
    archive_entry_set_perm(w.entry, 0644);
    archive_entry_set_size(w.entry, static_cast<la_int64_t>(remaining_));
  } else {
    return Status::InvalidArgument(rel + " is neither a file nor a folder (a link or a device)");
  }
  member_name_ = rel;
  if (archive_write_header(archive_, w.entry) < ARCHIVE_WARN) {
    return Status::IOError("libarchive: header of " + rel + ": " +
                           (archive_error_string(archive_) ? archive_error_string(archive_) : ""));
  }
  if (fd_ >= 0 && remaining_ == 0) {
    ::close(fd_);
    fd_ = -1;
    FileDone();
  }
  return Status::OK();
}

Status FolderTarStream::AppendEmptyPayloadFolder() {
  Walk& w = *walk_;
  bagit::internal::ScopedUtf8Locale utf8;
  archive_entry_clear(w.entry);
  archive_entry_copy_pathname(w.entry, (w.top + "/data/").c_str());
  archive_entry_set_mtime(w.entry, w.mtime, 0);
  archive_entry_set_filetype(w.entry, AE_IFDIR);
  archive_entry_set_perm(w.entry, 0755);
  if (archive_write_header(archive_, w.entry) < ARCHIVE_WARN) {
    return Status::IOError("libarchive: header of data/");
  }
  return Status::OK();
}

Status FolderTarStream::Step() {
  if (fd_ < 0) return NextMember();
  char chunk[kChunk];
  size_t want = static_cast<size_t>(std::min<uint64_t>(remaining_, sizeof chunk));
  ssize_t got = ::read(fd_, chunk, want);
  if (got < 0) {
    if (errno == EINTR) return Status::OK();
    return Status::FromErrno(errno, "read", member_name_);
  }
  if (got == 0) return Status::IOError(member_name_ + " shrank while it was sent");
  if (archive_write_data(archive_, chunk, static_cast<size_t>(got)) != got) {
    return Status::IOError("libarchive: data of " + member_name_);
  }
  if (bag_) bag_->hasher.Update(std::string_view(chunk, static_cast<size_t>(got)));
  remaining_ -= static_cast<uint64_t>(got);
  if (remaining_ == 0) {
    ::close(fd_);
    fd_ = -1;
    FileDone();
  }
  return Status::OK();
}

void FolderTarStream::FileDone() {
  if (!bag_) return;
  Bagging& b = *bag_;
  b.bytes += b.hasher.bytes();
  ++b.files;
  bagit::Digests digests = b.hasher.Finish();
  for (size_t i = 0; i < b.algorithms.size(); ++i) {
    b.manifests[i] += bagit::FormatManifestLine(digests[b.algorithms[i]], "data/" + member_name_);
  }
}

Status FolderTarStream::AppendMember(const std::string& name, const std::string& bytes) {
  Walk& w = *walk_;
  archive_entry_clear(w.entry);
  archive_entry_copy_pathname(w.entry, (w.top + "/" + name).c_str());
  archive_entry_set_mtime(w.entry, w.mtime, 0);
  archive_entry_set_filetype(w.entry, AE_IFREG);
  archive_entry_set_perm(w.entry, 0644);
  archive_entry_set_size(w.entry, static_cast<la_int64_t>(bytes.size()));
  if (archive_write_header(archive_, w.entry) < ARCHIVE_WARN ||
      archive_write_data(archive_, bytes.data(), bytes.size()) !=
          static_cast<la_ssize_t>(bytes.size())) {
    return Status::IOError("libarchive: cannot add " + name);
  }
  return Status::OK();
}

// After the last payload file: bagit.txt, bag-info.txt (Payload-Oxum of what was sent), a
// manifest per algorithm, then the tag manifests over those.
Status FolderTarStream::AppendTagFiles() {
  Bagging& b = *bag_;
  b.tags_written = true;
  std::vector<std::pair<std::string, std::string>> tags = {{"bagit.txt", bagit::BagitTxt()}};
  CAIRN_ASSIGN_OR_RETURN(std::string info, bagit::BagInfoTxt(b.options, b.files, b.bytes));
  tags.emplace_back("bag-info.txt", std::move(info));
  for (size_t i = 0; i < b.algorithms.size(); ++i) {
    tags.emplace_back("manifest-" + std::string(bagit::AlgorithmName(b.algorithms[i])) + ".txt",
                      std::move(b.manifests[i]));
  }
  for (const auto& [name, bytes] : tags) CAIRN_RETURN_IF_ERROR(AppendMember(name, bytes));
  for (bagit::Algorithm a : b.algorithms) {
    std::string tagmanifest;
    for (const auto& [name, bytes] : tags) {
      tagmanifest += bagit::FormatManifestLine(bagit::HashBytes(bytes, bagit::Only(a))[a], name);
    }
    CAIRN_RETURN_IF_ERROR(
        AppendMember("tagmanifest-" + std::string(bagit::AlgorithmName(a)) + ".txt", tagmanifest));
  }
  return Status::OK();
}

Result<size_t> FolderTarStream::Read(char* out, size_t size) {
  while (buffer_at_ == buffer_.size() && !closed_) {
    buffer_.clear();
    buffer_at_ = 0;
    Status s = Step();
    if (!s.ok()) {
      Failed();
      return s;
    }
  }
  size_t n = std::min(size, buffer_.size() - buffer_at_);
  std::memcpy(out, buffer_.data() + buffer_at_, n);
  buffer_at_ += n;
  return n;
}

}  // namespace cairn::client
