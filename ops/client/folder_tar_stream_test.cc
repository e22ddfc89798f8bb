// FolderTarStream: a real folder read in small pieces makes a tar that libarchive (through
// bagit's reader) reads back file for file, while the stream holds only a small buffer; links
// are refused as a deposit refuses them.
#include "ops/client/folder_tar_stream.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "bagit/archive.h"
#include "tests/util/assert_ok.h"
#include "tests/util/test_util.h"

namespace cairn::client {
namespace {

namespace fs = cairn::testing::fs;
using cairn::testing::ReadFile;
using cairn::testing::TempDir;
using cairn::testing::WriteFile;

// Every piece of the stream, read `piece` bytes at a time, appended to `out`.
Status Drain(FolderTarStream& stream, size_t piece, const std::string& out) {
  std::FILE* f = std::fopen(out.c_str(), "wb");
  if (f == nullptr) return Status::IOError("cannot write " + out);
  std::string buf(piece, '\0');
  while (true) {
    Result<size_t> n = stream.Read(buf.data(), buf.size());
    if (!n.ok()) {
      std::fclose(f);
      return n.status();
    }
    if (*n == 0) break;
    std::fwrite(buf.data(), 1, *n, f);
  }
  std::fclose(f);
  return Status::OK();
}

TEST(FolderTarStream, ReadsBackFileForFileWithASmallBuffer) {
  TempDir tmp;
  const fs::path src = tmp.path() / "box";
  std::string big;
  for (int i = 0; i < 6 * 1024 * 1024; ++i) big.push_back(static_cast<char>((i * 7 + 3) & 0xff));
  std::map<std::string, std::string> want = {{"a.txt", "alpha\n"},
                                             {"sub/big.bin", big},
                                             {"sub/deeper/empty", ""},
                                             {"caf\xc3\xa9 name.txt", "non-ASCII name\n"}};
  for (const auto& [rel, bytes] : want) WriteFile(src / rel, bytes);
  auto stream = FolderTarStream::Open(src.string(), "upload");
  ASSERT_OK(stream);
  const fs::path tar = tmp.path() / "out.tar";
  ASSERT_OK(Drain(**stream, 1000, tar.string()));
  EXPECT_LT((*stream)->max_buffered(), size_t{256 * 1024});  // not the 6 MiB file

  auto reader = bagit::ArchiveReader::Open(tar.string());
  ASSERT_OK(reader);
  std::map<std::string, std::string> got;
  bagit::ArchiveEntry entry;
  while (true) {
    Result<bool> next = (*reader)->Next(&entry);
    ASSERT_OK(next);
    if (!*next) break;
    if (entry.type != bagit::EntryType::kFile) continue;
    std::string bytes;
    ASSERT_OK((*reader)->ReadData([&](std::span<const std::byte> d) {
      bytes.append(reinterpret_cast<const char*>(d.data()), d.size());
      return Status::OK();
    }));
    ASSERT_TRUE(entry.path.starts_with("upload/")) << entry.path;
    got[entry.path.substr(7)] = bytes;
  }
  EXPECT_EQ(got, want);
}

// A bag folder goes as is, its tag files first (bagit.txt before them): the server then knows
// the manifests before any payload member and hashes with their algorithms only.
TEST(FolderTarStream, SendsABagFoldersTagFilesBeforeItsPayload) {
  TempDir tmp;
  const fs::path src = tmp.path() / "bag";
  for (int i = 0; i < 40; ++i) WriteFile(src / "data" / ("f" + std::to_string(i)), "x");
  WriteFile(src / "manifest-sha512.txt", "m\n");
  WriteFile(src / "tagmanifest-sha512.txt", "t\n");
  WriteFile(src / "bagit.txt", "b\n");
  WriteFile(src / "bag-info.txt", "i\n");
  WriteFile(src / "meta" / "extra.xml", "<x/>");
  auto stream = FolderTarStream::Open(src.string());
  ASSERT_OK(stream);
  const fs::path tar = tmp.path() / "out.tar";
  ASSERT_OK(Drain(**stream, 4096, tar.string()));
  auto reader = bagit::ArchiveReader::Open(tar.string());
  ASSERT_OK(reader);
  std::vector<std::string> files;
  bagit::ArchiveEntry entry;
  while (true) {
    Result<bool> next = (*reader)->Next(&entry);
    ASSERT_OK(next);
    if (!*next) break;
    if (entry.type == bagit::EntryType::kFile) files.push_back(entry.path);
  }
  ASSERT_EQ(files.size(), 45u);
  EXPECT_EQ(std::vector<std::string>(files.begin(), files.begin() + 4),
            (std::vector<std::string>{"bag/bagit.txt", "bag/bag-info.txt",
                                      "bag/manifest-sha512.txt", "bag/tagmanifest-sha512.txt"}));
  std::sort(files.begin(), files.end());
  EXPECT_EQ(std::unique(files.begin(), files.end()), files.end());  // each file once
}

TEST(FolderTarStream, RefusesALinkAndANonFolder) {
  TempDir tmp;
  const fs::path src = tmp.path() / "box";
  WriteFile(src / "a.txt", "alpha\n");
  fs::create_symlink("/etc/passwd", src / "link");
  auto stream = FolderTarStream::Open(src.string());
  ASSERT_OK(stream);
  Status s = Drain(**stream, 4096, (tmp.path() / "out.tar").string());
  EXPECT_EQ(s.code(), Code::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find("link"), std::string::npos) << s.ToString();
  EXPECT_FALSE(FolderTarStream::Open((src / "a.txt").string()).ok());
  EXPECT_FALSE(FolderTarStream::Open((tmp.path() / "none").string()).ok());
}

}  // namespace
}  // namespace cairn::client
