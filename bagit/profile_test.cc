#include "bagit/profile.h"

#include <gtest/gtest.h>

#include "bagit/archive.h"
#include "bagit/validator.h"
#include "tests/util/assert_ok.h"
#include "tests/util/test_util.h"

namespace cairn::bagit {
namespace {

using cairn::testing::FixturePath;

Report ValidateWith(const std::string& bag, const Profile& profile) {
  ValidateOptions options;
  options.profile = &profile;
  Result<Validation> v = ValidateBag(bag, options);
  EXPECT_OK(v);
  return v.ok() ? std::move(v->report) : Report();
}

Profile MustParse(const std::string& json) {
  Result<Profile> p = Profile::Parse(json, "inline.json");
  EXPECT_OK(p);
  return p.ok() ? std::move(p).value() : Profile();
}

const std::string kBag = FixturePath("bags/crlf-tag-files").string();

TEST(ProfileTest, ShippedProfilesLoad) {
  for (const char* name : {"cairn-default.json", "cairn-basic.json"}) {
    std::string path =
        (boost::filesystem::path(CAIRN_SOURCE_DIR) / "policies/profiles" / name).string();
    Result<Profile> p = Profile::Load(path);
    EXPECT_OK(p);
  }
}

TEST(ProfileTest, BrokenProfilesNameTheFile) {
  std::string broken = FixturePath("profiles/broken.json").string();
  Result<Profile> p = Profile::Load(broken);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), Code::kInvalidArgument);
  EXPECT_NE(p.status().message().find("broken.json"), std::string::npos);
  EXPECT_NE(p.status().message().find("invalid JSON"), std::string::npos);

  Result<Profile> wrong_type = Profile::Parse(R"({"Manifests-Required": "sha256"})", "w.json");
  ASSERT_FALSE(wrong_type.ok());
  EXPECT_NE(wrong_type.status().message().find("Manifests-Required"), std::string::npos);
  EXPECT_FALSE(Profile::Parse(R"({"Manifests-Allowed": ["sha3"]})", "a.json").ok());
  EXPECT_FALSE(Profile::Parse(R"({"Serialization": "sometimes"})", "s.json").ok());
  EXPECT_FALSE(Profile::Parse(R"({"Bag-Info": {"X": {"required": "yes"}}})", "b.json").ok());
  EXPECT_EQ(Profile::Load("/no/such/profile.json").status().code(), Code::kNotFound);
}

// A number too large for a double made the error path throw json's out_of_range
// (found by profile_fuzz). It is refused like any other invalid JSON.
TEST(ProfileTest, HugeNumbersAreInvalidJsonNotACrash) {
  Result<Profile> huge = Profile::Parse(R"({"BagIt-Profile-Version": 1e999999})", "huge.json");
  ASSERT_FALSE(huge.ok());
  EXPECT_NE(huge.status().message().find("huge.json: invalid JSON"), std::string::npos)
      << huge.status().ToString();
  EXPECT_NE(huge.status().message().find("number overflow"), std::string::npos);

  // Every crash input kept from fuzzing is replayed here.
  int replayed = 0;
  for (const auto& entry : boost::filesystem::directory_iterator(FixturePath("fuzz-crashes"))) {
    if (entry.path().filename().string().rfind("profile_fuzz-", 0) != 0) continue;
    std::string text = cairn::testing::ReadFile(entry.path());
    Result<Profile> p = Profile::Parse(text, entry.path().filename().string());
    EXPECT_FALSE(p.ok()) << entry.path();
    ++replayed;
  }
  EXPECT_GE(replayed, 1);
}

TEST(ProfileTest, TestProfileAcceptsItsBag) {
  Result<Profile> p = Profile::Load(FixturePath("profiles/test-profile.json").string());
  ASSERT_OK(p);
  EXPECT_EQ(p->identifier(), "https://cairn.example/tests/test-profile.json");
  Report r = ValidateWith(kBag, *p);
  EXPECT_TRUE(r.valid()) << r.ToText();
}

TEST(ProfileTest, EachRuleIsEnforced) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"Bag-Info": {"Contact-Name": {"required": true}}})", "profile.bag-info-required"},
      {R"({"Bag-Info": {"Source-Organization": {"values": ["Other"]}}})", "profile.bag-info-value"},
      {R"({"Manifests-Required": ["sha512"]})", "profile.manifest-required"},
      {R"({"Manifests-Allowed": ["md5"]})", "profile.manifest-not-allowed"},
      {R"({"Tag-Manifests-Required": ["md5"]})", "profile.tagmanifest-required"},
      {R"({"Tag-Manifests-Allowed": ["sha512"]})", "profile.tagmanifest-not-allowed"},
      {R"({"Tag-Files-Required": ["metadata/mods.xml"]})", "profile.tag-file-required"},
      {R"({"Serialization": "required"})", "profile.serialization"},
      {R"({"Accept-BagIt-Version": ["0.97"]})", "profile.bagit-version"},
      {R"({"Data-Empty": true})", "profile.data-empty"},
      {R"({"Fetch.txt-Required": true})", "profile.fetch-required"},
  };
  for (const auto& [json, rule] : cases) {
    Report r = ValidateWith(kBag, MustParse(json));
    EXPECT_FALSE(r.valid()) << json;
    EXPECT_TRUE(r.Has(rule)) << json << "\n" << r.ToText();
  }
}

TEST(ProfileTest, FetchAndExtraTagFiles) {
  std::string holey = FixturePath("bagit-conformance-suite/v0.97/valid/holey-bag").string();
  Report fetch = ValidateWith(holey, MustParse(R"({"Allow-Fetch.txt": false})"));
  EXPECT_TRUE(fetch.Has("profile.fetch-not-allowed")) << fetch.ToText();
  std::string extra =
      FixturePath(
          "bagit-conformance-suite/v0.97/windows-only/out-of-scope-file-paths-using-unc-for-fetch")
          .string();
  Report tags = ValidateWith(extra, MustParse(R"({"Tag-Files-Allowed": ["bag-info.txt"]})"));
  EXPECT_TRUE(tags.Has("profile.tag-file-not-allowed")) << tags.ToText();
}

TEST(ProfileTest, SerializationOfArchives) {
  cairn::testing::TempDir tmp;
  std::string archive = (tmp / "bag.tar.gz").string();
  auto writer = ArchiveWriter::Create(archive, ArchiveFormat::kTarGz);
  ASSERT_OK(writer);
  boost::filesystem::path bag = FixturePath("bags/crlf-tag-files");
  for (boost::filesystem::recursive_directory_iterator it(bag), end; it != end; ++it) {
    if (!boost::filesystem::is_regular_file(it->path())) continue;
    std::string bytes = cairn::testing::ReadFile(it->path());
    std::string name = "bag/" + boost::filesystem::relative(it->path(), bag).generic_string();
    ASSERT_OK((*writer)->BeginFile(name, bytes.size()));
    ASSERT_TRUE((*writer)
                    ->WriteData(std::as_bytes(std::span<const char>(bytes.data(), bytes.size())))
                    .ok());
  }
  ASSERT_OK((*writer)->Finish());
  EXPECT_TRUE(ValidateWith(archive, MustParse(R"({"Serialization": "required",
      "Accept-Serialization": ["application/x-tar+gzip"]})"))
                  .valid());
  Report zip_only =
      ValidateWith(archive, MustParse(R"({"Accept-Serialization": ["application/zip"]})"));
  EXPECT_TRUE(zip_only.Has("profile.serialization")) << zip_only.ToText();
  Report forbidden = ValidateWith(archive, MustParse(R"({"Serialization": "forbidden"})"));
  EXPECT_TRUE(forbidden.Has("profile.serialization")) << forbidden.ToText();
}

}  // namespace
}  // namespace cairn::bagit
