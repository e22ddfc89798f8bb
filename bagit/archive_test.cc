#include "bagit/archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "tests/util/assert_ok.h"
#include "tests/util/test_util.h"

namespace cairn::bagit {
namespace {

using cairn::testing::ReadFile;
using cairn::testing::TempDir;
using cairn::testing::WriteFile;
namespace fs = boost::filesystem;

std::span<const std::byte> Bytes(const std::string& s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

std::string RandomBytes(size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(gen());
  return s;
}

struct Member {
  std::string path;
  EntryType type;
  std::string data;
  std::string link_target;
};

// Reads every entry and its bytes.
Result<std::vector<Member>> ReadAll(const std::string& path) {
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<ArchiveReader> reader, ArchiveReader::Open(path));
  std::vector<Member> out;
  ArchiveEntry entry;
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(bool more, reader->Next(&entry));
    if (!more) break;
    Member m{entry.path, entry.type, "", entry.link_target};
    CAIRN_RETURN_IF_ERROR(reader->ReadData([&](std::span<const std::byte> chunk) {
      m.data.append(reinterpret_cast<const char*>(chunk.data()), chunk.size());
      return Status::OK();
    }));
    if (entry.type == EntryType::kFile) {
      EXPECT_EQ(entry.size, m.data.size()) << entry.path;
    }
    out.push_back(std::move(m));
  }
  return out;
}

class ArchiveRoundTrip : public ::testing::TestWithParam<const char*> {};

TEST_P(ArchiveRoundTrip, FilesAndDirectoriesComeBackIdentical) {
  TempDir dir;
  std::string path = (dir / (std::string("bag") + GetParam())).string();
  std::optional<ArchiveFormat> format = FormatFromName(path);
  ASSERT_TRUE(format.has_value());

  const std::string long_name = "bag/data/" + std::string(150, 'n') + "/" + std::string(120, 'm');
  const std::vector<Member> expected = {
      {"bag/", EntryType::kDirectory, "", ""},
      {"bag/bagit.txt", EntryType::kFile,
       "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n", ""},
      {"bag/data/", EntryType::kDirectory, "", ""},
      {"bag/data/big.bin", EntryType::kFile, RandomBytes((1 << 20) * 5 / 2, 3), ""},
      {"bag/data/empty", EntryType::kFile, "", ""},
      {"bag/data/caf\xc3\xa9 100%\nline.txt", EntryType::kFile, "accents", ""},
      {long_name, EntryType::kFile, "long", ""},
  };
  {
    Result<std::unique_ptr<ArchiveWriter>> w = ArchiveWriter::Create(path, *format);
    ASSERT_OK(w);
    for (const Member& m : expected) {
      if (m.type == EntryType::kDirectory) {
        ASSERT_OK((*w)->AddDirectory(m.path));
        continue;
      }
      ASSERT_OK((*w)->BeginFile(m.path, m.data.size()));
      // In uneven pieces, as a copying caller would.
      for (size_t off = 0; off < m.data.size(); off += 300000) {
        ASSERT_OK((*w)->WriteData(Bytes(m.data.substr(off, 300000))));
      }
    }
    EXPECT_FALSE(fs::exists(path)) << "visible before Finish()";
    Status s = (*w)->Finish();
    ASSERT_OK(s);
  }
  ASSERT_TRUE(fs::exists(path));
  // Only the archive itself is left in the folder: the temp name is gone.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);

  Result<std::vector<Member>> got = ReadAll(path);
  ASSERT_OK(got);
  ASSERT_EQ(got->size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ((*got)[i].path, expected[i].path);
    EXPECT_EQ((*got)[i].type, expected[i].type) << expected[i].path;
    EXPECT_TRUE((*got)[i].data == expected[i].data) << expected[i].path;
  }
}

INSTANTIATE_TEST_SUITE_P(Formats, ArchiveRoundTrip, ::testing::Values(".tar", ".tar.gz", ".zip"));

TEST(ArchiveTest, FormatFromName) {
  EXPECT_EQ(FormatFromName("a/b.tar"), ArchiveFormat::kTar);
  EXPECT_EQ(FormatFromName("B.TAR.GZ"), ArchiveFormat::kTarGz);
  EXPECT_EQ(FormatFromName("x.tgz"), ArchiveFormat::kTarGz);
  EXPECT_EQ(FormatFromName("x.Zip"), ArchiveFormat::kZip);
  EXPECT_EQ(FormatFromName("x.gz"), std::nullopt);
  EXPECT_EQ(FormatFromName("tar"), std::nullopt);
  EXPECT_EQ(FormatFromName("folder"), std::nullopt);
}

TEST(ArchiveTest, OtherArchiveExtension) {
  EXPECT_EQ(OtherArchiveExtension("out/zz.rar"), ".rar");
  EXPECT_EQ(OtherArchiveExtension("zz.7Z"), ".7Z");
  EXPECT_EQ(OtherArchiveExtension("a.b/zz.Tar.Bz2"), ".Tar.Bz2");
  EXPECT_EQ(OtherArchiveExtension("zz.gz"), ".gz");
  EXPECT_EQ(OtherArchiveExtension("zz.tar.xz"), ".tar.xz");
  // The formats Cairn writes, and names that look like no archive.
  for (const char* name : {"zz.tar", "zz.tar.gz", "zz.tgz", "zz.zip", "maps", "maps.v2", "box.bag",
                           "a.rar/box", ".gz", "out/"}) {
    EXPECT_EQ(OtherArchiveExtension(name), std::nullopt) << name;
  }
}

// Writes a pax tar with special members straight through libarchive.
void WriteSpecialTar(const std::string& path) {
  struct archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  ASSERT_EQ(archive_write_open_filename(a, path.c_str()), ARCHIVE_OK);
  struct archive_entry* e = archive_entry_new();
  auto add = [&](const char* name, unsigned type, const char* symlink, const char* hardlink,
                 const std::string& data) {
    archive_entry_clear(e);
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, type);
    archive_entry_set_perm(e, 0644);
    if (symlink) archive_entry_set_symlink(e, symlink);
    if (hardlink) archive_entry_set_hardlink(e, hardlink);
    archive_entry_set_size(e, static_cast<la_int64_t>(data.size()));
    ASSERT_EQ(archive_write_header(a, e), ARCHIVE_OK) << name;
    if (!data.empty()) archive_write_data(a, data.data(), data.size());
  };
  add("bag/data/real.txt", AE_IFREG, nullptr, nullptr, "hello");
  add("bag/data/link", AE_IFLNK, "../../etc/passwd", nullptr, "");
  add("bag/data/hard", AE_IFREG, nullptr, "bag/data/real.txt", "");
  add("bag/data/fifo", AE_IFIFO, nullptr, nullptr, "");
  add("bag/data/dev", AE_IFCHR, nullptr, nullptr, "");
  archive_entry_free(e);
  archive_write_close(a);
  archive_write_free(a);
}

TEST(ArchiveTest, SpecialMembersAreReportedByType) {
  TempDir dir;
  std::string path = (dir / "special.tar").string();
  WriteSpecialTar(path);
  Result<std::vector<Member>> got = ReadAll(path);
  ASSERT_OK(got);
  ASSERT_EQ(got->size(), 5u);
  EXPECT_EQ((*got)[0].type, EntryType::kFile);
  EXPECT_EQ((*got)[0].data, "hello");
  EXPECT_EQ((*got)[1].type, EntryType::kSymlink);
  EXPECT_EQ((*got)[1].link_target, "../../etc/passwd");
  EXPECT_EQ((*got)[2].type, EntryType::kHardlink);
  EXPECT_EQ((*got)[2].link_target, "bag/data/real.txt");
  EXPECT_EQ((*got)[3].type, EntryType::kOther);
  EXPECT_EQ((*got)[4].type, EntryType::kOther);
  EXPECT_EQ(EntryTypeName(EntryType::kHardlink), "hard link");
  EXPECT_EQ(EntryTypeName(EntryType::kOther), "device, fifo or socket");
}

TEST(ArchiveTest, ReadDataStopsAtTheLimitAndNamesTheMember) {
  TempDir dir;
  std::string path = (dir / "big.tgz").string();
  std::string data(3 << 20, 'z');  // compresses to a few KiB, inflates to 3 MiB
  {
    auto w = ArchiveWriter::Create(path, ArchiveFormat::kTarGz);
    ASSERT_OK(w);
    ASSERT_OK((*w)->BeginFile("bag/data/bomb", data.size()));
    ASSERT_OK((*w)->WriteData(Bytes(data)));
    ASSERT_OK((*w)->Finish());
  }
  EXPECT_LT(fs::file_size(path), 100000u);
  for (uint64_t limit : {uint64_t{1} << 20, uint64_t{3 << 20}}) {
    auto r = ArchiveReader::Open(path);
    ASSERT_OK(r);
    ArchiveEntry entry;
    ASSERT_TRUE(*(*r)->Next(&entry));
    uint64_t received = 0;
    Status s = (*r)->ReadData(
        [&](std::span<const std::byte> chunk) {
          received += chunk.size();
          return Status::OK();
        },
        limit);
    if (limit < data.size()) {
      EXPECT_EQ(s.code(), Code::kInvalidArgument);
      EXPECT_NE(s.message().find("bag/data/bomb"), std::string::npos) << s.message();
      EXPECT_LE(received, limit);
    } else {
      EXPECT_OK(s);
      EXPECT_EQ(received, data.size());
    }
  }
}

TEST(ArchiveTest, SinkErrorStopsTheRead) {
  TempDir dir;
  std::string path = (dir / "a.tar").string();
  auto w = ArchiveWriter::Create(path, ArchiveFormat::kTar);
  ASSERT_OK(w);
  ASSERT_OK((*w)->BeginFile("f", 5));
  ASSERT_OK((*w)->WriteData(Bytes("12345")));
  ASSERT_OK((*w)->Finish());
  auto r = ArchiveReader::Open(path);
  ASSERT_OK(r);
  ArchiveEntry entry;
  ASSERT_TRUE(*(*r)->Next(&entry));
  Status s = (*r)->ReadData([](std::span<const std::byte>) { return Status::Aborted("stop"); });
  EXPECT_EQ(s.code(), Code::kAborted);
}

TEST(ArchiveTest, DamagedArchivesGiveClearErrors) {
  TempDir dir;
  std::string good = (dir / "good.tar.gz").string();
  std::string content = RandomBytes(2 << 20, 9);
  {
    auto w = ArchiveWriter::Create(good, ArchiveFormat::kTarGz);
    ASSERT_OK(w);
    ASSERT_OK((*w)->BeginFile("bag/data/f1", content.size()));
    ASSERT_OK((*w)->WriteData(Bytes(content)));
    ASSERT_OK((*w)->BeginFile("bag/data/f2", content.size()));
    ASSERT_OK((*w)->WriteData(Bytes(content)));
    ASSERT_OK((*w)->Finish());
  }
  // Truncated half way: the error names the archive.
  std::string bytes = ReadFile(good);
  std::string truncated = (dir / "truncated.tar.gz").string();
  WriteFile(truncated, bytes.substr(0, bytes.size() / 2));
  Result<std::vector<Member>> r = ReadAll(truncated);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kCorruption) << r.status().ToString();
  EXPECT_NE(r.status().message().find(truncated), std::string::npos) << r.status().message();

  // A plain tar whose second member header is overwritten: the header
  // checksum no longer matches.
  std::string tar_path = (dir / "headers.tar").string();
  {
    auto w = ArchiveWriter::Create(tar_path, ArchiveFormat::kTar);
    ASSERT_OK(w);
    ASSERT_OK((*w)->BeginFile("bag/data/f1", 1000));
    ASSERT_OK((*w)->WriteData(Bytes(content.substr(0, 1000))));
    ASSERT_OK((*w)->BeginFile("bag/data/f2", 10));
    ASSERT_OK((*w)->WriteData(Bytes(content.substr(0, 10))));
    ASSERT_OK((*w)->Finish());
  }
  std::string tar_bytes = ReadFile(tar_path);
  const size_t second_header = 512 + 1024;  // header + 1000 bytes padded to 1024
  ASSERT_GT(tar_bytes.size(), second_header + 512);
  for (size_t i = second_header; i < second_header + 100; ++i) tar_bytes[i] = 'X';
  WriteFile(tar_path, tar_bytes);
  Result<std::vector<Member>> f = ReadAll(tar_path);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), Code::kCorruption);
  EXPECT_NE(f.status().message().find(tar_path), std::string::npos) << f.status().message();

  // Not an archive at all.
  std::string text = (dir / "notes.tar").string();
  WriteFile(text, "this is a plain text file, not a tar archive\n");
  auto t = ArchiveReader::Open(text);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), Code::kInvalidArgument);
  EXPECT_NE(t.status().message().find(text), std::string::npos);

  auto missing = ArchiveReader::Open((dir / "missing.zip").string());
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(missing.status().IsNotFound());
}

// Only a file whose unread bytes are skipped by seeking says so (the bag walker then reads
// tag files ahead): an uncompressed tar or a zip; not a compressed tar, not a stream.
TEST(ArchiveTest, SeeksPastDataOnlyForUncompressedFiles) {
  TempDir tmp;
  for (auto [name, format, seeks] : {std::tuple{"a.tar", ArchiveFormat::kTar, true},
                                     std::tuple{"a.zip", ArchiveFormat::kZip, true},
                                     std::tuple{"a.tgz", ArchiveFormat::kTarGz, false}}) {
    std::string path = (tmp / name).string();
    auto writer = ArchiveWriter::Create(path, format);
    ASSERT_OK(writer);
    ASSERT_OK((*writer)->BeginFile("x.txt", 1));
    ASSERT_OK((*writer)->WriteData(std::as_bytes(std::span<const char>("x", 1))));
    ASSERT_OK((*writer)->Finish());
    auto reader = ArchiveReader::Open(path);
    ASSERT_OK(reader);
    EXPECT_EQ((*reader)->SeeksPastData(), seeks) << name;
    if (format == ArchiveFormat::kTar) {
      int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      ASSERT_GE(fd, 0);
      auto stream = ArchiveReader::OpenStream(fd, "a stream");
      ASSERT_OK(stream);
      EXPECT_FALSE((*stream)->SeeksPastData());
      stream->reset();
      ::close(fd);
    }
  }
}

TEST(ArchiveTest, WriterWithoutFinishLeavesNothing) {
  TempDir dir;
  std::string path = (dir / "never.zip").string();
  {
    auto w = ArchiveWriter::Create(path, ArchiveFormat::kZip);
    ASSERT_OK(w);
    ASSERT_OK((*w)->BeginFile("a", 3));
    ASSERT_OK((*w)->WriteData(Bytes("abc")));
  }
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

TEST(ArchiveTest, WriterEnforcesDeclaredSizes) {
  TempDir dir;
  auto w = ArchiveWriter::Create((dir / "s.tar").string(), ArchiveFormat::kTar);
  ASSERT_OK(w);
  ASSERT_OK((*w)->BeginFile("f", 3));
  Status too_much = (*w)->WriteData(Bytes("abcd"));
  EXPECT_EQ(too_much.code(), Code::kInvalidArgument);
  ASSERT_OK((*w)->WriteData(Bytes("ab")));
  Status short_file = (*w)->BeginFile("g", 0);
  EXPECT_EQ(short_file.code(), Code::kInvalidArgument);
  EXPECT_NE(short_file.message().find("short"), std::string::npos);
  EXPECT_FALSE((*w)->Finish().ok());
}

}  // namespace
}  // namespace cairn::bagit
