// The consistency checks shared by the crash and fault tests (tests/hostile):
// what a repository must satisfy after any kill or storage fault and a rerun.
#ifndef CAIRN_TESTS_HOSTILE_CONSISTENCY_H_
#define CAIRN_TESTS_HOSTILE_CONSISTENCY_H_

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "repo/catalog/catalog_test_access.h"
#include "repo/site/repository.h"
#include "tests/util/assert_ok.h"
#include "tests/util/test_util.h"

namespace cairn::testing {

// The folder every deposit stores (all scenarios, all objects).
inline std::map<std::string, std::string> SourceFiles() {
  std::map<std::string, std::string> files;
  files["a.txt"] = "alpha\n";
  files["b/c.txt"] = "see\n";
  files["b/d/e.bin"] = std::string(200 * 1024, 'e');
  files["f g.txt"] = "space\n";
  files["big.bin"].reserve(300 * 1024);
  for (int i = 0; i < 300 * 1024; ++i) files["big.bin"].push_back(static_cast<char>(i * 7));
  return files;
}

// Runs cairn on repository `repo`.
inline CommandResult In(const fs::path& repo, std::vector<std::string> args,
                        const std::vector<std::string>& env = {}) {
  args.insert(args.begin(), {"--repo", repo.string()});
  return RunCairn(args, env);
}

// SourceFiles() written under `src`, and a new repository at `root`, made
// through the library, with partner acme.
inline void MakeSourceAndRepository(const fs::path& src, const std::string& root) {
  for (const auto& [path, bytes] : SourceFiles()) WriteFile(src / path, bytes);
  auto made = repo::Repository::Init(root);
  ASSERT_OK(made);
  ASSERT_OK((*made)->catalog().AddPartner("acme", "Acme"));
}

// A killed worker's (or a power cut's) leased jobs come back when their lease
// (15 min) runs out; the rerun is taken to happen after that (nothing here
// waits 15 minutes).
inline void ExpireLeases(const fs::path& repo) {
  if (!fs::exists(repo / "catalog.db")) return;
  auto catalog = repo::Catalog::Open((repo / "catalog.db").string());
  ASSERT_OK(catalog);
  ASSERT_OK(repo::CatalogTestAccess::ExpireAllLeases(**catalog));
}

// Fails the test unless `r` exited 0 (`what` names the command).
inline void MustSucceed(const CommandResult& r, const std::string& what) {
  ASSERT_TRUE(r.exit_code == 0) << what << ": " << r.out << r.err;
}

// A new repository at `repo` with partner acme.
inline void InitWithPartner(const fs::path& repo) {
  MustSucceed(RunCairn({"init", repo.string()}), "init");
  MustSucceed(In(repo, {"partner", "add", "acme"}), "partner add");
}

// InitWithPartner, and the folder `src` deposited as acme/one (its copies
// left queued with replicate false).
inline void InitWithDeposit(const fs::path& repo, const fs::path& src, bool replicate) {
  InitWithPartner(repo);
  std::vector<std::string> dep{"deposit", "acme", src.string(), "--id", "one"};
  if (!replicate) dep.push_back("--no-replicate");
  MustSucceed(In(repo, dep), "deposit");
}

// Everything a repository must hold after a crash or a fault and a rerun:
// every version of every listed object restores with data/ equal to `source`
// (every deposit of these tests stores the same folder), every copy the
// catalog counts is on its site and verifies (`audit run --all --no-repair`
// exits 0), the event chain verifies, and no site keeps a temp file.
inline void CheckRepository(const fs::path& repo, const std::map<std::string, std::string>& source,
                            const std::string& label) {
  SCOPED_TRACE(label);
  CommandResult list = In(repo, {"list", "--json"});
  // 1: listed, and some object lacks copies (a rebuild from one site knows only
  // that site's copies; a copy found bad by a restore is queued for repair).
  ASSERT_LE(list.exit_code, 1) << list.err;
  auto objects = nlohmann::json::parse(list.out, nullptr, false);
  ASSERT_TRUE(objects.is_array()) << list.out;
  EXPECT_GE(objects.size(), 1u) << "the rerun completed the object: " << list.out;
  for (const auto& o : objects) {
    std::string ref = o["partner"].get<std::string>() + "/" + o["object"].get<std::string>();
    CommandResult show = In(repo, {"show", ref, "--json"});
    ASSERT_LE(show.exit_code, 1) << show.err;
    auto versions = nlohmann::json::parse(show.out)["versions"];
    ASSERT_GE(versions.size(), 1u) << show.out;
    for (size_t v = 1; v <= versions.size(); ++v) {
      fs::path dest = repo.parent_path() /
                      ("restored-" + o["object"].get<std::string>() + "-" + std::to_string(v));
      CommandResult r = In(repo, {"restore", ref + "@v" + std::to_string(v), dest.string()});
      ASSERT_EQ(r.exit_code, 0) << ref << "@v" << v << ": " << r.out << r.err;
      EXPECT_EQ(ReadTree(dest / "data"), source) << ref << "@v" << v;
      fs::remove_all(dest);
    }
  }
  // Every copy the catalog counts is on its site with the right bytes, and
  // every site's event log agrees with the catalog's (a rebuild adopts the
  // longest log among the sites: docs/RELIABILITY.md).
  CommandResult audit = In(repo, {"audit", "run", "--all", "--no-repair"});
  EXPECT_EQ(audit.exit_code, 0) << audit.out << audit.err;
  CommandResult verify = In(repo, {"events", "verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  // No temp file left on any site.
  for (fs::directory_iterator it(repo / "sites"), end; it != end; ++it) {
    fs::path tmp = it->path() / "tmp";
    if (!fs::is_directory(tmp)) continue;
    for (fs::directory_iterator t(tmp), tend; t != tend; ++t) {
      ADD_FAILURE() << "temp file left: " << t->path();
    }
  }
}

}  // namespace cairn::testing

#endif  // CAIRN_TESTS_HOSTILE_CONSISTENCY_H_
