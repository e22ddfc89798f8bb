// ReadMapped: the bytes of a real file in order, window after window; a file
// truncated under the map is caught (SIGBUS) and reported, and the process
// goes on; HashFile, which hashes files over one read from a map, gives the
// digests of the bytes.
#include "bagit/mapped_read.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "bagit/digest.h"
#include "tests/util/assert_ok.h"
#include "tests/util/test_util.h"

namespace cairn::bagit {
namespace {

using cairn::testing::TempDir;
using cairn::testing::WriteFile;

std::string Pattern(size_t size) {
  std::string s(size, '\0');
  for (size_t i = 0; i < size; ++i) s[i] = static_cast<char>((i * 131 + i / 4099) & 0xff);
  return s;
}

TEST(MappedReadTest, HandsEveryByteInOrderAcrossWindows) {
  TempDir tmp;
  const std::string bytes = Pattern((40 << 20) + 12345);  // three 16 MiB windows, the last short
  WriteFile(tmp.path() / "f", bytes);
  int fd = ::open((tmp.path() / "f").c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  std::string got;
  size_t largest = 0;
  MappedRead r = ReadMapped(fd, bytes.size(), 1 << 20, [&](std::span<const std::byte> b) {
    got.append(reinterpret_cast<const char*>(b.data()), b.size());
    largest = std::max(largest, b.size());
    return true;
  });
  ::close(fd);
  EXPECT_EQ(r, MappedRead::kDone);
  EXPECT_EQ(largest, size_t{1} << 20);
  EXPECT_TRUE(got == bytes);
}

TEST(MappedReadTest, ARangeMayStartAnywhere) {
  TempDir tmp;
  const std::string bytes = Pattern((20 << 20) + 999);
  WriteFile(tmp.path() / "f", bytes);
  int fd = ::open((tmp.path() / "f").c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  for (uint64_t offset : {uint64_t{0}, uint64_t{4096}, uint64_t{12345}, uint64_t{(16 << 20) + 7}}) {
    const uint64_t length = bytes.size() - offset - 11;
    std::string got;
    MappedRead r = ReadMappedRange(fd, offset, length, 300000, [&](std::span<const std::byte> b) {
      got.append(reinterpret_cast<const char*>(b.data()), b.size());
      return true;
    });
    EXPECT_EQ(r, MappedRead::kDone) << offset;
    EXPECT_TRUE(got == bytes.substr(offset, length)) << offset;
  }
  ::close(fd);
}

TEST(MappedReadTest, StopsWhenTheCallbackSaysSo) {
  TempDir tmp;
  WriteFile(tmp.path() / "f", Pattern(5 << 20));
  int fd = ::open((tmp.path() / "f").c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  int calls = 0;
  MappedRead r =
      ReadMapped(fd, 5 << 20, 1 << 20, [&](std::span<const std::byte>) { return ++calls < 2; });
  ::close(fd);
  EXPECT_EQ(r, MappedRead::kStopped);
  EXPECT_EQ(calls, 2);
}

TEST(MappedReadTest, AFileTruncatedUnderTheMapIsReportedNotFatal) {
  TempDir tmp;
  const std::string path = (tmp.path() / "f").string();
  WriteFile(path, Pattern(8 << 20));
  int fd = ::open(path.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  int pieces = 0;
  MappedRead r = ReadMapped(fd, 8 << 20, 1 << 20, [&](std::span<const std::byte> b) {
    if (++pieces == 1) EXPECT_EQ(::truncate(path.c_str(), 4096), 0);
    volatile std::byte sink = b[0];  // the second piece starts past the new end
    (void)sink;
    return true;
  });
  ::close(fd);
  EXPECT_EQ(r, MappedRead::kFailed);
  EXPECT_EQ(pieces, 2);
}

TEST(MappedReadTest, HashFileOfALargeFileEqualsTheDigestsOfItsBytes) {
  TempDir tmp;
  const std::string bytes = Pattern((20 << 20) + 3);
  WriteFile(tmp.path() / "f", bytes);
  AlgorithmSet set = Only(Algorithm::kSha256) | Only(Algorithm::kMd5);
  Result<FileDigests> got = HashFile((tmp.path() / "f").string(), set);
  ASSERT_OK(got);
  EXPECT_EQ(got->size, bytes.size());
  Digests want = HashBytes(bytes, set);
  EXPECT_EQ(got->digests[Algorithm::kSha256], want[Algorithm::kSha256]);
  EXPECT_EQ(got->digests[Algorithm::kMd5], want[Algorithm::kMd5]);
}

}  // namespace
}  // namespace cairn::bagit
