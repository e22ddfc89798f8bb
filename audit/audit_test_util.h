// Fixture of the auditor tests: a real repository (SQLite catalog, posix
// sites a, b and c, policy of three copies) with one object deposited by the
// real deposit code, a fake clock, and helpers to damage copies on disk.
#ifndef CAIRN_AUDIT_AUDIT_TEST_UTIL_H_
#define CAIRN_AUDIT_AUDIT_TEST_UTIL_H_

#include <set>
#include <string>

#include "audit/audit.h"
#include "bagit/digest.h"
#include "repo/site_layout.h"
#include "repo/storage/sha256_stream.h"
#include "tests/util/assert_ok.h"
#include "tests/util/catalog_fixture.h"
#include "tests/util/deposit_fixture.h"

namespace cairn::audit {

namespace fs = boost::filesystem;

class AuditTest : public cairn::testing::DepositTest {
 protected:
  void SetUp() override {
    cairn::testing::DepositTest::SetUp();
    ASSERT_OK(repo_->AddSite("c", repo::FileUrl(SitePath("c").string()), ""));
    repo::PolicyRecord policy;
    policy.scope = std::string(repo::kDefaultPolicyScope);
    policy.text = "copies: 3\n";
    ASSERT_OK(repo_->catalog().SetPolicy(policy));
    fs::path folder = dir_ / "in/maps";
    cairn::testing::WriteFile(folder / "one.txt", "the first file\n");
    cairn::testing::WriteFile(folder / "two.txt", "the second file, a little longer\n");
    cairn::testing::WriteFile(folder / "three.txt", std::string(10000, 'x'));
    Run("acme", folder.string());
  }

  static std::string Sha(const std::string& bytes) { return repo::Sha256Hex(bytes); }
  fs::path BlobPath(const std::string& site, const std::string& content) const {
    return SitePath(site) / repo::layout::BlobKey(Sha(content));
  }
  int64_t CountRows(const std::string& sql) {
    auto n = repo::CatalogTestAccess::Db(repo_->catalog()).QueryInt(sql);
    EXPECT_OK(n);
    return n.ok() ? *n : -1;
  }
  // Events of one type (and outcome, if given) appended after `after_seq`.
  std::vector<proto::Event> Events(const std::string& type, const std::string& outcome,
                                   uint64_t after_seq = 0) {
    repo::EventFilter filter;
    filter.type = type;
    filter.after_seq = after_seq;
    auto events = repo_->catalog().ListEvents(filter);
    EXPECT_OK(events);
    std::vector<proto::Event> out;
    for (const proto::Event& e : *events) {
      if (outcome.empty() || e.outcome() == outcome) out.push_back(e);
    }
    return out;
  }
  uint64_t Head() { return repo_->catalog().GetEventHead()->seq; }

  AuditOptions Options(AuditMode mode = AuditMode::kAll) {
    AuditOptions options;
    options.mode = mode;
    options.user = "tester";
    options.sleep = [this](int64_t micros) { clock_.Advance(micros); };
    return options;
  }
};

}  // namespace cairn::audit

#endif  // CAIRN_AUDIT_AUDIT_TEST_UTIL_H_
