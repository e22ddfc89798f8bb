// Validating a serialized bag (.tar, .tar.gz, .tgz, .zip) as one stream through
// libarchive: nothing is extracted. The bag walker's archive walk reads tag
// files into the checker as they pass and hashes payload files as they stream
// by; members that could escape the bag are refused by name, unread (see
// bagit/bag_walker.h for the order rules and the hostile-archive guards).
#include <sys/stat.h>

#include "bagit/bag_checker.h"
#include "bagit/bag_walker.h"
#include "bagit/validator.h"

namespace cairn::bagit {
namespace {

std::string_view SerializationName(ArchiveFormat f) {
  switch (f) {
    case ArchiveFormat::kTar:
      return "application/tar";
    case ArchiveFormat::kTarGz:
      return "application/tar+gzip";
    case ArchiveFormat::kZip:
      return "application/zip";
  }
  return "";
}

}  // namespace

Result<Validation> ValidateBagArchive(const std::string& archive, const ValidateOptions& options) {
  struct stat st;
  if (stat(archive.c_str(), &st) != 0) return Status::FromErrno(errno, "open bag", archive);
  Validation v;
  v.contents = std::make_unique<BagContents>();
  v.contents->serialized = true;
  if (std::optional<ArchiveFormat> f = FormatFromName(archive)) {
    v.contents->serialization = std::string(SerializationName(*f));
  }
  v.report.bag = archive;
  v.report.mode = options.mode;
  Result<std::unique_ptr<ArchiveReader>> reader = ArchiveReader::Open(archive);
  if (!reader.ok()) {
    if (reader.status().code() != Code::kInvalidArgument) return reader.status();
    v.report.Error("", "archive.unreadable", reader.status().message());
    return v;
  }
  BagChecker checker(options, &v.report, v.contents.get());
  HashingSink sink;
  Result<std::unique_ptr<ArchiveReader>> ahead = ArchiveReader::Open(archive);  // tag files
  CAIRN_RETURN_IF_ERROR(BagWalker(&checker, &sink, &v.report)
                            .WalkArchive(reader->get(), ahead.ok() ? ahead->get() : nullptr));
  return v;
}

Result<Validation> ValidateBag(const std::string& path, const ValidateOptions& options) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return Status::FromErrno(errno, "open bag", path);
  if (S_ISDIR(st.st_mode)) return ValidateBagDirectory(path, options);
  if (!FormatFromName(path)) {
    return Status::InvalidArgument(path +
                                   ": not a bag directory nor a .tar, .tar.gz, .tgz or .zip file");
  }
  return ValidateBagArchive(path, options);
}

}  // namespace cairn::bagit
