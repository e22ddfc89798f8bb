// ReceiveBag on tar streams made here: a good bag arrives whole; a wrong digest, an unlisted or
// missing file, a payload file before its manifest, a wrong Payload-Oxum and a tag file that
// disagrees with its tag manifest each stop it naming the file and the rule, and the output,
// destroyed unfinished, leaves nothing at DEST.
#include "repo/restore/restore_receive.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <utility>
#include <vector>

#include "bagit/archive.h"
#include "bagit/digest.h"
#include "tests/util/assert_ok.h"
#include "tests/util/test_util.h"

namespace cairn::repo {
namespace {

namespace fs = cairn::testing::fs;
using testing::ReadFile;
using Members = std::vector<std::pair<std::string, std::string>>;  // path below "bag/", bytes

std::string Sha256(const std::string& bytes) {
  return bagit::HashBytes(bytes, bagit::Only(bagit::Algorithm::kSha256))[bagit::Algorithm::kSha256];
}

class ReceiveTest : public ::testing::Test {
 protected:
  // A good bag's members, tag files first.
  Members GoodBag() {
    const std::string a = "alpha\n", b(3000, 'b');
    std::string manifest = Sha256(a) + "  data/a.txt\n" + Sha256(b) + "  data/sub%25/b.bin\n";
    std::string bagit = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n";
    std::string info = "Payload-Oxum: 3006.2\n";
    std::string tags = Sha256(bagit) + "  bagit.txt\n" + Sha256(info) + "  bag-info.txt\n" +
                       Sha256(manifest) + "  manifest-sha256.txt\n";
    return {{"bagit.txt", bagit},
            {"bag-info.txt", info},
            {"manifest-sha256.txt", manifest},
            {"tagmanifest-sha256.txt", tags},
            {"data/a.txt", a},
            {"data/sub%/b.bin", b}};
  }

  // Receives `members` (as a tar with top folder "bag") into a folder at tmp/out; finishes the
  // output only when the receipt succeeds.
  Result<ReceivedBag> Receive(const Members& members) {
    const std::string tar = (tmp_ / "in.tar").string();
    ::unlink(tar.c_str());
    {
      auto writer = bagit::ArchiveWriter::Create(tar, bagit::ArchiveFormat::kTar);
      EXPECT_OK(writer);
      EXPECT_OK((*writer)->AddDirectory("bag/"));
      for (const auto& [path, bytes] : members) {
        EXPECT_OK((*writer)->BeginFile("bag/" + path, bytes.size()));
        EXPECT_OK((*writer)->WriteData(std::as_bytes(std::span(bytes.data(), bytes.size()))));
      }
      EXPECT_OK((*writer)->Finish());
    }
    int fd = ::open(tar.c_str(), O_RDONLY | O_CLOEXEC);
    EXPECT_GE(fd, 0);
    Result<ReceivedBag> got = Status::Unavailable("not run");
    {
      auto out = CreateRestoreOutput((tmp_ / "out").string(), RestoreFormat::kDir, "out");
      EXPECT_OK(out);
      auto reader = bagit::ArchiveReader::OpenStream(fd, "the test stream");
      EXPECT_OK(reader);
      if (reader.ok() && out.ok()) got = ReceiveBag(**reader, **out, "the test stream");
      if (got.ok()) EXPECT_OK((*out)->Finish());
    }
    ::close(fd);
    return got;
  }

  void ExpectRefused(const Members& members, const std::string& file, const std::string& rule) {
    Result<ReceivedBag> got = Receive(members);
    ASSERT_FALSE(got.ok());
    EXPECT_TRUE(got.status().IsCorruption()) << got.status().ToString();
    EXPECT_NE(got.status().message().find(file), std::string::npos) << got.status().ToString();
    EXPECT_NE(got.status().message().find(rule), std::string::npos) << got.status().ToString();
    for (const auto& entry : fs::directory_iterator(tmp_.path())) {
      EXPECT_EQ(entry.path().filename().string().rfind("out", 0), std::string::npos)
          << entry.path();
    }
  }

  testing::TempDir tmp_;
};

TEST_F(ReceiveTest, GoodBagArrivesWhole) {
  Result<ReceivedBag> got = Receive(GoodBag());
  ASSERT_OK(got);
  EXPECT_EQ(got->top, "bag");
  EXPECT_EQ(got->payload_files, 2u);
  EXPECT_EQ(got->payload_bytes, 3006u);
  EXPECT_EQ(got->tag_files, 4u);
  EXPECT_EQ(ReadFile(tmp_ / "out/data/a.txt"), "alpha\n");
  EXPECT_EQ(ReadFile(tmp_ / "out/data/sub%/b.bin"), std::string(3000, 'b'));
  EXPECT_EQ(ReadFile(tmp_ / "out/bag-info.txt"), "Payload-Oxum: 3006.2\n");
}

// A bag with NFD names (a Mac's): the server's tar carries their bytes, but libarchive reads a
// pax name back in NFC, so a remote restore refused the bag (restore.received-unlisted). Each
// arrives under its manifest's name, byte for byte; an NFC twin the manifest lists too keeps its
// own.
TEST_F(ReceiveTest, NfdNamesArriveUnderTheirManifestsNames) {
  const std::string nfd = "data/Cafe\xcc\x81.txt", nfc = "data/Caf\xc3\xa9.txt";
  const std::string hangul = "data/\xe1\x84\x92\xe1\x85\xa1\xe1\x86\xab/x";
  std::string manifest = Sha256("decomposed") + "  " + nfd + "\n" + Sha256("hangul") + "  " +
                         hangul + "\n" + Sha256("composed") + "  " + nfc + "\n";
  std::string bagit = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n";
  std::string info = "Payload-Oxum: 24.3\n";
  std::string tags = Sha256(bagit) + "  bagit.txt\n" + Sha256(info) + "  bag-info.txt\n" +
                     Sha256(manifest) + "  manifest-sha256.txt\n";
  Members bag = {{"bagit.txt", bagit},
                 {"bag-info.txt", info},
                 {"manifest-sha256.txt", manifest},
                 {"tagmanifest-sha256.txt", tags},
                 {nfc, "composed"},
                 {nfd, "decomposed"},
                 {hangul, "hangul"}};
  Result<ReceivedBag> got = Receive(bag);
  ASSERT_OK(got);
  EXPECT_EQ(got->payload_files, 3u);
  EXPECT_EQ(ReadFile(tmp_ / "out" / nfd), "decomposed");
  EXPECT_EQ(ReadFile(tmp_ / "out" / nfc), "composed");
  EXPECT_EQ(ReadFile(tmp_ / "out" / hangul), "hangul");
}

TEST_F(ReceiveTest, WrongBytesAreRefusedNamingTheFile) {
  Members bag = GoodBag();
  bag[5].second[100] = 'x';
  ExpectRefused(bag, "data/sub%/b.bin", "restore.received-digest");
}

// Files of several MiB (not a multiple of any read size), two manifests: each file is checked
// with both as it arrives, and one flipped bit past its first MiB is refused.
TEST_F(ReceiveTest, LargeFilesAreCheckedWithEveryManifestAsTheyArrive) {
  using bagit::Algorithm;
  auto digests = [](const std::string& b) {
    return bagit::HashBytes(b, bagit::Only(Algorithm::kSha256) | bagit::Only(Algorithm::kSha512));
  };
  std::string big1((3 << 20) + 17, '\0'), big2((1 << 20) + 5, '\0'), small(300, 's');
  for (size_t i = 0; i < big1.size(); ++i) big1[i] = static_cast<char>((i * 31) >> 3);
  for (size_t i = 0; i < big2.size(); ++i) big2[i] = static_cast<char>(i * 7);
  auto make = [&](const std::string& sent1) {
    std::string m256, m512;
    for (const auto& [name, bytes] : std::vector<std::pair<std::string, std::string>>{
             {"data/big1.bin", big1}, {"data/big2.bin", big2}, {"data/small.txt", small}}) {
      bagit::Digests d = digests(bytes);
      m256 += d[Algorithm::kSha256] + "  " + name + "\n";
      m512 += d[Algorithm::kSha512] + "  " + name + "\n";
    }
    return Members{{"bagit.txt", "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"},
                   {"manifest-sha256.txt", m256},
                   {"manifest-sha512.txt", m512},
                   {"data/big1.bin", sent1},
                   {"data/small.txt", small},
                   {"data/big2.bin", big2}};
  };
  Result<ReceivedBag> got = Receive(make(big1));
  ASSERT_OK(got);
  EXPECT_EQ(got->payload_files, 3u);
  EXPECT_TRUE(ReadFile(tmp_ / "out/data/big1.bin") == big1);
  EXPECT_TRUE(ReadFile(tmp_ / "out/data/big2.bin") == big2);
  fs::remove_all(tmp_ / "out");
  std::string flipped = big1;
  flipped[(2 << 20) + 3] ^= 1;  // in the third buffer handed over
  ExpectRefused(make(flipped), "data/big1.bin", "restore.received-digest");
}

TEST_F(ReceiveTest, UnlistedAndMissingFilesAreRefused) {
  Members extra = GoodBag();
  extra.push_back({"data/planted.txt", "not in the manifest\n"});
  ExpectRefused(extra, "data/planted.txt", "restore.received-unlisted");
  Members missing = GoodBag();
  missing.pop_back();
  ExpectRefused(missing, "data/sub%/b.bin", "restore.received-missing");
}

TEST_F(ReceiveTest, PayloadBeforeItsManifestIsRefused) {
  Members bag = GoodBag();
  std::swap(bag[2], bag[4]);  // data/a.txt before manifest-sha256.txt
  ExpectRefused(bag, "data/a.txt", "restore.received-order");
}

TEST_F(ReceiveTest, TagFilesAndOxumAreChecked) {
  Members oxum = GoodBag();
  oxum[1].second = "Payload-Oxum: 3007.2\n";
  // The tag manifest catches the edit first (it lists bag-info.txt): drop it to reach the oxum.
  oxum.erase(oxum.begin() + 3);
  ExpectRefused(oxum, "bag-info.txt", "restore.received-oxum");
  Members tag = GoodBag();
  tag[1].second = "Payload-Oxum: 3006.2\nSource-Organization: edited\n";
  ExpectRefused(tag, "bag-info.txt", "restore.received-digest");
}

TEST_F(ReceiveTest, MembersOutsideTheBagAreRefused) {
  Members bag = GoodBag();
  bag.push_back({"../escape.txt", "x"});
  Result<ReceivedBag> got = Receive(bag);
  ASSERT_FALSE(got.ok());
  EXPECT_TRUE(got.status().IsCorruption()) << got.status().ToString();
  EXPECT_FALSE(fs::exists(tmp_ / "escape.txt"));
  EXPECT_FALSE(fs::exists(tmp_ / "out"));
}

}  // namespace
}  // namespace cairn::repo
