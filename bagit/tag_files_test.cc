#include "bagit/tag_files.h"

#include <gtest/gtest.h>

#include "tests/util/assert_ok.h"

namespace cairn::bagit {
namespace {

constexpr BagitVersion kV1{1, 0};
constexpr BagitVersion kV097{0, 97};

std::vector<std::string> Rules(const Report& r) {
  std::vector<std::string> out;
  for (const Finding& f : r.findings()) out.push_back(f.rule);
  return out;
}

TEST(BagitTxtTest, AcceptsEveryLineEnding) {
  for (std::string eol : {"\n", "\r\n", "\r"}) {
    Report report;
    BagitDeclaration d = ParseBagitTxt(
        "BagIt-Version: 0.97" + eol + "Tag-File-Character-Encoding: ISO-8859-1" + eol, &report);
    EXPECT_TRUE(report.findings().empty()) << Rules(report).front();
    EXPECT_TRUE(d.version_known);
    EXPECT_EQ(d.version.ToString(), "0.97");
    EXPECT_EQ(d.encoding, "ISO-8859-1");
  }
  Report no_final_newline;
  ParseBagitTxt("BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8", &no_final_newline);
  EXPECT_TRUE(no_final_newline.valid());
}

TEST(BagitTxtTest, RefusesBomOrderVersionAndExtraLines) {
  Report bom;
  ParseBagitTxt(
      "\xEF\xBB\xBF"
      "BagIt-Version: 0.97\nTag-File-Character-Encoding: UTF-8\n",
      &bom);
  EXPECT_EQ(Rules(bom), std::vector<std::string>{"bagit.bom"});

  Report order;
  ParseBagitTxt("Tag-File-Character-Encoding: UTF-8\nBagIt-Version: 1.0\n", &order);
  EXPECT_TRUE(order.Has("bagit.order"));

  Report version;
  BagitDeclaration d =
      ParseBagitTxt("BagIt-Version: .97\nTag-File-Character-Encoding: UTF-8\n", &version);
  EXPECT_TRUE(version.Has("bagit.version"));
  EXPECT_FALSE(d.version_known);

  Report unsupported;
  ParseBagitTxt("BagIt-Version: 2.0\nTag-File-Character-Encoding: UTF-8\n", &unsupported);
  EXPECT_TRUE(unsupported.Has("bagit.version"));

  Report missing;
  ParseBagitTxt("BagIt-Version: 0.97\n", &missing);
  EXPECT_TRUE(missing.Has("bagit.encoding-missing"));

  Report extra;
  ParseBagitTxt("BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\nFoo: bar\n", &extra);
  EXPECT_TRUE(extra.Has("bagit.extra-line"));
}

TEST(BagitTxtTest, WhitespaceIsAnErrorIn10AndAWarningBefore) {
  Report v1;
  ParseBagitTxt("BagIt-Version : 1.0\nTag-File-Character-Encoding : UTF-8\n", &v1);
  EXPECT_TRUE(v1.Has("bagit.whitespace"));
  EXPECT_FALSE(v1.valid());
  Report v097;
  ParseBagitTxt("BagIt-Version : 0.97\nTag-File-Character-Encoding : UTF-8\n", &v097);
  EXPECT_TRUE(v097.Has("bagit.whitespace"));
  EXPECT_TRUE(v097.valid());
}

TEST(TagTextDecoderTest, DecodesLatin1AndUtf16) {
  auto latin1 = TagTextDecoder::Create("ISO-8859-1");
  ASSERT_OK(latin1);
  std::string out;
  ASSERT_OK((*latin1)->Feed("Caf\xE9", &out));
  EXPECT_EQ(out, "Caf\xC3\xA9");

  auto utf16 = TagTextDecoder::Create("UTF-16");
  ASSERT_OK(utf16);
  std::string le(
      "\xFF\xFE"
      "A\0:\0 \0\xE9\0\n\0",
      12);
  out.clear();
  // Fed one byte at a time: characters split across chunks must still decode.
  for (char c : le) ASSERT_OK((*utf16)->Feed(std::string_view(&c, 1), &out));
  EXPECT_OK((*utf16)->Finish());
  EXPECT_EQ(out, "A: \xC3\xA9\n");

  auto utf8 = TagTextDecoder::Create("UTF-8");
  ASSERT_OK(utf8);
  out.clear();
  ASSERT_OK((*utf8)->Feed("\xEF\xBB\xBFx", &out));
  EXPECT_EQ(out, "x");
  EXPECT_TRUE((*utf8)->bom_seen());

  EXPECT_FALSE(TagTextDecoder::Create("NO-SUCH-ENCODING-42").ok());
}

TEST(LineSplitterTest, SplitsLfCrCrlfAcrossChunks) {
  std::vector<std::string> lines;
  LineSplitter splitter([&](uint64_t, std::string_view l) { lines.emplace_back(l); });
  ASSERT_OK(splitter.Feed("a\r"));
  ASSERT_OK(splitter.Feed("\nb\rc\nd"));
  ASSERT_OK(splitter.Feed("e"));
  ASSERT_OK(splitter.Finish());
  EXPECT_EQ(lines, (std::vector<std::string>{"a", "b", "c", "de"}));
}

TEST(LineSplitterTest, RefusesAnOverlongLineWithItsNumber) {
  LineSplitter splitter([](uint64_t, std::string_view) {}, 16);
  ASSERT_OK(splitter.Feed("short\n"));
  Status s = splitter.Feed(std::string(10, 'x'));
  ASSERT_OK(s);
  s = splitter.Feed(std::string(10, 'x'));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("line 2"), std::string::npos);
}

TEST(BagInfoTest, ContinuationLinesAndRepeatedLabels) {
  Report report;
  BagInfo info = ParseBagInfo(
      "External-Description: Uncompressed greyscale TIFF images from the\r\n"
      "         Yoshimuri papers collection.\r\n"
      "Contact-Name: A\r\ncontact-name: B\r\nPayload-Oxum: 58.2\r\n",
      kV1, "bag-info.txt", &report);
  EXPECT_TRUE(report.findings().empty());
  ASSERT_EQ(info.entries.size(), 4u);
  EXPECT_EQ(info.entries[0].value,
            "Uncompressed greyscale TIFF images from the Yoshimuri papers collection.");
  EXPECT_EQ(info.Values("Contact-Name"), (std::vector<std::string>{"A", "B"}));
  EXPECT_EQ(info.oxum_bytes, 58u);
  EXPECT_EQ(info.oxum_files, 2u);
}

TEST(BagInfoTest, WhitespaceBeforeColonOnlyBefore10) {
  Report v097;
  BagInfo info = ParseBagInfo("Test-Tag    :   5\n", kV097, "bag-info.txt", &v097);
  EXPECT_TRUE(v097.findings().empty());
  ASSERT_EQ(info.entries.size(), 1u);
  EXPECT_EQ(info.entries[0].label, "Test-Tag");
  EXPECT_EQ(info.entries[0].value, "5");
  Report v1;
  ParseBagInfo("Test-Tag : 5\n", kV1, "bag-info.txt", &v1);
  ASSERT_EQ(Rules(v1), std::vector<std::string>{"bag-info.whitespace-before-colon"});
  EXPECT_EQ(v1.findings()[0].line, 1u);
  EXPECT_EQ(v1.findings()[0].file, "bag-info.txt");
}

TEST(BagInfoTest, OxumRulesAndMalformedLines) {
  Report repeated;
  BagInfo info =
      ParseBagInfo("Payload-Oxum: 1.1\nPayload-Oxum: 1.1\n", kV1, "bag-info.txt", &repeated);
  EXPECT_TRUE(repeated.Has("bag-info.oxum-repeated"));
  EXPECT_FALSE(info.oxum_bytes);
  Report format;
  ParseBagInfo("Payload-Oxum: 12\n", kV1, "bag-info.txt", &format);
  EXPECT_TRUE(format.Has("bag-info.oxum-format"));
  Report bad;
  ParseBagInfo("  leading continuation\nno colon here\n", kV1, "bag-info.txt", &bad);
  EXPECT_EQ(Rules(bad), (std::vector<std::string>{"bag-info.continuation", "bag-info.no-colon"}));
}

TEST(ManifestLineTest, ParsesSpacesTabsStarAndDotSlash) {
  Report report;
  std::string md5(32, 'A');
  auto line =
      ParseManifestLine(md5 + " \t data/a b.txt", Algorithm::kMd5, "manifest-md5.txt", 1, &report);
  ASSERT_TRUE(line);
  EXPECT_EQ(line->digest, std::string(32, 'a'));
  EXPECT_EQ(line->path, "data/a b.txt");
  auto star = ParseManifestLine(md5 + " *data/x", Algorithm::kMd5, "manifest-md5.txt", 2, &report);
  ASSERT_TRUE(star);
  EXPECT_EQ(star->path, "data/x");
  auto dot =
      ParseManifestLine(md5 + "  ./data/y%0A", Algorithm::kMd5, "manifest-md5.txt", 3, &report);
  ASSERT_TRUE(dot);
  EXPECT_EQ(dot->path, "data/y\n");
  EXPECT_EQ(Rules(report),
            (std::vector<std::string>{"manifest.md5sum-star", "manifest.dot-slash"}));
  EXPECT_TRUE(report.valid());
}

TEST(ManifestLineTest, RefusesBadDigestsAndPaths) {
  Report report;
  EXPECT_FALSE(ParseManifestLine("abc data/x", Algorithm::kMd5, "m", 1, &report));
  EXPECT_FALSE(
      ParseManifestLine(std::string(32, 'g') + " data/x", Algorithm::kMd5, "m", 2, &report));
  EXPECT_FALSE(ParseManifestLine(std::string(32, 'a'), Algorithm::kMd5, "m", 3, &report));
  EXPECT_FALSE(ParseManifestLine(std::string(32, 'a') + " ../x", Algorithm::kMd5, "m", 4, &report));
  EXPECT_EQ(Rules(report), (std::vector<std::string>{"manifest.bad-digest", "manifest.bad-digest",
                                                     "manifest.malformed", "path.dot-dot"}));
  EXPECT_EQ(report.findings()[3].line, 4u);
}

TEST(FetchLineTest, ParsesAndChecks) {
  Report report;
  auto f = ParseFetchLine("http://x/y 123 data/test%201.txt", "fetch.txt", 1, &report);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->url, "http://x/y");
  EXPECT_EQ(f->length, 123u);
  EXPECT_EQ(f->path, "data/test%201.txt");
  auto dash = ParseFetchLine("http://x/y - data/a b", "fetch.txt", 2, &report);
  ASSERT_TRUE(dash);
  EXPECT_FALSE(dash->length);
  EXPECT_EQ(dash->path, "data/a b");
  EXPECT_TRUE(report.findings().empty());
  EXPECT_FALSE(ParseFetchLine("http://x/y 12x data/a", "fetch.txt", 3, &report));
  EXPECT_FALSE(ParseFetchLine("http://x/y - bag-info.txt", "fetch.txt", 4, &report));
  EXPECT_FALSE(ParseFetchLine("http://x/y - /etc/passwd", "fetch.txt", 5, &report));
  EXPECT_FALSE(ParseFetchLine("http://x/y", "fetch.txt", 6, &report));
  EXPECT_EQ(Rules(report), (std::vector<std::string>{"fetch.bad-length", "fetch.path-outside-data",
                                                     "path.absolute", "fetch.malformed"}));
}

TEST(ClassifyTagFileTest, NormalisesAlgorithmNames) {
  std::optional<Algorithm> a;
  EXPECT_EQ(ClassifyTagFile("manifest-SHA-256.txt", &a), TagKind::kManifest);
  EXPECT_EQ(a, Algorithm::kSha256);
  EXPECT_EQ(ClassifyTagFile("tagmanifest-sha512.txt", &a), TagKind::kTagManifest);
  EXPECT_EQ(a, Algorithm::kSha512);
  EXPECT_EQ(ClassifyTagFile("manifest-foo.txt", &a), TagKind::kManifest);
  EXPECT_FALSE(a);
  EXPECT_EQ(ClassifyTagFile("bagit.txt", &a), TagKind::kBagitTxt);
  EXPECT_EQ(ClassifyTagFile("sub/manifest-md5.txt", &a), TagKind::kOther);
}

TEST(BagInfo, MoreThanTheElementLimitIsRefusedAndNotHeld) {
  std::string text;
  for (size_t i = 0; i < kMaxBagInfoElements + 5; ++i) text += "Note: " + std::to_string(i) + "\n";
  Report report;
  BagInfo info = ParseBagInfo(text, kV1, "bag-info.txt", &report);
  EXPECT_TRUE(report.Has("bag-info.too-many-elements"));
  EXPECT_EQ(info.entries.size(), kMaxBagInfoElements);
  Report fine;
  text.resize(text.find("Note: " + std::to_string(kMaxBagInfoElements) + "\n"));
  EXPECT_EQ(ParseBagInfo(text, kV1, "bag-info.txt", &fine).entries.size(), kMaxBagInfoElements);
  EXPECT_TRUE(fine.valid());
}

}  // namespace
}  // namespace cairn::bagit
