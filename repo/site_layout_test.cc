#include "repo/site_layout.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "tests/util/assert_ok.h"

namespace cairn::repo::layout {
namespace {

const std::string kDigest =
    "ab"
    "cd" +
    std::string(60, 'e');

TEST(SiteLayout, BlobKeysFanOutAndParseBack) {
  // Layout 2 (new sites): one fan-out level.
  EXPECT_EQ(BlobKey(kDigest), "blobs/sha256/ab/" + kDigest);
  EXPECT_EQ(BlobKey(kDigest, 2), "blobs/sha256/ab/" + kDigest);
  EXPECT_EQ(ParseBlobKey(BlobKey(kDigest), 2), kDigest);
  EXPECT_FALSE(ParseBlobKey("blobs/sha256/ac/" + kDigest, 2)) << "fan-out must match the digest";
  EXPECT_FALSE(ParseBlobKey("blobs/sha256/ab/" + kDigest.substr(1), 2));
  EXPECT_FALSE(ParseBlobKey("blobs/sha256/ab/cd/" + kDigest, 2))
      << "a layout-1 key on a layout-2 site";
  // Layout 1 (sites made before): two levels.
  EXPECT_EQ(BlobKey(kDigest, 1), "blobs/sha256/ab/cd/" + kDigest);
  EXPECT_EQ(ParseBlobKey(BlobKey(kDigest, 1), 1), kDigest);
  EXPECT_FALSE(ParseBlobKey("blobs/sha256/ab/ce/" + kDigest, 1)) << "fan-out must match the digest";
  EXPECT_FALSE(ParseBlobKey("blobs/sha256/ab/cd/" + kDigest.substr(1), 1));
  EXPECT_FALSE(ParseBlobKey("blobs/sha256/ab/" + kDigest, 1))
      << "a layout-2 key on a layout-1 site";
  EXPECT_FALSE(ParseBlobKey(BlobKey(kDigest), 3)) << "unknown layout";
  // Either layout, for keys named above the site.
  EXPECT_EQ(ParseAnyBlobKey(BlobKey(kDigest, 1)), kDigest);
  EXPECT_EQ(ParseAnyBlobKey(BlobKey(kDigest, 2)), kDigest);
  std::string upper = kDigest;
  std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
  EXPECT_FALSE(ParseAnyBlobKey("blobs/sha256/AB/CD/" + upper));
  EXPECT_FALSE(ParseAnyBlobKey("blobs/sha256/AB/" + upper));
  EXPECT_FALSE(ParseAnyBlobKey("bags/x/y/v1/bagit.txt"));
  EXPECT_TRUE(IsSha256Hex(kDigest));
  EXPECT_FALSE(IsSha256Hex(upper));
}

TEST(SiteLayout, TagFileKeysParseBack) {
  EXPECT_EQ(VersionPrefix("acme", "photos-1998", 2), "bags/acme/photos-1998/v2/");
  EXPECT_EQ(TagFileKey("acme", "photos-1998", 2, "meta/mods.xml"),
            "bags/acme/photos-1998/v2/meta/mods.xml");
  auto ref = ParseTagFileKey("bags/acme/photos-1998/v12/meta/mods.xml");
  ASSERT_TRUE(ref);
  EXPECT_EQ(ref->partner, "acme");
  EXPECT_EQ(ref->object, "photos-1998");
  EXPECT_EQ(ref->version, 12u);
  EXPECT_EQ(ref->name, "meta/mods.xml");
  EXPECT_FALSE(ref->is_version_record());
  auto record = ParseTagFileKey(VersionRecordKey("acme", "o", 1));
  ASSERT_TRUE(record);
  EXPECT_TRUE(record->is_version_record());
  for (const char* bad :
       {"bags/acme/o/v0/bagit.txt", "bags/acme/o/v01/bagit.txt", "bags/acme/o/vx/bagit.txt",
        "bags/acme/o/v1/", "bags/.acme/o/v1/bagit.txt", "bags/acme/o/v1/data/file.txt",
        "bags/acme/v1/bagit.txt"}) {
    EXPECT_FALSE(ParseTagFileKey(bad)) << bad;
  }
}

TEST(SiteLayout, EventSegmentsSortNumerically) {
  EXPECT_EQ(EventSegmentKey(1, 9), "events/00000000000000000001-00000000000000000009.pb");
  std::vector<std::string> keys = {EventSegmentKey(100, 199), EventSegmentKey(10, 99),
                                   EventSegmentKey(1, 9)};
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(keys.front(), EventSegmentKey(1, 9));
  EXPECT_EQ(keys.back(), EventSegmentKey(100, 199));
  auto ref =
      ParseEventSegmentKey(EventSegmentKey(18446744073709551615u - 1, 18446744073709551615u));
  ASSERT_TRUE(ref);
  EXPECT_EQ(ref->last_seq, 18446744073709551615u);
  EXPECT_FALSE(ParseEventSegmentKey("events/1-9.pb"));
  EXPECT_FALSE(ParseEventSegmentKey(EventSegmentKey(9, 1)));
}

TEST(SiteLayout, IdsAreSafeKeySegments) {
  for (const char* good : {"acme", "A.B_c-9", "x"}) EXPECT_OK(ValidatePartnerId(good)) << good;
  for (std::string bad :
       {std::string(""), std::string(".hidden"), std::string(".."), std::string("a/b"),
        std::string("a b"), std::string("é"), std::string(129, 'a')}) {
    Status status = ValidateObjectId(bad);
    EXPECT_EQ(status.code(), Code::kInvalidArgument) << bad;
    EXPECT_NE(status.message().find("object id"), std::string::npos) << status.message();
  }
  EXPECT_OK(ValidateObjectId(std::string(128, 'a')));
}

TEST(SiteLayout, TagFileNames) {
  for (const char* good : {"bagit.txt", "tagmanifest-sha256.txt", "meta/mods.xml", "a b.txt"}) {
    EXPECT_OK(ValidateTagFileName(good)) << good;
  }
  for (const char* bad : {"data/file.txt", "data", "../x", "/abs", "version.pb", "a\nb", "a\\b",
                          "tmp/x", "", "WITHDRAWN", "WITHDRAWN-PURGE"}) {
    EXPECT_EQ(ValidateTagFileName(bad).code(), Code::kInvalidArgument) << bad;
  }
}

// Both tombstones of a version parse back to it; neither is a tag file; a tag file whose name
// only ends like one is not a tombstone.
TEST(SiteLayout, TombstoneKeysParseBack) {
  for (std::string_view name : {kTombstoneName, kPurgeTombstoneName}) {
    const std::string key = TombstoneKey("acme", "maps", 3, name);
    EXPECT_EQ(key, "bags/acme/maps/v3/" + std::string(name));
    std::optional<TagFileRef> ref = ParseTombstoneKey(key);
    ASSERT_TRUE(ref) << key;
    EXPECT_EQ(ref->partner, "acme");
    EXPECT_EQ(ref->version, 3u);
    EXPECT_EQ(ref->name, name);
    EXPECT_FALSE(ParseTagFileKey(key)) << key;
  }
  EXPECT_FALSE(ParseTombstoneKey("bags/acme/maps/v3/meta/NOT-WITHDRAWN"));
  EXPECT_FALSE(ParseTombstoneKey("bags/acme/maps/v3/meta/WITHDRAWN"));
}

TEST(SiteLayout, SiteMarkerCarriesTheRepositoryIdAndOlderMarkersStillParse) {
  SiteMarker marker{1, "site-a", "2026-11-21T12:00:00Z", "0123abcd"};
  std::string text = FormatSiteMarker(marker);
  EXPECT_NE(text.find("\nrepository-id: 0123abcd\n"), std::string::npos) << text;
  auto parsed = ParseSiteMarker(text, "x/CAIRN-SITE");
  ASSERT_OK(parsed);
  EXPECT_EQ(parsed->repository_id, "0123abcd");
  auto older = ParseSiteMarker("cairn-site 1\nsite-id: a\ncreated: now\n", "m");
  ASSERT_OK(older);
  EXPECT_EQ(older->repository_id, "");
  EXPECT_EQ(FormatSiteMarker(*older), "cairn-site 1\nsite-id: a\ncreated: now\n");
  EXPECT_EQ(ParseSiteMarker("cairn-site 1\nsite-id: a\nrepository-id: ../x\n", "m").status().code(),
            Code::kInvalidArgument);
}

TEST(SiteLayout, SiteMarkerRoundTripAndRefusals) {
  SiteMarker marker{1, "site-a", "2026-11-21T12:00:00Z"};
  std::string text = FormatSiteMarker(marker);
  EXPECT_EQ(text, "cairn-site 1\nsite-id: site-a\ncreated: 2026-11-21T12:00:00Z\n");
  auto parsed = ParseSiteMarker(text + "future-field: ignored\n", "x/CAIRN-SITE");
  ASSERT_OK(parsed);
  EXPECT_EQ(parsed->site_id, "site-a");
  EXPECT_EQ(parsed->created, "2026-11-21T12:00:00Z");

  auto current = ParseSiteMarker("cairn-site 2\nsite-id: a\n", "x/CAIRN-SITE");
  ASSERT_OK(current);
  EXPECT_EQ(current->layout_version, 2);
  EXPECT_EQ(ParseSiteMarker(text, "x/CAIRN-SITE")->layout_version, 1) << "older sites still read";
  auto future = ParseSiteMarker("cairn-site 3\nsite-id: a\n", "x/CAIRN-SITE");
  EXPECT_EQ(future.status().code(), Code::kInvalidArgument);
  EXPECT_NE(future.status().message().find("version 3 is unknown"), std::string::npos);
  EXPECT_EQ(ParseSiteMarker("cairn-site 0\nsite-id: a\n", "m").status().code(),
            Code::kInvalidArgument);
  EXPECT_NE(future.status().message().find("x/CAIRN-SITE"), std::string::npos);
  EXPECT_EQ(ParseSiteMarker("hello\n", "m").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ParseSiteMarker("cairn-site 1\ncreated: now\n", "m").status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(ParseSiteMarker("cairn-site 1\nsite-id: ../x\n", "m").status().code(),
            Code::kInvalidArgument);
}

TEST(SiteLayout, SettingsRecordKeysSortNumericallyAndParseBack) {
  EXPECT_EQ(SettingsRecordKey("policies", "partner.acme", 2),
            "settings/policies/partner.acme/00000000000000000002.pb");
  EXPECT_LT(SettingsRecordKey("sites", "a", 9), SettingsRecordKey("sites", "a", 10));
  auto ref = ParseSettingsRecordKey(SettingsRecordKey("schedules", "nightly", 12));
  ASSERT_TRUE(ref.has_value());
  EXPECT_EQ(ref->kind, "schedules");
  EXPECT_EQ(ref->name, "nightly");
  EXPECT_EQ(ref->version, 12u);
  for (const char* bad :
       {"settings/sites/a/1.pb", "settings/sites/00000000000000000001.pb",
        "settings/sites/../00000000000000000001.pb", "settings/sites/a/b/00000000000000000001.pb",
        "settings/sites/a/00000000000000000001.txt", "events/x"}) {
    EXPECT_FALSE(ParseSettingsRecordKey(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace cairn::repo::layout
