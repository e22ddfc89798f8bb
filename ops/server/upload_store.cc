#include "ops/server/upload_store.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "bagit/digest.h"
#include "bagit/mapped_read.h"
#include "repo/crash_point.h"
#include "repo/site/repository_layout.h"

namespace cairn::server {
namespace {

namespace fs = std::filesystem;

constexpr char kStateFile[] = "state.json";
// Uploads ended for good whose end is remembered (UploadStore::discarded_): the oldest is
// forgotten first past this many, so that a client making and refusing uploads without end
// cannot grow the server's memory.
constexpr size_t kMaxDiscarded = 4096;

std::string ExtensionFor(const std::string& content_type) {
  if (content_type == "application/gzip") return ".tar.gz";
  if (content_type == "application/zip") return ".zip";
  return ".tar";
}

bool IsHex64(const std::string& s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// Makes the entries of folder `dir` (a new file, a rename) durable.
Status SyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno(errno, "open", dir);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return Status::FromErrno(err, "fsync", dir);
  return Status::OK();
}

Status WriteAll(int fd, const std::string& text, const std::string& path) {
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::FromErrno(errno, "write", path);
    done += static_cast<size_t>(n);
  }
  return Status::OK();
}

// SHA-256 (hex) of `bytes` bytes of `path` from `offset`, as the file holds them now (read
// through a memory map: no copy into this process).
Result<std::string> HashRange(const std::string& path, uint64_t offset, uint64_t bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno(errno, "open", path);
  bagit::MultiHasher hasher(bagit::Only(bagit::Algorithm::kSha256));
  struct stat st;
  bool whole = ::fstat(fd, &st) == 0 && static_cast<uint64_t>(st.st_size) >= offset + bytes;
  bagit::MappedRead read = !whole ? bagit::MappedRead::kFailed
                                  : bagit::ReadMappedRange(fd, offset, bytes, bagit::kReadChunk,
                                                           [&](std::span<const std::byte> chunk) {
                                                             hasher.Update(chunk);
                                                             return true;
                                                           });
  ::close(fd);
  if (read != bagit::MappedRead::kDone) {
    return Status::IOError("read " + path + ": " + std::to_string(bytes) + " bytes at " +
                           std::to_string(offset) + " are not all there");
  }
  return hasher.Finish()[bagit::Algorithm::kSha256];
}

// Frees the range of a refused part: nothing of it stays in the archive file. (A file system
// without hole punching keeps the bytes, which no recorded part covers and the next sender of
// the part overwrites.)
void Forget(const std::string& path, uint64_t offset, uint64_t bytes) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return;
  (void)::fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset),
                    static_cast<off_t>(bytes));
  ::close(fd);
}

}  // namespace

bool IsUploadId(const std::string& text) {
  return text.size() == 32 && text.find_first_not_of("0123456789abcdef") == std::string::npos;
}

nlohmann::json Upload::ToJson() const {
  nlohmann::json doc;
  doc["id"] = id;
  doc["principal"] = principal;
  doc["partner"] = partner;
  doc["object"] = object;
  doc["content_type"] = content_type;
  doc["size"] = size ? nlohmann::json(*size) : nlohmann::json(nullptr);
  doc["resume_key"] = resume_key;
  doc["part_size"] = part_size;
  doc["created_micros"] = created_micros;
  doc["updated_micros"] = updated_micros;
  doc["phase"] = phase;
  doc["parts"] = nlohmann::json::array();
  for (const UploadPart& p : parts) {
    doc["parts"].push_back({{"n", p.n}, {"size", p.size}, {"sha256", p.sha256}});
  }
  if (phase == "completed") {
    doc["answer_status"] = answer_status;
    doc["answer"] = answer;
  }
  return doc;
}

Result<Upload> Upload::FromJson(const nlohmann::json& doc) {
  try {
    Upload u;
    u.id = doc.at("id").get<std::string>();
    u.principal = doc.at("principal").get<std::string>();
    u.partner = doc.at("partner").get<std::string>();
    u.object = doc.at("object").get<std::string>();
    u.content_type = doc.at("content_type").get<std::string>();
    if (!doc.at("size").is_null()) u.size = doc.at("size").get<uint64_t>();
    u.resume_key = doc.at("resume_key").get<std::string>();
    u.part_size = doc.at("part_size").get<uint64_t>();
    u.created_micros = doc.at("created_micros").get<int64_t>();
    u.updated_micros = doc.at("updated_micros").get<int64_t>();
    u.phase = doc.at("phase").get<std::string>();
    for (const nlohmann::json& p : doc.at("parts")) {
      u.parts.push_back({p.at("n").get<uint32_t>(), p.at("size").get<uint64_t>(),
                         p.at("sha256").get<std::string>()});
    }
    if (u.phase == "completed") {
      u.answer_status = doc.at("answer_status").get<int>();
      u.answer = doc.at("answer").get<std::string>();
    }
    if (!IsUploadId(u.id) || u.part_size == 0) return Status::Corruption("bad upload state");
    return u;
  } catch (const std::exception& e) {
    return Status::Corruption(std::string("bad upload state: ") + e.what());
  }
}

UploadStore::UploadStore(std::string repo_root, UploadOptions options)
    : root_(std::move(repo_root)), options_(std::move(options)) {}

UploadStore::~UploadStore() {
  {
    std::lock_guard<std::mutex> lock(sweep_mu_);
    stopping_ = true;
  }
  sweep_cv_.notify_all();
  if (sweeper_.joinable()) sweeper_.join();
}

int64_t UploadStore::Now() const {
  if (options_.now) return options_.now();
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string UploadStore::Dir() const { return repo::repo_layout::UploadsDir(root_); }

std::string UploadStore::UploadDir(const std::string& id) const { return Dir() + "/" + id; }

std::string UploadStore::ArchivePath(const Upload& u) const {
  return UploadDir(u.id) + "/bag" + ExtensionFor(u.content_type);
}

Result<Upload> UploadStore::Load(const std::string& id) const {
  const std::string path = UploadDir(id) + "/" + kStateFile;
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("no upload " + id);
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json doc = nlohmann::json::parse(text.str(), nullptr, false);
  if (doc.is_discarded()) return Status::Corruption(path + " is not JSON");
  return Upload::FromJson(doc);
}

Status UploadStore::Save(const Upload& u) const {
  const std::string dir = UploadDir(u.id);
  const std::string path = dir + "/" + kStateFile, fresh = path + ".new";
  int fd = ::open(fresh.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::FromErrno(errno, "open", fresh);
  Status written = WriteAll(fd, u.ToJson().dump() + "\n", fresh);
  if (written.ok() && ::fsync(fd) != 0) written = Status::FromErrno(errno, "fsync", fresh);
  ::close(fd);
  CAIRN_RETURN_IF_ERROR(written);
  if (::rename(fresh.c_str(), path.c_str()) != 0) return Status::FromErrno(errno, "rename", fresh);
  return SyncDir(dir);
}

Result<Upload> UploadStore::LoadOwned(const repo::Principal& who, const std::string& id) const {
  // The same answer whether the upload is missing or another's: nothing is revealed.
  Status missing = Status::NotFound("no upload " + id);
  if (!IsUploadId(id)) return missing;
  if (auto it = discarded_.find(id); it != discarded_.end()) {
    const Discarded& d = it->second;
    if (d.principal != who.name || (!who.partner.empty() && d.partner != who.partner)) {
      return missing;
    }
    return d.why;
  }
  Result<Upload> u = Load(id);
  if (!u.ok()) return missing;
  if (u->principal != who.name || (!who.partner.empty() && u->partner != who.partner)) {
    return missing;
  }
  return u;
}

Status UploadStore::RemoveDir(const std::string& id) const {
  std::error_code ec;
  fs::remove_all(UploadDir(id), ec);
  if (ec) return Status::IOError("cannot remove upload " + id + ": " + ec.message());
  return Status::OK();
}

bool UploadStore::Arriving(const std::string& id) const {
  auto it = writing_.lower_bound({id, 0});
  return it != writing_.end() && it->first == id;
}

void UploadStore::Discard(const Upload& u, Status why) {
  if (discarded_.size() >= kMaxDiscarded && !discarded_.contains(u.id)) {
    auto oldest = std::min_element(
        discarded_.begin(), discarded_.end(),
        [](const auto& a, const auto& b) { return a.second.micros < b.second.micros; });
    discarded_.erase(oldest);
  }
  discarded_[u.id] = Discarded{u.principal, u.partner, std::move(why), Now()};
  if (!Arriving(u.id)) (void)RemoveDir(u.id);
}

Result<Upload> UploadStore::Begin(const repo::Principal& who, const std::string& partner,
                                  const std::string& object, const std::string& content_type,
                                  std::optional<uint64_t> size, uint64_t size_at_least,
                                  const std::string& resume_key, bool* created) {
  if (content_type != "application/x-tar" && content_type != "application/gzip" &&
      content_type != "application/zip") {
    return Status::InvalidArgument(
        "content_type must be application/x-tar, application/gzip or application/zip");
  }
  if (resume_key.size() > 128 ||
      std::any_of(resume_key.begin(), resume_key.end(),
                  [](unsigned char c) { return c < 0x21 || c > 0x7e; })) {
    return Status::InvalidArgument("resume_key must be at most 128 printable ASCII characters");
  }
  if (size && *size > options_.max_upload_bytes) {
    return UploadTooLarge(*size, false, options_.max_upload_bytes);
  }
  if (size_at_least > options_.max_upload_bytes) {
    return UploadTooLarge(size_at_least, true, options_.max_upload_bytes);
  }
  std::lock_guard<std::mutex> lock(mu_);
  std::error_code ec;
  fs::create_directories(Dir(), ec);
  if (ec) return Status::IOError("cannot make " + Dir() + ": " + ec.message());
  if (!resume_key.empty()) {
    for (const fs::directory_entry& e : fs::directory_iterator(Dir(), ec)) {
      const std::string id = e.path().filename().string();
      if (discarded_.contains(id)) continue;  // its folder waits for a part still arriving
      Result<Upload> u = Load(id);
      if (!u.ok() || u->principal != who.name || u->partner != partner || u->object != object ||
          u->resume_key != resume_key || u->content_type != content_type || u->size != size) {
        continue;
      }
      if (u->phase != "completed") {
        u->updated_micros = Now();  // asked for again: not idle
        CAIRN_RETURN_IF_ERROR(Save(*u));
      }
      *created = false;
      return u;
    }
  }
  Upload u;
  unsigned char raw[16];
  if (RAND_bytes(raw, sizeof raw) != 1) return Status::Unavailable("no random bytes for an id");
  static const char* kHex = "0123456789abcdef";
  for (unsigned char c : raw) {
    u.id.push_back(kHex[c >> 4]);
    u.id.push_back(kHex[c & 15]);
  }
  u.principal = who.name;
  u.partner = partner;
  u.object = object;
  u.content_type = content_type;
  u.size = size;
  u.resume_key = resume_key;
  u.part_size = options_.part_size;
  u.created_micros = u.updated_micros = Now();
  const std::string dir = UploadDir(u.id);
  if (::mkdir(dir.c_str(), 0700) != 0) return Status::FromErrno(errno, "mkdir", dir);
  const std::string archive = ArchivePath(u);
  int fd = ::open(archive.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Status::FromErrno(errno, "create", archive);
  ::close(fd);
  CAIRN_RETURN_IF_ERROR(Save(u));
  CAIRN_RETURN_IF_ERROR(SyncDir(Dir()));
  *created = true;
  return u;
}

Result<Upload> UploadStore::Get(const repo::Principal& who, const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  return LoadOwned(who, id);
}

Result<UploadStore::PartTarget> UploadStore::PartTargetFor(const repo::Principal& who,
                                                           const std::string& id, uint32_t n,
                                                           std::optional<uint64_t> length) {
  std::lock_guard<std::mutex> lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(Upload u, LoadOwned(who, id));
  if (u.phase != "open") {
    return Status::AlreadyExists("upload " + id + " is " + u.phase + ": it takes no more parts");
  }
  const uint64_t offset = uint64_t{n - 1} * u.part_size;
  // The least the upload is once this part is in: its end, when its length is known.
  const uint64_t end = offset + (length ? *length : 1);
  if (n >= 1 && !u.size && end > options_.max_upload_bytes) {
    // Past the limit, the upload can only be refused: removed, so that no part of it stays
    // behind (a part still arriving on another connection is told why when it is recorded).
    Status refused = UploadTooLarge(end, true, options_.max_upload_bytes);
    Discard(u, Status::InvalidArgument("upload " + id + " was refused: " + refused.message()));
    return refused;
  }
  const uint64_t most =
      u.size ? std::max<uint64_t>(1, (*u.size + u.part_size - 1) / u.part_size) : n;
  if (n < 1 || n > most) {
    return Status::InvalidArgument("part " + std::to_string(n) + " of upload " + id +
                                   ": parts are numbered 1 to " + std::to_string(most));
  }
  for (const UploadPart& p : u.parts) {
    if (p.n == n) {
      return Status::AlreadyExists("part " + std::to_string(n) + " of upload " + id +
                                   " was received already (sha256 " + p.sha256 + ")");
    }
  }
  if (!writing_.insert({id, n}).second) {
    return Status::AlreadyExists("part " + std::to_string(n) + " of upload " + id +
                                 " is arriving on another connection");
  }
  return PartTarget{ArchivePath(u), offset, u.part_size};
}

void UploadStore::ReleasePart(const std::string& id, uint32_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  writing_.erase({id, n});
  if (discarded_.contains(id) && !Arriving(id)) (void)RemoveDir(id);
}

Result<UploadPart> UploadStore::RecordPart(const repo::Principal& who, const std::string& id,
                                           uint32_t n, uint64_t bytes, const std::string& sha256) {
  repo::CrashPoint(
      "upload.part-received");  // its bytes in, not recorded: the client's rerun sends it
  Upload u;
  {
    std::lock_guard<std::mutex> lock(mu_);
    CAIRN_ASSIGN_OR_RETURN(u, LoadOwned(who, id));
  }
  const std::string archive = ArchivePath(u);
  const uint64_t offset = uint64_t{n - 1} * u.part_size;
  const std::string what = "part " + std::to_string(n) + " of upload " + id;
  std::optional<uint64_t> want;
  if (u.size) {
    uint64_t last = std::max<uint64_t>(1, (*u.size + u.part_size - 1) / u.part_size);
    want = n < last ? u.part_size : *u.size - (last - 1) * u.part_size;
  }
  if (!u.size && offset + bytes > options_.max_upload_bytes) {
    Forget(archive, offset, bytes);
    std::lock_guard<std::mutex> lock(mu_);
    Status refused = UploadTooLarge(offset + bytes, true, options_.max_upload_bytes);
    Discard(u, Status::InvalidArgument("upload " + id + " was refused: " + refused.message()));
    return refused;
  }
  if (bytes == 0 || (want && bytes != *want)) {
    Forget(archive, offset, bytes);
    return Status::InvalidArgument(what + " is " + std::to_string(bytes) + " bytes; expected " +
                                   (want ? std::to_string(*want) : std::string("at least 1")) +
                                   "; the part is not kept");
  }
  CAIRN_ASSIGN_OR_RETURN(std::string got, HashRange(archive, offset, bytes));
  if (got != sha256) {
    Forget(archive, offset, bytes);
    return Status::InvalidArgument(what + ": the body's SHA-256 is " + got +
                                   ", the X-Content-SHA256 header says " + sha256 +
                                   "; the part is not kept (send it again)");
  }
  int fd = ::open(archive.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno(errno, "open", archive);
  int rc = ::fdatasync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return Status::FromErrno(err, "fdatasync", archive);
  std::lock_guard<std::mutex> lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(u, LoadOwned(who, id));  // again: it may have gone meanwhile
  if (u.phase != "open") return Status::AlreadyExists("upload " + id + " is " + u.phase);
  UploadPart part{n, bytes, got};
  u.parts.erase(
      std::remove_if(u.parts.begin(), u.parts.end(), [n](const UploadPart& p) { return p.n == n; }),
      u.parts.end());
  u.parts.push_back(part);
  std::sort(u.parts.begin(), u.parts.end(),
            [](const UploadPart& a, const UploadPart& b) { return a.n < b.n; });
  u.updated_micros = Now();
  CAIRN_RETURN_IF_ERROR(Save(u));
  return part;
}

Result<ApiResponse> UploadStore::Complete(const repo::Principal& who, const std::string& id,
                                          const std::string& request_id, const DepositFn& deposit,
                                          const FindFn& find) {
  Upload u;
  bool resumed = false;  // an earlier completion was cut short (the server died)
  uint64_t total = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    CAIRN_ASSIGN_OR_RETURN(u, LoadOwned(who, id));
    if (u.phase == "completed") {
      ApiResponse answer = JsonResponse(u.answer);
      answer.status = u.answer_status;
      return answer;
    }
    if (busy_.contains(id)) {
      return Status::AlreadyExists("upload " + id + " is being completed by another request")
          .SetRetryable(true);
    }
    for (const auto& [upload, n] : writing_) {
      if (upload == id) {
        return Status::AlreadyExists("part " + std::to_string(n) + " of upload " + id +
                                     " is still arriving")
            .SetRetryable(true);
      }
    }
    std::vector<uint32_t> missing;
    uint32_t last = u.parts.empty() ? 0 : u.parts.back().n;
    if (u.size)
      last =
          static_cast<uint32_t>(std::max<uint64_t>(1, (*u.size + u.part_size - 1) / u.part_size));
    size_t at = 0;
    for (uint32_t n = 1; n <= last; ++n) {
      if (at < u.parts.size() && u.parts[at].n == n) {
        const UploadPart& p = u.parts[at++];
        if (n < last && p.size != u.part_size) {
          return Status::InvalidArgument(
              "part " + std::to_string(n) + " of upload " + id + " is " + std::to_string(p.size) +
              " bytes: every part but the last must be " + std::to_string(u.part_size));
        }
        total += p.size;
      } else {
        missing.push_back(n);
      }
    }
    if (last == 0) return Status::InvalidArgument("upload " + id + " has no parts yet");
    if (!missing.empty()) {
      std::string list;
      for (size_t i = 0; i < missing.size() && i < 10; ++i) {
        list += (i ? ", " : "") + std::to_string(missing[i]);
      }
      if (missing.size() > 10) list += ", ...";
      return Status::InvalidArgument("upload " + id + " lacks parts " + list);
    }
    resumed = u.phase == "completing";
    u.phase = "completing";
    u.updated_micros = Now();
    CAIRN_RETURN_IF_ERROR(Save(u));
    busy_.insert(id);
  }
  const std::string archive = ArchivePath(u);
  auto settle = [&](Result<ApiResponse> answer) -> Result<ApiResponse> {
    std::lock_guard<std::mutex> lock(mu_);
    busy_.erase(id);
    if (!answer.ok()) {
      u.phase = "open";  // the deposit did not run: completing again may
      (void)Save(u);
      return answer;
    }
    if (answer->status == 201) {
      u.phase = "completed";
      u.answer_status = answer->status;
      u.answer = answer->body;
      u.updated_micros = Now();
      CAIRN_RETURN_IF_ERROR(Save(u));
      ::unlink(archive.c_str());
    } else {
      (void)RemoveDir(id);  // refused: nothing to resume
    }
    return answer;
  };
  // Parts past the last one may have left bytes beyond the archive's end (a refused part).
  if (::truncate(archive.c_str(), static_cast<off_t>(total)) != 0) {
    return settle(Status::FromErrno(errno, "truncate", archive));
  }
  repo::CrashPoint("upload.completing");
  if (resumed) {
    Result<std::optional<ApiResponse>> found = find(u, archive);
    if (!found.ok()) return settle(found.status());
    if (*found) return settle(std::move(**found));
  }
  Result<ApiResponse> answer = deposit(u, archive, request_id);
  repo::CrashPoint("upload.deposited");
  return settle(std::move(answer));
}

Status UploadStore::Remove(const repo::Principal& who, const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(Upload u, LoadOwned(who, id));
  if (busy_.contains(id)) {
    return Status::AlreadyExists("upload " + id + " is being completed: it cannot be abandoned");
  }
  if (!Arriving(id)) CAIRN_RETURN_IF_ERROR(RemoveDir(id));
  Discard(u, Status::NotFound("upload " + id + " was abandoned"));
  return Status::OK();
}

Result<size_t> UploadStore::Sweep() {
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t now = Now();
  std::erase_if(discarded_, [&](const auto& d) {
    return now - d.second.micros > options_.expiry_micros && !Arriving(d.first);
  });
  std::error_code ec;
  if (!fs::exists(Dir(), ec)) return size_t{0};
  size_t removed = 0;
  std::vector<std::string> ids;
  for (const fs::directory_entry& e : fs::directory_iterator(Dir(), ec)) {
    ids.push_back(e.path().filename().string());
  }
  for (const std::string& id : ids) {
    if (busy_.contains(id)) continue;
    bool arriving = false;
    for (const auto& [upload, n] : writing_) arriving = arriving || upload == id;
    if (arriving) continue;
    int64_t last = 0;
    Result<Upload> u = Load(id);
    if (u.ok()) {
      last = u->updated_micros;
    } else {
      // Debris (an upload whose state was never written, a stray file): by its own age.
      struct stat st;
      if (::stat(UploadDir(id).c_str(), &st) != 0) continue;
      last = int64_t{st.st_mtime} * 1000000;
    }
    if (now - last <= options_.expiry_micros) continue;
    if (RemoveDir(id).ok()) ++removed;
  }
  return removed;
}

void UploadStore::StartSweeper() {
  auto period = std::chrono::microseconds(
      std::clamp<int64_t>(options_.expiry_micros / 2, 200000, int64_t{600} * 1000000));
  sweeper_ = std::thread([this, period] {
    std::unique_lock<std::mutex> lock(sweep_mu_);
    while (!stopping_) {
      lock.unlock();
      (void)Sweep();
      lock.lock();
      sweep_cv_.wait_for(lock, period, [this] { return stopping_; });
    }
  });
}

}  // namespace cairn::server
