#include "ops/client/deposit_upload.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <memory>

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

}  // namespace

Result<ApiClient::Answer> UploadDeposit(ApiClient& api, const std::string& partner,
                                        const std::string& object, const std::string& source) {
  const std::string path = "/v1/deposits/" + PercentEncode(partner) + "/" + PercentEncode(object);
  const std::vector<long> refused = {422};
  struct stat st;
  if (::stat(source.c_str(), &st) != 0) return Status::FromErrno(errno, "stat", source);
  if (S_ISDIR(st.st_mode)) {
    struct stat bagit;
    if (::lstat((source + "/bagit.txt").c_str(), &bagit) != 0) {
      return Status::InvalidArgument(
          source +
          " is a plain folder: a deposit to a server takes a bag (a folder with "
          "bagit.txt, or .tar/.tar.gz/.zip); make one with cairn bag create first");
    }
    CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<FolderTarStream> tar, FolderTarStream::Open(source));
    return api.PostStream(
        path, "application/x-tar", [&tar](char* out, size_t size) { return tar->Read(out, size); },
        -1, refused);
  }
  const std::string type = ArchiveContentType(source);
  if (!S_ISREG(st.st_mode) || type.empty()) {
    return Status::InvalidArgument(source +
                                   " is neither a bag folder nor a .tar, .tar.gz, .tgz or .zip");
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
