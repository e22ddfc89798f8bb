// Serialized bags written straight into a tar, tar.gz or zip archive: each
// source file is read once, hashed and streamed into the archive. The tag files
// are assembled in a scratch folder beside DEST (manifests can be large), then
// appended; the archive appears at DEST only when complete.
#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>

#include "bagit/archive.h"
#include "bagit/creator_internal.h"

namespace cairn::bagit::internal {
namespace {

std::string StripSuffixNoCase(std::string name) {
  for (std::string_view suffix : {".tar.gz", ".tgz", ".tar", ".zip"}) {
    if (name.size() <= suffix.size()) continue;
    bool match = true;
    for (size_t i = 0; i < suffix.size() && match; ++i) {
      char c = name[name.size() - suffix.size() + i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      match = c == suffix[i];
    }
    if (match) return name.substr(0, name.size() - suffix.size());
  }
  return name;
}

// The bag's folder inside the archive: DEST's file name without its extension.
std::string TopFolderName(const std::string& dest) {
  std::string name = dest;
  while (name.size() > 1 && name.back() == '/') name.pop_back();
  size_t slash = name.rfind('/');
  if (slash != std::string::npos) name = name.substr(slash + 1);
  name = StripSuffixNoCase(name);
  return name.empty() || name == "." || name == ".." ? "bag" : name;
}

ArchiveFormat ToArchiveFormat(BagFormat format) {
  switch (format) {
    case BagFormat::kTar:
      return ArchiveFormat::kTar;
    case BagFormat::kZip:
      return ArchiveFormat::kZip;
    default:
      return ArchiveFormat::kTarGz;
  }
}

// Appends the scratch file `dir`/`name` as member `member`.
Status AppendFile(ArchiveWriter* writer, const std::string& dir, const std::string& name,
                  const std::string& member, std::span<std::byte> buffer) {
  SourceEntry entry;
  entry.rel = name;
  entry.open = dir + "/" + name;
  struct stat st;
  if (::stat(entry.open.c_str(), &st) != 0) return Status::FromErrno(errno, "stat", entry.open);
  entry.size = static_cast<uint64_t>(st.st_size);
  CAIRN_RETURN_IF_ERROR(writer->BeginFile(member, entry.size));
  MultiHasher none{AlgorithmSet()};
  return StreamSourceFile(entry, buffer, &none, [&](std::span<const std::byte> chunk) {
    return writer->WriteData(chunk);
  });
}

Result<CreatedBag> WriteArchive(const SourceTree& tree, const std::string& dest,
                                const std::string& scratch, const std::string& bag_info,
                                const std::vector<Algorithm>& algorithms,
                                const CreateOptions& options, std::span<std::byte> buffer) {
  const std::string top = TopFolderName(dest);
  CAIRN_RETURN_IF_ERROR(WriteNewFile(scratch + "/bagit.txt", BagitTxt()));
  CAIRN_RETURN_IF_ERROR(WriteNewFile(scratch + "/bag-info.txt", bag_info));
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<ArchiveWriter> writer,
                         ArchiveWriter::Create(dest, ToArchiveFormat(options.format)));
  CAIRN_RETURN_IF_ERROR(writer->AddDirectory(top));
  // bagit.txt first: a streaming reader learns the version and encoding before anything else.
  CAIRN_RETURN_IF_ERROR(AppendFile(writer.get(), scratch, "bagit.txt", top + "/bagit.txt", buffer));
  CAIRN_RETURN_IF_ERROR(
      AppendFile(writer.get(), scratch, "bag-info.txt", top + "/bag-info.txt", buffer));
  CAIRN_RETURN_IF_ERROR(writer->AddDirectory(top + "/data"));
  for (const SourceEntry& dir : tree.dirs) {
    CAIRN_RETURN_IF_ERROR(writer->AddDirectory(top + "/data/" + dir.rel));
  }

  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<ManifestFiles> manifests,
                         ManifestFiles::Create(scratch, algorithms));
  MultiHasher hasher(ToSet(algorithms));
  for (const SourceEntry& file : tree.files) {
    std::string rel = "data/" + file.rel;
    CAIRN_RETURN_IF_ERROR(writer->BeginFile(top + "/" + rel, file.size));
    Status s = StreamSourceFile(file, buffer, &hasher, [&](std::span<const std::byte> chunk) {
      return writer->WriteData(chunk);
    });
    Digests digests = hasher.Finish();
    CAIRN_RETURN_IF_ERROR(s);
    CAIRN_RETURN_IF_ERROR(manifests->Add(rel, digests));
  }
  CAIRN_RETURN_IF_ERROR(manifests->Close());

  std::vector<std::string> listed = {"bagit.txt", "bag-info.txt"};
  for (const std::string& name : manifests->Names()) listed.push_back(name);
  CreatedBag bag;
  CAIRN_ASSIGN_OR_RETURN(bag.tag_files, WriteTagManifests(scratch, listed, algorithms));
  for (const CreatedBag::TagFile& tag : bag.tag_files) {
    if (tag.name == "bagit.txt" || tag.name == "bag-info.txt") continue;
    CAIRN_RETURN_IF_ERROR(
        AppendFile(writer.get(), scratch, tag.name, top + "/" + tag.name, buffer));
  }
  CAIRN_RETURN_IF_ERROR(writer->Finish());
  bag.path = dest;
  bag.format = options.format;
  bag.top_folder = top;
  bag.payload_files = tree.files.size();
  bag.payload_bytes = tree.bytes;
  bag.algorithms = algorithms;
  return bag;
}

}  // namespace

Result<CreatedBag> CreateArchiveBag(const SourceTree& tree, const std::string& dest,
                                    const std::string& bag_info,
                                    const std::vector<Algorithm>& algorithms,
                                    const CreateOptions& options) {
  CAIRN_ASSIGN_OR_RETURN(std::string scratch, MakeScratchFolder(dest));
  std::byte* raw = static_cast<std::byte*>(std::aligned_alloc(4096, kReadChunk));
  Result<CreatedBag> bag = WriteArchive(tree, dest, scratch, bag_info, algorithms, options,
                                        std::span<std::byte>(raw, kReadChunk));
  std::free(raw);
  RemoveTree(scratch);
  if (bag.ok()) CAIRN_RETURN_IF_ERROR(SyncDirectory(ParentOf(dest)));
  return bag;
}

}  // namespace cairn::bagit::internal
