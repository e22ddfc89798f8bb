#include "bagit/paths.h"

#include <gtest/gtest.h>

#include "tests/util/assert_ok.h"

namespace cairn::bagit {
namespace {

std::string RuleOf(std::string_view path) {
  std::optional<PathViolation> v = FindPathViolation(path);
  return v ? v->rule : "ok";
}

TEST(PathsTest, AcceptsOrdinaryBagPaths) {
  EXPECT_EQ(RuleOf("data/a.txt"), "ok");
  EXPECT_EQ(RuleOf("data/dir1/~test3.txt"), "ok");  // '~' only matters at the start
  EXPECT_EQ(RuleOf("data/%7Etest1.txt"), "ok");
  EXPECT_EQ(RuleOf("data/test file with spaces.txt"), "ok");
  EXPECT_EQ(RuleOf("data/..hidden"), "ok");
  EXPECT_EQ(RuleOf("bag-info.txt"), "ok");
}

TEST(PathsTest, RefusesEveryWayOut) {
  EXPECT_EQ(RuleOf(""), "path.empty");
  EXPECT_EQ(RuleOf(std::string_view("data/a\0b", 8)), "path.nul");
  EXPECT_EQ(RuleOf("/tmp/foo"), "path.absolute");
  EXPECT_EQ(RuleOf("\\\\?\\UNC\\server\\x"), "path.unc");
  EXPECT_EQ(RuleOf("\\\\server\\share\\x"), "path.unc");
  EXPECT_EQ(RuleOf("data\\..\\..\\x"), "path.backslash");
  EXPECT_EQ(RuleOf("%HomeDrive%\\Windows\\x"), "path.backslash");
  EXPECT_EQ(RuleOf("C:/Windows/x"), "path.drive-letter");
  EXPECT_EQ(RuleOf("c:x"), "path.drive-letter");
  EXPECT_EQ(RuleOf("~/foo"), "path.home");
  EXPECT_EQ(RuleOf("~root/foo"), "path.home");
  EXPECT_EQ(RuleOf("~"), "path.home");
  EXPECT_EQ(RuleOf("data//a"), "path.empty-segment");
  EXPECT_EQ(RuleOf("data/a/"), "path.empty-segment");
  EXPECT_EQ(RuleOf("data/./a"), "path.dot");
  EXPECT_EQ(RuleOf("../../../README.md"), "path.dot-dot");
  EXPECT_EQ(RuleOf("data/../../x"), "path.dot-dot");
  EXPECT_EQ(RuleOf("data/.."), "path.dot-dot");
}

TEST(PathsTest, CheckBagPathNamesWhereAndRule) {
  EXPECT_OK(CheckBagPath("data/x", "manifest-sha256.txt line 1"));
  Status s = CheckBagPath("../x", "manifest-sha256.txt line 7");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("manifest-sha256.txt line 7"), std::string::npos);
  EXPECT_NE(s.message().find("path.dot-dot"), std::string::npos);
}

TEST(PathsTest, StripDotSlash) {
  std::string_view p = "./data/x";
  EXPECT_TRUE(StripDotSlash(&p));
  EXPECT_EQ(p, "data/x");
  std::string_view q = "data/x";
  EXPECT_FALSE(StripDotSlash(&q));
  EXPECT_EQ(q, "data/x");
}

TEST(PathsTest, PercentEncodingRoundTrips) {
  std::string name = "data/50%\nnew\rline%0A.txt";
  std::string encoded = EncodeManifestPath(name);
  EXPECT_EQ(encoded, "data/50%25%0Anew%0Dline%250A.txt");
  EXPECT_EQ(DecodeManifestPath(encoded), name);
  // Only %25, %0A and %0D are decoded; other escapes stay literal (RFC 8493 2.1.3).
  EXPECT_EQ(DecodeManifestPath("data/%7Etest1.txt"), "data/%7Etest1.txt");
  EXPECT_EQ(DecodeManifestPath("data/%test2.txt"), "data/%test2.txt");
  EXPECT_EQ(DecodeManifestPath("data/a%0d%0ab%"), "data/a\r\nb%");
}

TEST(PathsTest, OsJunk) {
  EXPECT_TRUE(IsOsJunk("data/.DS_Store"));
  EXPECT_TRUE(IsOsJunk("data/sub/Thumbs.db"));
  EXPECT_TRUE(IsOsJunk("data/thumbs.DB"));
  EXPECT_TRUE(IsOsJunk("data/._photo.jpg"));
  EXPECT_TRUE(IsOsJunk("data/.Spotlight-V100/store"));
  EXPECT_TRUE(IsOsJunk("data/desktop.ini"));
  EXPECT_FALSE(IsOsJunk("data/photo.jpg"));
  EXPECT_FALSE(IsOsJunk("data/my.DS_Store.txt"));
}

TEST(PathsTest, CollisionKeyFoldsCaseAndNormalization) {
  EXPECT_EQ(CollisionKey("data/hello.txt"), CollisionKey("data/HELLO.txt"));
  // "Núñez": NFC (precomposed ú, ñ) and NFD (u + U+0301, n + U+0303).
  std::string nfc =
      "data/N\xC3\xBA\xC3\xB1"
      "ez";
  std::string nfd =
      "data/Nu\xCC\x81n\xCC\x83"
      "ez";
  EXPECT_NE(nfc, nfd);
  EXPECT_EQ(CollisionKey(nfc), CollisionKey(nfd));
  EXPECT_EQ(CollisionKey("data/\xC3\x89T\xC3\x89"),
            CollisionKey("data/\xC3\xA9t\xC3\xA9"));  // ÉTÉ/été
  // Different letters stay different: no false collisions.
  EXPECT_NE(CollisionKey("data/cafe"), CollisionKey("data/caf\xC3\xA9"));
  EXPECT_NE(CollisionKey("data/a"), CollisionKey("data/b"));
}

// Beyond Latin letters: a Hangul syllable and its conjoining jamo, and the three spellings of Å
// (precomposed, A + combining ring, the Angstrom sign) are one name once decomposed; case folds
// still apply to what the decomposition leaves, and other scripts' letters stay apart.
TEST(PathsTest, CollisionKeyDecomposesEveryScript) {
  EXPECT_EQ(CollisionKey("data/\xEA\xB0\x80"), CollisionKey("data/\xE1\x84\x80\xE1\x85\xA1"));
  EXPECT_EQ(CollisionKey("data/\xC3\x85"), CollisionKey("data/A\xCC\x8A"));
  EXPECT_EQ(CollisionKey("data/\xE2\x84\xAB"), CollisionKey("data/\xC3\x85"));
  EXPECT_EQ(CollisionKey("data/\xE2\x84\xAB"), CollisionKey("data/\xC3\xA5"));  // Å/å
  EXPECT_EQ(CollisionKey("data/\xC3\x86"), CollisionKey("data/\xC3\xA6"));      // Æ/æ
  EXPECT_NE(CollisionKey("data/\xEA\xB0\x80"), CollisionKey("data/\xEA\xB0\x81"));
  EXPECT_NE(CollisionKey("data/\xC3\x85"), CollisionKey("data/A"));
}

}  // namespace
}  // namespace cairn::bagit
