#include "ops/client/deposit_upload.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <memory>
#include <optional>

#include "ops/client/folder_tar_stream.h"

namespace cairn::client {
namespace {

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

// The bag a plain folder is sent as: the digest algorithms of the policy that applies to
// `partner` (as a local deposit bags a folder), `options`' info and agent.
Result<BagOnTheFly> BagFor(ApiClient& api, const std::string& partner,
                           const UploadOptions& options) {
  CAIRN_ASSIGN_OR_RETURN(nlohmann::json policy, api.GetJson("/v1/policy", {{"partner", partner}}));
  BagOnTheFly bag;
  const nlohmann::json effective = policy.value("effective", nlohmann::json::object());
  for (const nlohmann::json& name : effective.value("algorithms", nlohmann::json::array())) {
    if (!name.is_string()) continue;
    if (auto a = bagit::ParseAlgorithm(name.get<std::string>()))
      bag.options.algorithms |= bagit::Only(*a);
  }
  if (bag.options.algorithms.none())
    bag.options.algorithms = bagit::Only(bagit::Algorithm::kSha256);
  bag.options.info = options.info;
  bag.options.software_agent = options.software_agent;
  return bag;
}

}  // namespace

Result<ApiClient::Answer> UploadDeposit(ApiClient& api, const std::string& partner,
                                        const std::string& object, const std::string& source,
                                        const UploadOptions& options) {
  const std::string path = "/v1/deposits/" + PercentEncode(partner) + "/" + PercentEncode(object);
  const std::vector<long> refused = {422};
  struct stat st;
  if (::stat(source.c_str(), &st) != 0) return Status::FromErrno(errno, "stat", source);
  if (S_ISDIR(st.st_mode)) {
    struct stat bagit_txt;
    const bool bag_folder = ::lstat((source + "/bagit.txt").c_str(), &bagit_txt) == 0;
    std::optional<BagOnTheFly> bag;
    if (!bag_folder || options.as_folder) {
      CAIRN_ASSIGN_OR_RETURN(bag, BagFor(api, partner, options));
    } else if (!options.info.empty()) {
      return Status::InvalidArgument("--info is for a plain folder's bag; " + source +
                                     " is a bag (it holds bagit.txt) whose bag-info.txt is kept");
    }
    CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<FolderTarStream> tar,
                           FolderTarStream::Open(source, "", bag ? &*bag : nullptr));
    return api.PostStream(
        path, "application/x-tar", [&tar](char* out, size_t size) { return tar->Read(out, size); },
        -1, refused);
  }
  const std::string type = ArchiveContentType(source);
  if (!S_ISREG(st.st_mode) || type.empty()) {
    return Status::InvalidArgument(source +
                                   " is neither a folder nor a .tar, .tar.gz, .tgz or .zip");
  }
  std::FILE* file = std::fopen(source.c_str(), "rb");
  if (file == nullptr) return Status::FromErrno(errno, "open", source);
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> closer(file, std::fclose);
  auto read = [file, &source](char* out, size_t size) -> Result<size_t> {
    size_t n = std::fread(out, 1, size, file);
    if (n == 0 && std::ferror(file)) return Status::IOError("cannot read " + source);
    return n;
  };
  return api.PostStream(path, type, read, static_cast<int64_t>(st.st_size), refused);
}

}  // namespace cairn::client
