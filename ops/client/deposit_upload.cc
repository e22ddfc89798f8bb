#include "ops/client/deposit_upload.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <future>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <thread>

#include "bagit/digest.h"
#include "ops/client/folder_tar_stream.h"

namespace cairn::client {
namespace {

namespace fs = std::filesystem;

bool EndsWith(const std::string& s, const std::string& tail) {
  if (s.size() < tail.size()) return false;
  for (size_t i = 0; i < tail.size(); ++i) {
    char c = s[s.size() - tail.size() + i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != tail[i]) return false;
  }
  return true;
}

// The content type the server spools a serialized bag by, "" when `source` is not one.
std::string ArchiveContentType(const std::string& source) {
  if (EndsWith(source, ".tar")) return "application/x-tar";
  if (EndsWith(source, ".tar.gz") || EndsWith(source, ".tgz")) return "application/gzip";
  if (EndsWith(source, ".zip")) return "application/zip";
  return "";
}

std::string Sha256Hex(std::string_view bytes) {
  return bagit::HashBytes(bytes, bagit::Only(bagit::Algorithm::kSha256))[bagit::Algorithm::kSha256];
}

// One file's or folder's stat as the signature takes it: size, mtime and ctime to the
// nanosecond, inode. The ctime changes with every write (and rename, chmod) and no tool sets it
// back, unlike the mtime (`touch -r`, `cp -p`, `rsync -a`): an edit that keeps the size and the
// mtime still changes the signature.
std::string StatText(const struct stat& st) {
  char text[160];
  std::snprintf(text, sizeof text, "%lld %lld.%09ld %lld.%09ld %llu",
                static_cast<long long>(st.st_size), static_cast<long long>(st.st_mtim.tv_sec),
                st.st_mtim.tv_nsec, static_cast<long long>(st.st_ctim.tv_sec), st.st_ctim.tv_nsec,
                static_cast<unsigned long long>(st.st_ino));
  return text;
}

// What names this source as it is now: a file's stat (StatText), or a folder's and that of
// every member, with its path. Any change of a byte, a name or the number of files gives
// another resume key, hence a new upload; an unchanged source the same one (a rerun resumes).
// A completed upload found by its key answers with its deposit: two sources that could share a
// key would lose the second's content, so nothing short of every member's ctime will do.
// For a folder, `*tar_at_least` is set to the least its tar can be: every regular file's
// 512-byte header and its bytes padded to 512, and the tar's closing 1024 bytes (the walk that
// names the source also bounds its size, so that a folder over the server's limit is refused
// before a part of it is sent).
std::string SourceSignature(const std::string& source, const struct stat& st,
                            uint64_t* tar_at_least) {
  if (!S_ISDIR(st.st_mode)) return StatText(st);
  bagit::MultiHasher members(bagit::Only(bagit::Algorithm::kSha256));
  members.Update(StatText(st) + "\n");
  uint64_t least = 1024;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(source, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    struct stat m;
    if (::lstat(it->path().c_str(), &m) != 0) continue;
    members.Update(it->path().string() + "\n" + StatText(m) + "\n");
    if (S_ISREG(m.st_mode)) least += 512 + (static_cast<uint64_t>(m.st_size) + 511) / 512 * 512;
  }
  *tar_at_least = least;
  if (ec) members.Update("unlistable: " + ec.message() + "\n");
  return members.Finish()[bagit::Algorithm::kSha256];
}

// Fills `buf` (its size) from `read` until full or the end; how many bytes.
Result<size_t> Fill(const ApiClient::BodyReader& read, std::string& buf) {
  size_t got = 0;
  while (got < buf.size()) {
    CAIRN_ASSIGN_OR_RETURN(size_t n, read(buf.data() + got, buf.size() - got));
    if (n == 0) break;
    got += n;
  }
  return got;
}

// One source the upload reads from the start: a file, or a bag folder as a tar made on the fly.
struct Source {
  std::string path, content_type;
  bool folder = false;
  std::optional<uint64_t> size;    // a file's
  std::optional<BagOnTheFly> bag;  // a plain folder's
  std::unique_ptr<FolderTarStream> tar;
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file{nullptr, std::fclose};

  Status Rewind() {
    if (folder) {
      CAIRN_ASSIGN_OR_RETURN(tar, FolderTarStream::Open(path, "", bag ? &*bag : nullptr));
      return Status::OK();
    }
    file.reset(std::fopen(path.c_str(), "rb"));
    if (!file) return Status::FromErrno(errno, "open", path);
    return Status::OK();
  }
  ApiClient::BodyReader Reader() {
    return [this](char* out, size_t n) -> Result<size_t> {
      if (folder) return tar->Read(out, n);
      size_t got = std::fread(out, 1, n, file.get());
      if (got == 0 && std::ferror(file.get())) return Status::IOError("cannot read " + path);
      return got;
    };
  }
};

// The parts the server holds: n -> (size, sha256).
std::map<uint32_t, std::pair<uint64_t, std::string>> PartsOf(const nlohmann::json& upload) {
  std::map<uint32_t, std::pair<uint64_t, std::string>> out;
  for (const nlohmann::json& p : upload.value("parts", nlohmann::json::array())) {
    out[p.value("n", 0u)] = {p.value("size", uint64_t{0}), p.value("sha256", std::string())};
  }
  return out;
}

enum class Sent { kDone, kDiffers };

// Whether rerunning the command can resume after a part failed so: not when the server refused
// the part for what it is (400, 413: the upload over --max-upload, a part too long; 401, 403),
// which a rerun would meet again; yes when it did not arrive (the connection, the server, 5xx)
// or the upload is gone (a rerun opens a new one).
bool Resumable(const Status& s) {
  return s.code() != Code::kInvalidArgument && s.code() != Code::kPermissionDenied &&
         s.code() != Code::kUnauthenticated;
}

// The failure of `what` (a request about an upload once it is open), ending with the advice to
// rerun the command, which resumes: it sends only the parts the server lacks, and is answered
// the deposit a completion made before its answer was lost.
Status Resumes(const Status& s, const std::string& what) {
  Status told = s.WithContext(what);
  return Status(told.code(), told.message() + " (rerun the command to resume)")
      .SetRetryable(told.retryable());
}

// The failure of a request about an open upload other than a part's: a network failure
// (Unavailable: the connection cut, the server gone or answering 5xx) resumes; any other is the
// server's answer, as it is.
Status AfterOpen(const Status& s, const std::string& what) {
  return s.IsUnavailable() ? Resumes(s, what) : s;
}

// Of two outcomes of parts sent side by side, the failure to report: a refusal that stands
// (not Resumable) before any other, "no upload" (NotFound) after any other, else the first. A
// part past --max-upload is refused and the upload removed with it; a part sent beside it is
// refused in the same words ("upload ID was refused: ...", or "no upload" from a server that
// restarted meanwhile): the refusal is the news, whichever part came back first.
Status Telling(const Status& first, const Status& second) {
  auto rank = [](const Status& s) {
    return s.ok() ? 0 : !Resumable(s) ? 3 : s.IsNotFound() ? 1 : 2;
  };
  return rank(second) > rank(first) ? second : first;
}

// Parts are sent over this many connections at once: while one part travels, the next is read
// and hashed and another travels beside it (issue 17's speed target). Each holds one part in
// memory.
constexpr int kConnections = 2;

// One connection sending parts: its client, its part's bytes, and the send in flight.
struct Lane {
  ApiClient* api = nullptr;
  std::unique_ptr<ApiClient> owned;
  std::string buf;
  std::future<Status> sending;
  uint64_t in_flight = 0;  // the bytes of the part being sent, until the server acknowledges it

  // The outcome of the send in flight (OK when none).
  Status Finish() {
    if (!sending.valid()) return Status::OK();
    return sending.get();
  }
};

// UploadOptions::cancel was set while upload `id` was not completed.
Status Interrupted(const std::string& id) {
  return Status::Aborted(
      "interrupted: nothing was stored; the parts sent are kept on the server "
      "(upload " +
      id + ") until it expires, and the same command resumes it");
}

bool Cancelled(const UploadOptions& options) { return options.cancel && options.cancel->load(); }

// Sends the parts of `src` the server lacks; kDiffers when a part it holds is not what the
// source has now (the upload is then of no use). Stops (Interrupted) once `options` is cancelled.
Result<Sent> SendParts(ApiClient& api, const std::string& id, uint64_t part_size,
                       std::map<uint32_t, std::pair<uint64_t, std::string>> held, Source& src,
                       const UploadOptions& options) {
  const std::function<void(const UploadProgress&)>& progress = options.progress;
  CAIRN_RETURN_IF_ERROR(src.Rewind());
  ApiClient::BodyReader read = src.Reader();
  std::vector<Lane> lanes(kConnections);
  lanes[0].api = &api;
  for (size_t i = 1; i < lanes.size(); ++i) {
    CAIRN_ASSIGN_OR_RETURN(lanes[i].owned, api.Clone());
    lanes[i].api = lanes[i].owned.get();
  }
  UploadProgress so_far;
  so_far.total = src.size;
  // A part counts as sent once the server has acknowledged it (not when it leaves): the
  // outcome of `lane`'s send, its bytes counted and told when the server took them.
  auto finish = [&so_far, &progress](Lane& lane) {
    Status s = lane.Finish();
    if (s.ok() && lane.in_flight > 0) {
      so_far.sent += lane.in_flight;
      if (progress) progress(so_far);
    }
    lane.in_flight = 0;
    return s;
  };
  // Every send is waited for before this returns, whatever the outcome.
  auto finish_all = [&lanes, &finish]() {
    Status first = Status::OK();
    for (Lane& lane : lanes) first = Telling(first, finish(lane));
    return first;
  };
  Sent outcome = Sent::kDone;
  Status failed = Status::OK();
  for (uint32_t n = 1;; ++n) {
    Lane& lane = lanes[n % lanes.size()];
    failed = finish(lane);
    if (!failed.ok()) break;
    if (Cancelled(options)) {
      failed = Interrupted(id);
      break;
    }
    lane.buf.resize(part_size);
    Result<size_t> got = Fill(read, lane.buf);
    if (!got.ok()) {
      failed = got.status();
      break;
    }
    if (*got == 0 && n > 1) {
      // The source ended: parts past it on the server are not the source's.
      if (held.upper_bound(n - 1) != held.end()) outcome = Sent::kDiffers;
      break;
    }
    const bool last = *got < part_size;
    lane.buf.resize(*got);
    const std::string sha = Sha256Hex(lane.buf);
    auto it = held.find(n);
    if (it != held.end()) {
      if (it->second.first != *got || it->second.second != sha) {
        outcome = Sent::kDiffers;
        break;
      }
      so_far.held += *got;
      if (progress) progress(so_far);
    } else {
      lane.sending = std::async(std::launch::async, [&lane, &id, n, sha]() -> Status {
        // Asked to be told first, whatever the part's size (libcurl asks only over 1 MiB): a
        // part the server refuses at once (another command sends it, 409) is then not sent,
        // and its answer is read, never a connection reset (a server that closes without
        // reading a refused body, as cairn serve did, cannot cause one).
        Result<ApiClient::Answer> put = lane.api->Call(
            "PUT", "/v1/uploads/" + id + "/parts/" + std::to_string(n), &lane.buf,
            "application/octet-stream", {"X-Content-SHA256: " + sha, "Expect: 100-continue"});
        if (put.ok()) return Status::OK();
        const std::string part = "part " + std::to_string(n) + " of upload " + id;
        return Resumable(put.status()) ? Resumes(put.status(), part)
                                       : put.status().WithContext(part);
      });
      lane.in_flight = *got;
    }
    if (last) {
      if (held.upper_bound(n) != held.end()) outcome = Sent::kDiffers;
      break;
    }
  }
  Status finished = finish_all();
  CAIRN_RETURN_IF_ERROR(Telling(failed, finished));
  return outcome;
}

// The bag a plain folder is sent as: the digest algorithms of the policy that applies to
// `partner` (as a local deposit bags a folder), `options`' info and agent.
Result<BagOnTheFly> BagFor(ApiClient& api, const std::string& partner,
                           const UploadOptions& options) {
  Result<nlohmann::json> policy_or = api.GetJson("/v1/policy", {{"partner", partner}});
  if (!policy_or.ok()) {
    return policy_or.status().WithContext("deposit for partner " + partner +
                                          " (reading the policy it is bagged by)");
  }
  const nlohmann::json& policy = *policy_or;
  BagOnTheFly bag;
  const nlohmann::json effective = policy.value("effective", nlohmann::json::object());
  for (const nlohmann::json& name : effective.value("algorithms", nlohmann::json::array())) {
    if (!name.is_string()) continue;
    if (auto a = bagit::ParseAlgorithm(name.get<std::string>())) {
      bag.options.algorithms |= bagit::Only(*a);
    }
  }
  if (bag.options.algorithms.none()) {
    bag.options.algorithms = bagit::Only(bagit::Algorithm::kSha256);
  }
  bag.options.info = options.info;
  bag.options.software_agent = options.software_agent;
  return bag;
}

// The resume key of `source` (see the header) and, for a folder, the least its tar can be.
struct SourceKey {
  std::string key;
  uint64_t tar_at_least = 0;
};

SourceKey KeyOf(const std::string& partner, const std::string& object, const std::string& source) {
  SourceKey out;
  std::error_code ec;
  fs::path abs = fs::absolute(source, ec);
  struct stat st;
  std::string sig =
      ::stat(source.c_str(), &st) == 0 ? SourceSignature(source, st, &out.tar_at_least) : "";
  std::string text = "cairn upload v1\n" + partner + "\n" + object + "\n" +
                     (ec ? source : abs.lexically_normal().string()) + "\n" + sig + "\n";
  out.key = Sha256Hex(text);
  return out;
}

}  // namespace

std::string UploadResumeKey(const std::string& server, const std::string& partner,
                            const std::string& object, const std::string& source) {
  // The server is not part of the key: the uploads live on it, so the key need not name it,
  // and a server restarted on another port or reached by another name still finds them.
  (void)server;
  return KeyOf(partner, object, source).key;
}

Result<ApiClient::Answer> UploadDeposit(ApiClient& api, const std::string& partner,
                                        const std::string& object, const std::string& source,
                                        const UploadOptions& options) {
  struct stat st;
  if (::stat(source.c_str(), &st) != 0) return Status::FromErrno(errno, "stat", source);
  Source src;
  src.path = source;
  bool bag_it = false;  // a plain folder: bagged as it is sent (BagFor), once the upload is open
  if (S_ISDIR(st.st_mode)) {
    struct stat bagit_txt;
    const bool bag_folder = ::lstat((source + "/bagit.txt").c_str(), &bagit_txt) == 0;
    if (!bag_folder || options.as_folder) {
      bag_it = true;
    } else if (!options.info.empty()) {
      return Status::InvalidArgument("--info is for a plain folder's bag; " + source +
                                     " is a bag (it holds bagit.txt) whose bag-info.txt is kept");
    }
    src.folder = true;
    src.content_type = "application/x-tar";
  } else {
    src.content_type = ArchiveContentType(source);
    if (!S_ISREG(st.st_mode) || src.content_type.empty()) {
      return Status::InvalidArgument(source +
                                     " is neither a folder nor a .tar, .tar.gz, .tgz or .zip");
    }
    src.size = static_cast<uint64_t>(st.st_size);
  }
  const SourceKey key = KeyOf(partner, object, source);
  nlohmann::json begin = {{"content_type", src.content_type},
                          {"size", src.size ? nlohmann::json(*src.size) : nlohmann::json()},
                          {"resume_key", key.key}};
  // A folder's tar is made as it is sent: its size is not known, only the least it can be.
  if (src.folder) begin["size_at_least"] = key.tar_at_least;
  const std::string open_path =
      "/v1/uploads/" + PercentEncode(partner) + "/" + PercentEncode(object);
  const std::string begin_text = begin.dump();
  // The same command run twice at once (the same source, object and principal: the same
  // resume key) works on the one upload the server keeps for that key: a part the other holds
  // or is sending answers 409 (AlreadyExists), and so does completing while the other completes
  // it or still sends a part (retryable). Both commands failed then. Now this one waits for the
  // other, watching the upload (GET, nothing re-read here): completed, it answers the other's
  // version, as a rerun after success does; gone (refused, abandoned), it opens a new one; open
  // and quiet for kQuiet (the other stopped), it sends what is missing and completes it. It
  // gives up, saying nothing was stored by it, when an open upload has not moved for kPatience.
  using Clock = std::chrono::steady_clock;
  constexpr auto kQuiet = std::chrono::seconds(30);
  constexpr auto kPatience = std::chrono::minutes(10);
  std::string id;         // the upload waited for, "" when none
  std::string last_seen;  // its state and the number of its parts when last seen
  Clock::time_point last_move = Clock::now();
  auto pause = std::chrono::milliseconds(100);
  bool told = false;
  int new_uploads = 0;
  for (;;) {
    nlohmann::json upload;
    std::map<std::string, std::string> headers;  // a completed upload's: its answer's warnings
    if (id.empty()) {
      CAIRN_ASSIGN_OR_RETURN(ApiClient::Answer opened, api.Call("POST", open_path, &begin_text));
      upload = std::move(opened.body);
      headers = std::move(opened.headers);
    } else {
      Result<ApiClient::Answer> seen = api.Call("GET", "/v1/uploads/" + id, nullptr);
      if (seen.status().IsNotFound()) {
        id.clear();  // refused or abandoned by the other: open again
        continue;
      }
      if (!seen.ok()) return AfterOpen(seen.status(), "upload " + id);
      upload = std::move(seen->body);
      headers = std::move(seen->headers);
    }
    const bool waiting = !id.empty();
    id = upload.value("id", std::string());
    const std::string state = upload.value("state", std::string());
    if (id.empty()) return Status::Unavailable("the server's upload has no id");
    if (state == "completed") {
      // Completed earlier (its answer was lost on the way, or this is a rerun, or another
      // command sending the same source completed it): its answer, told as true now (the
      // server's X-Cairn-Warnings: its events not on a site's log yet).
      return ApiClient::Answer{upload.value("answer_status", 201L),
                               upload.value("answer", nlohmann::json::object()),
                               std::move(headers)};
    }
    const std::string seen = state + " " + std::to_string(PartsOf(upload).size());
    if (seen != last_seen) {
      last_seen = seen;
      last_move = Clock::now();
      pause = std::chrono::milliseconds(100);
    }
    const bool quiet = Clock::now() - last_move >= kQuiet;
    Status busy = Status::OK();  // another request is at work on the upload
    if (waiting && !quiet) {
      busy = Status::AlreadyExists("another request is at work on it");
    } else if (state == "open") {
      const uint64_t part_size = upload.value("part_size", uint64_t{0});
      if (part_size == 0 || part_size > (uint64_t{1} << 30)) {
        return Status::Unavailable("the server's part size is not usable");
      }
      // Read only now: opening the upload checked the right to deposit first, so that a
      // principal who may not deposit for the partner is refused as such (the policy's read
      // refused it as one who "may not read metadata").
      if (bag_it && !src.bag) {
        Result<BagOnTheFly> bag = BagFor(api, partner, options);
        if (!bag.ok()) return AfterOpen(bag.status(), "upload " + id);
        src.bag = std::move(*bag);
      }
      Result<Sent> sent = SendParts(api, id, part_size, PartsOf(upload), src, options);
      if (!sent.ok() && !sent.status().IsAlreadyExists()) return sent.status();
      if (!sent.ok()) {
        busy = sent.status();
      } else if (*sent == Sent::kDiffers) {
        // A second upload only when the first held parts the source no longer has.
        if (++new_uploads == 2) {
          return Status::Aborted("deposit " + source +
                                 ": the source changed while it was uploaded");
        }
        Status abandoned = api.Call("DELETE", "/v1/uploads/" + id, nullptr).status();
        if (!abandoned.ok()) return AfterOpen(abandoned, "abandoning upload " + id);
        id.clear();
        continue;
      }
    }
    if (Cancelled(options)) return Interrupted(id);
    if (busy.ok()) {
      if (options.progress) options.progress({UploadProgress::Phase::kComplete});
      const std::string none = "{}";
      Result<ApiClient::Answer> done =
          api.Call("POST", "/v1/uploads/" + id + "/complete", &none, "application/json", {}, {422});
      if (done.ok()) return done;
      // A 409 that is not retryable is the deposit's own refusal (the catalog behind a site).
      if (!done.status().IsAlreadyExists() || !done.status().retryable()) {
        return AfterOpen(done.status(), "completing upload " + id);
      }
      busy = done.status();
    }
    if (state == "open" && Clock::now() - last_move > kPatience) {
      return Status::AlreadyExists(
          "deposit " + source + ": another deposit of the same source is in progress (upload " +
          id + ", unchanged for 10 minutes: " + busy.message() +
          "); nothing was stored by this command: rerun it once the other is done");
    }
    if (!told && ::isatty(STDERR_FILENO)) {
      std::cerr << "deposit " << source << ": another deposit of the same source is in progress "
                << "(upload " << id << "); waiting for it\n";
      told = true;
    }
    std::this_thread::sleep_for(pause);
    pause = std::min<std::chrono::milliseconds>(pause * 2, std::chrono::seconds(2));
  }
}

}  // namespace cairn::client
