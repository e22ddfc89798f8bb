// Usage figures: shared blobs split fairly between the partners holding them.
#include <gmock/gmock.h>

#include "repo/catalog/catalog.h"
#include "tests/util/assert_ok.h"
#include "tests/util/catalog_fixture.h"

namespace cairn::repo {
namespace {

using testing::CatalogTest;

const PartnerUsage& Of(const Usage& u, const std::string& id) {
  for (const PartnerUsage& p : u.partners) {
    if (p.partner == id) return p;
  }
  ADD_FAILURE() << "no usage for " << id;
  static PartnerUsage none;
  return none;
}

TEST_F(CatalogTest, SharedBytesSplitFairly) {
  AddSitesAndPartners();
  ASSERT_OK(catalog_->AddPartner("p3", ""));
  const std::string shared(600, 's');  // held by p1 and p2
  const std::string own1(100, '1');    // p1 only, in two versions
  const std::string own2(50, '2');     // p2 only
  NewVersion a1 = MakeVersion("p1", "o", 1, {shared, own1});
  a1.stored_on = {"a", "b"};
  NewVersion a2 = MakeVersion("p1", "o", 2, {own1});
  a2.stored_on = {"a", "b"};
  NewVersion b1 = MakeVersion("p2", "o", 1, {shared, own2});
  b1.stored_on = {"a"};
  for (NewVersion* v : {&a1, &a2, &b1}) {
    for (TagFileEntry& t : v->tag_files)
      t.sha256 = testing::Sha(t.sha256 + v->partner + std::to_string(v->version));
    ASSERT_OK(catalog_->InsertVersion(*v));
  }
  auto usage = catalog_->GetUsage();
  ASSERT_OK(usage);
  const uint64_t tags = 55 + 100;  // per version (see MakeVersion)

  const PartnerUsage& p1 = Of(*usage, "p1");
  EXPECT_EQ(p1.files, 3u);
  EXPECT_EQ(p1.logical_bytes, 600u + 100 + 100);
  EXPECT_EQ(p1.unique_bytes, 700u);
  EXPECT_DOUBLE_EQ(p1.fair_bytes, 300.0 + 100 + 2 * tags);
  // shared: 300 on a + 300 on b; own1: 100 on a and b; tags on a and b.
  EXPECT_DOUBLE_EQ(p1.stored_bytes_by_site.at("a"), 300.0 + 100 + 2 * tags);
  EXPECT_DOUBLE_EQ(p1.stored_bytes_by_site.at("b"), 300.0 + 100 + 2 * tags);
  EXPECT_DOUBLE_EQ(p1.stored_bytes, 2 * (300.0 + 100 + 2 * tags));

  const PartnerUsage& p2 = Of(*usage, "p2");
  EXPECT_EQ(p2.unique_bytes, 650u);
  EXPECT_DOUBLE_EQ(p2.fair_bytes, 300.0 + 50 + tags);
  // p2's half of the shared blob counts on b too: the copy there serves it.
  EXPECT_DOUBLE_EQ(p2.stored_bytes_by_site.at("a"), 300.0 + 50 + tags);
  EXPECT_DOUBLE_EQ(p2.stored_bytes_by_site.at("b"), 300.0);

  const PartnerUsage& p3 = Of(*usage, "p3");
  EXPECT_EQ(p3.files, 0u);
  EXPECT_DOUBLE_EQ(p3.stored_bytes, 0.0);

  EXPECT_EQ(usage->unique_blob_bytes, 600u + 100 + 50);
  EXPECT_EQ(usage->logical_bytes, 800u + 650);
  ASSERT_EQ(usage->sites.size(), 3u);
  EXPECT_EQ(usage->sites[0].site, "a");
  EXPECT_EQ(usage->sites[0].blobs, 3u);
  EXPECT_EQ(usage->sites[0].blob_bytes, 750u);
  EXPECT_EQ(usage->sites[0].tag_files, 6u);
  EXPECT_EQ(usage->sites[1].blob_bytes, 700u);
  EXPECT_EQ(usage->sites[2].blobs, 0u);
  // The fair shares add up to what the sites hold.
  double shares = 0;
  for (const PartnerUsage& p : usage->partners) shares += p.stored_bytes;
  double held = 0;
  for (const SiteUsage& s : usage->sites) held += s.blob_bytes + s.tag_bytes;
  EXPECT_DOUBLE_EQ(shares, held);
}

}  // namespace
}  // namespace cairn::repo
