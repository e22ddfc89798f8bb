// Helpers for the catalog tests: a fresh catalog file in a temp folder with a
// fake clock, small version builders, and raw SQL access (CatalogTestAccess).
#ifndef CAIRN_TESTS_UTIL_CATALOG_FIXTURE_H_
#define CAIRN_TESTS_UTIL_CATALOG_FIXTURE_H_

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "bagit/digest.h"
#include "repo/catalog/catalog.h"
#include "repo/catalog/catalog_test_access.h"
#include "repo/catalog/migrations.h"
#include "repo/storage/sha256_stream.h"
#include "tests/util/assert_ok.h"
#include "tests/util/test_util.h"

namespace cairn::testing {

// Hex SHA-256 of `content` (a blob name).
inline std::string Sha(const std::string& content) { return repo::Sha256Hex(content); }

// Makes the catalog file `path` at schema `version` with that schema's own
// migrations (no later one), then runs `rows` on it: a catalog as an older
// cairn left it, for a test of a later migration.
inline void MakeCatalogAtSchema(const std::string& path, int version, const std::string& rows) {
  auto db = repo::sql::Db::Open(path, true, 1000);
  ASSERT_OK(db);
  for (const repo::Migration& m : repo::AllMigrations()) {
    if (m.version > version) break;
    ASSERT_OK(db->Exec(m.sql)) << m.name;
  }
  ASSERT_OK(db->Exec("PRAGMA user_version = " + std::to_string(version)));
  ASSERT_OK(db->Exec(rows));
}

using repo::Catalog;
using repo::CatalogOptions;
using repo::FakeClock;
using repo::FileEntry;
using repo::NewVersion;
using repo::TagFileEntry;

class CatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CatalogOptions options;
    options.clock = &clock_;
    auto opened = Catalog::Open(path(), options);
    ASSERT_OK(opened);
    catalog_ = std::move(opened).value();
  }
  std::string path() const { return (dir_.path() / "catalog.db").string(); }

  // Adds sites a, b (region eu) and c (region us) and partners p1, p2.
  void AddSitesAndPartners() {
    ASSERT_OK(catalog_->AddSite("a", "file:///x/a", "eu"));
    ASSERT_OK(catalog_->AddSite("b", "file:///x/b", "eu"));
    ASSERT_OK(catalog_->AddSite("c", "file:///x/c", "us"));
    ASSERT_OK(catalog_->AddPartner("p1", "Partner One"));
    ASSERT_OK(catalog_->AddPartner("p2", "Partner Two"));
  }

  // A version whose files have the given contents (path "data/<i>.txt").
  static NewVersion MakeVersion(const std::string& partner, const std::string& object,
                                uint32_t version, const std::vector<std::string>& contents) {
    NewVersion v;
    v.partner = partner;
    v.object = object;
    v.version = version;
    v.depositor = "tester";
    for (size_t i = 0; i < contents.size(); ++i) {
      v.files.push_back(
          FileEntry{"data/" + std::to_string(i) + ".txt", contents[i].size(), Sha(contents[i])});
    }
    v.tag_files.push_back(TagFileEntry{0, "bagit.txt", 55, Sha("bagit " + object)});
    v.tag_files.push_back(
        TagFileEntry{0, "manifest-sha256.txt", 100, Sha("manifest " + object + partner)});
    return v;
  }

  TempDir dir_;
  FakeClock clock_;
  std::unique_ptr<Catalog> catalog_;
};

}  // namespace cairn::testing

#endif  // CAIRN_TESTS_UTIL_CATALOG_FIXTURE_H_
