// HashOpenFileInPieces: the whole digests and each piece's SHA-256 are those of
// the file's bytes, whatever the piece size against the 256 KiB reads.
#include "bagit/piece_digests.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <string>

#include "tests/util/test_util.h"

namespace cairn::bagit {
namespace {

using cairn::testing::TempDir;

// Seeded random bytes: no piece repeats another, so a piece hashed from the
// wrong offset cannot pass.
std::string RandomContent(size_t size) {
  std::mt19937_64 rng(19);
  std::string s(size, '\0');
  for (char& c : s) c = static_cast<char>(rng() >> 56);
  return s;
}

struct Hashed {
  Digests whole;
  uint64_t bytes = 0;
  std::vector<std::string> pieces;
  off_t offset_after = -1;
};

Hashed HashInPieces(const std::string& path, uint64_t piece_size) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  EXPECT_GE(fd, 0);
  MultiHasher hasher(Only(Algorithm::kSha256) | Only(Algorithm::kMd5));
  Result<std::vector<std::string>> pieces = HashOpenFileInPieces(fd, path, piece_size, hasher);
  EXPECT_TRUE(pieces.ok()) << pieces.status().ToString();
  Hashed h;
  h.offset_after = ::lseek(fd, 0, SEEK_CUR);
  ::close(fd);
  h.bytes = hasher.bytes();
  h.whole = hasher.Finish();
  if (pieces.ok()) h.pieces = *pieces;
  return h;
}

TEST(HashOpenFileInPiecesTest, WholeAndPiecesAreThoseOfTheFile) {
  TempDir tmp;
  const std::string path = (tmp.path() / "f").string();
  // Reads are 256 KiB: pieces that are a multiple of that, that are not, that
  // are smaller, and one as large as the file.
  const std::string content = RandomContent(5 * (1 << 20) + 12345);
  std::ofstream(path, std::ios::binary) << content;
  for (uint64_t piece : {uint64_t{1} << 20, uint64_t{300001}, uint64_t{4096},
                         uint64_t{content.size()}, uint64_t{content.size()} + 1}) {
    SCOPED_TRACE("piece size " + std::to_string(piece));
    Hashed h = HashInPieces(path, piece);
    EXPECT_EQ(h.bytes, content.size());
    Digests expected = HashBytes(content, Only(Algorithm::kSha256) | Only(Algorithm::kMd5));
    EXPECT_EQ(h.whole[Algorithm::kSha256], expected[Algorithm::kSha256]);
    EXPECT_EQ(h.whole[Algorithm::kMd5], expected[Algorithm::kMd5]);
    ASSERT_EQ(h.pieces.size(), (content.size() + piece - 1) / piece);
    for (size_t i = 0; i < h.pieces.size(); ++i) {
      std::string part = content.substr(i * piece, piece);
      EXPECT_EQ(h.pieces[i], HashBytes(part, Only(Algorithm::kSha256))[Algorithm::kSha256])
          << "piece " << i;
    }
    EXPECT_EQ(h.offset_after, 0) << "the file's own offset moved";
  }
}

TEST(HashOpenFileInPiecesTest, AnEmptyFileHasNoPieces) {
  TempDir tmp;
  const std::string path = (tmp.path() / "empty").string();
  std::ofstream(path, std::ios::binary).flush();
  Hashed h = HashInPieces(path, 1 << 20);
  EXPECT_EQ(h.bytes, 0u);
  EXPECT_TRUE(h.pieces.empty());
  EXPECT_EQ(h.whole[Algorithm::kSha256],
            HashBytes("", Only(Algorithm::kSha256))[Algorithm::kSha256]);
}

TEST(HashOpenFileInPiecesTest, AReadErrorIsReportedNamingTheFile) {
  TempDir tmp;
  const std::string path = (tmp.path() / "dir").string();
  ASSERT_EQ(::mkdir(path.c_str(), 0755), 0);
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  MultiHasher hasher(Only(Algorithm::kSha256));
  Result<std::vector<std::string>> pieces = HashOpenFileInPieces(fd, path, 1 << 20, hasher);
  ::close(fd);
  ASSERT_FALSE(pieces.ok());
  EXPECT_NE(pieces.status().ToString().find(path), std::string::npos) << pieces.status().ToString();
}

}  // namespace
}  // namespace cairn::bagit
