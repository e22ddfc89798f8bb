// A copy with bad sectors (issue 14, item 4): one blob on site a whose reads
// fail with EIO while the rest of the site reads fine. The sweep must tell it
// apart from a site outage (the site is still swept), count its failed reads,
// back it off so it is not first in line again, and after kReadsBeforeUnreadable
// failed sweeps stop counting it toward the policy (`list`: LACKING COPIES,
// `show`: unreadable) and repair it from the good copy on site b.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <mutex>
#include <set>

#include "audit/audit.h"
#include "audit/report_json.h"
#include "bagit/digest.h"
#include "repo/deposit/deposit.h"
#include "repo/site/repository.h"
#include "repo/site_layout.h"
#include "repo/storage/backend.h"
#include "repo/storage/forwarding_backend.h"
#include "tests/hostile/consistency.h"
#include "tests/util/assert_ok.h"

namespace cairn::testing {
namespace {

// The keys whose bytes cannot be read, shared by the test and its backends.
struct BadSectors {
  std::mutex mu;
  std::set<std::string> keys;
  bool Contains(std::string_view key) {
    std::lock_guard<std::mutex> lock(mu);
    return keys.count(std::string(key)) > 0;
  }
};

// Forwards every call to the real backend, except that the bytes of a key in
// `bad` cannot be read (Read and OpenForCopy fail with EIO, Stat works: the
// file is there) until the key is removed: a rewritten file lands on other
// sectors.
class BadSectorBackend : public repo::ForwardingBackend {
 public:
  BadSectorBackend(std::unique_ptr<repo::StorageBackend> inner, std::shared_ptr<BadSectors> bad)
      : ForwardingBackend(std::move(inner)), bad_(std::move(bad)) {}
  Status Read(std::string_view key, uint64_t offset, uint64_t length,
              const repo::ByteSink& sink) override {
    if (bad_->Contains(key)) return Status::FromErrno(EIO, "read", key);
    return inner().Read(key, offset, length, sink);
  }
  Status Remove(std::string_view key) override {
    {
      std::lock_guard<std::mutex> lock(bad_->mu);
      bad_->keys.erase(std::string(key));
    }
    return inner().Remove(key);
  }
  Result<int> OpenForCopy(std::string_view key) override {
    if (bad_->Contains(key)) return Status::FromErrno(EIO, "open", key);
    return inner().OpenForCopy(key);
  }

 private:
  std::shared_ptr<BadSectors> bad_;
};

std::string Sha256Of(const std::string& bytes) {
  return bagit::HashBytes(bytes, bagit::Only(bagit::Algorithm::kSha256))[bagit::Algorithm::kSha256];
}

class UnreadableCopyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MakeSourceAndRepository(tmp_ / "src", Root());
    if (HasFatalFailure()) return;
    repo::SetBackendWrapperForTesting(
        [this](
            std::string_view url,
            std::unique_ptr<repo::StorageBackend> inner) -> std::unique_ptr<repo::StorageBackend> {
          if (url.substr(url.size() - 2) != "/a") return inner;
          return std::make_unique<BadSectorBackend>(std::move(inner), bad_);
        });
    Reopen();
    repo::DepositRequest request;
    request.partner = "acme";
    request.source = (tmp_ / "src").string();
    request.object_id = "one";
    request.replicate = true;
    auto outcome = repo::Deposit(*repo_, request);
    ASSERT_OK(outcome);
  }
  void TearDown() override {
    repo_.reset();
    repo::SetBackendWrapperForTesting({});
  }
  void Reopen() {
    repo_.reset();
    auto opened = repo::Repository::Open(Root());
    ASSERT_OK(opened);
    repo_ = std::move(opened).value();
  }

  std::string Root() const { return (tmp_ / "repo").string(); }

  void MakeUnreadable(const std::string& file) {
    std::lock_guard<std::mutex> lock(bad_->mu);
    bad_->keys.insert(repo::layout::BlobKey(Sha256Of(SourceFiles().at(file))));
  }
  bool StillUnreadable(const std::string& file) {
    return bad_->Contains(repo::layout::BlobKey(Sha256Of(SourceFiles().at(file))));
  }

  audit::AuditReport Sweep(bool repair = true) {
    audit::AuditOptions options;
    options.mode = audit::AuditMode::kAll;
    options.workers_per_site = 1;  // copies in order, oldest due first
    options.repair = repair;
    auto report = audit::RunAudit(*repo_, options);
    EXPECT_OK(report);
    return report.ok() ? *report : audit::AuditReport{};
  }

  // One integer of the catalog (plain sqlite3, as any other client).
  int64_t Query(const std::string& sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open((tmp_ / "repo/catalog.db").c_str(), &db), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    int64_t value = -1;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      value = sqlite3_column_int64(stmt, 0);
    } else {
      ADD_FAILURE() << sqlite3_errmsg(db) << " in " << sql;
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return value;
  }
  void Exec(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((tmp_ / "repo/catalog.db").c_str(), &db), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db) << " in " << sql;
    sqlite3_close(db);
  }
  // The WHERE clause of the replica of `file`'s blob on site a.
  std::string WhereOnSiteA(const std::string& file) {
    return " WHERE site_id = (SELECT id FROM sites WHERE name = 'a') AND blob_id = (SELECT id FROM "
           "blobs WHERE sha256 = '" +
           Sha256Of(SourceFiles().at(file)) + "')";
  }
  std::string OnSiteA(const std::string& file) { return " FROM replicas" + WhereOnSiteA(file); }
  int64_t ReplicasOnA() {
    return Query(
        "SELECT COUNT(*) FROM replicas WHERE site_id = (SELECT id FROM sites WHERE "
        "name = 'a') AND state = 'ok'");
  }

  static size_t CountKind(const audit::AuditReport& r, std::string_view kind,
                          const std::string& path = "") {
    size_t n = 0;
    for (const audit::Finding& f : r.findings) {
      if (audit::FindingKindName(f.kind) == kind && f.site == "a" &&
          (path.empty() || f.path == path)) {
        ++n;
      }
    }
    return n;
  }

  TempDir tmp_;
  std::unique_ptr<repo::Repository> repo_;
  std::shared_ptr<BadSectors> bad_ = std::make_shared<BadSectors>();
};

TEST_F(UnreadableCopyTest, ACopyThatFailsEverySweepBecomesUnreadableStopsCountingAndIsRepaired) {
  MakeUnreadable("big.bin");
  const int64_t copies_on_a = ReplicasOnA();
  for (int sweep = 1; sweep <= 2; ++sweep) {
    SCOPED_TRACE("sweep " + std::to_string(sweep));
    audit::AuditReport r = Sweep();
    nlohmann::json json = audit::AuditReportJson(r);
    EXPECT_EQ(json["unreadable"], 1) << json.dump(1);
    EXPECT_EQ(r.unavailable, 0u) << "the site reads fine: not an outage";
    EXPECT_TRUE(r.unavailable_sites.empty());
    EXPECT_EQ(CountKind(r, "unreadable", "data/big.bin"), 1u) << json.dump(1);
    EXPECT_EQ(r.sites["a"].ok, static_cast<uint64_t>(copies_on_a - 1));
    EXPECT_EQ(r.corrupt + r.missing + r.repaired, 0u);
    EXPECT_TRUE(r.HasProblems());
    // Not yet given up on: still counted, but no longer first in line.
    EXPECT_EQ(Query("SELECT state = 'ok'" + OnSiteA("big.bin")), 1);
    EXPECT_GT(Query("SELECT next_due" + OnSiteA("big.bin")), r.started_micros);
    CommandResult list = In(Root(), {"list"});
    EXPECT_EQ(list.out.find("LACKING COPIES"), std::string::npos) << list.out;
  }
  // The third failed read in a row: no longer counted toward the policy.
  audit::AuditReport third = Sweep(/*repair=*/false);
  EXPECT_EQ(CountKind(third, "unreadable", "data/big.bin"), 1u)
      << audit::AuditReportText(third, 100);
  EXPECT_EQ(Query("SELECT state = 'unreadable'" + OnSiteA("big.bin")), 1);
  CommandResult list = In(Root(), {"list"});
  EXPECT_NE(list.out.find("LACKING COPIES"), std::string::npos) << list.out;
  CommandResult show = In(Root(), {"show", "acme/one"});
  EXPECT_NE(show.out.find("LACKING COPIES"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("unreadable"), std::string::npos) << show.out;
  EXPECT_TRUE(StillUnreadable("big.bin"));

  // A sweep that repairs: the bad copy is replaced from site b like a corrupt one.
  audit::AuditReport fourth = Sweep();
  EXPECT_EQ(fourth.repaired, 1u) << audit::AuditReportText(fourth, 100);
  bool named = false;
  for (const audit::Finding& f : fourth.findings) {
    if (f.site == "a" && f.path == "data/big.bin") {
      EXPECT_EQ(audit::FindingKindName(f.kind), "unreadable");
      EXPECT_TRUE(f.repaired);
      EXPECT_EQ(f.repaired_from, "b");
      named = true;
    }
  }
  EXPECT_TRUE(named) << audit::AuditReportText(fourth, 100);
  EXPECT_FALSE(StillUnreadable("big.bin")) << "the bad copy was replaced";
  EXPECT_EQ(Query("SELECT state = 'ok'" + OnSiteA("big.bin")), 1);
  audit::AuditReport clean = Sweep();
  EXPECT_FALSE(clean.HasProblems()) << audit::AuditReportText(clean, 100);
  repo_.reset();
  repo::SetBackendWrapperForTesting({});
  CheckRepository(Root(), SourceFiles(), "after the repair");
}

TEST_F(UnreadableCopyTest, UnreadableCopiesFirstInLineDoNotStopTheRestOfTheSite) {
  // Three copies with bad sectors, oldest due: the old rule (three unreadable
  // copies in a row mark the site down) skipped the rest of site a every time.
  const char* bad[] = {"a.txt", "b/c.txt", "f g.txt"};
  for (const char* file : bad) {
    MakeUnreadable(file);
    Exec("UPDATE replicas SET next_due = 1" + WhereOnSiteA(file));
  }
  const int64_t copies_on_a = ReplicasOnA();
  audit::AuditReport r = Sweep();
  EXPECT_TRUE(r.unavailable_sites.empty()) << audit::AuditReportText(r, 100);
  EXPECT_EQ(r.unavailable, 0u);
  EXPECT_EQ(r.sites["a"].ok, static_cast<uint64_t>(copies_on_a - 3))
      << "the rest of site a is checked";
  for (const char* file : bad) {
    EXPECT_EQ(CountKind(r, "unreadable", std::string("data/") + file), 1u) << file;
    // Backed off: the next sweep of due copies starts with the others.
    EXPECT_GT(Query("SELECT next_due" + OnSiteA(file)), r.started_micros) << file;
  }
}

}  // namespace
}  // namespace cairn::testing
