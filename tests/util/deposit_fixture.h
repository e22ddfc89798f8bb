// Test fixture for deposit, replication and audit tests of the libraries: a
// fresh repository (real SQLite file, posix sites a and b) in a temp folder,
// with partners acme and beta, a fake clock, and helpers to make bags and
// inspect sites.
#ifndef CAIRN_TESTS_UTIL_DEPOSIT_FIXTURE_H_
#define CAIRN_TESTS_UTIL_DEPOSIT_FIXTURE_H_

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "bagit/archive.h"
#include "bagit/digest.h"
#include "bagit/paths.h"
#include "repo/clock.h"
#include "repo/deposit/deposit.h"
#include "repo/replicate/replicate.h"
#include "repo/site/repository.h"
#include "tests/util/assert_ok.h"
#include "tests/util/library_deposits.h"
#include "tests/util/test_util.h"

namespace cairn::testing {

class DepositTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.path();
    repo::RepositoryOptions options;
    options.clock = &clock_;
    auto made = repo::Repository::Init((dir_ / "repo").string(), options);
    ASSERT_OK(made);
    repo_ = std::move(made).value();
    ASSERT_OK(repo_->catalog().AddPartner("acme", "Acme Archives"));
    ASSERT_OK(repo_->catalog().AddPartner("beta", "Beta Library"));
  }

  // Closes and opens the repository again (sites reopened from the catalog).
  void Reopen() {
    repo_.reset();
    repo::RepositoryOptions options;
    options.clock = &clock_;
    auto opened = repo::Repository::Open((dir_ / "repo").string(), options);
    ASSERT_OK(opened);
    repo_ = std::move(opened).value();
  }

  fs::path SitePath(const std::string& site) const { return dir_ / "repo/sites" / site; }

  repo::DepositOutcome Run(const std::string& partner, const std::string& source) {
    repo::DepositRequest request;
    request.partner = partner;
    request.source = source;
    return Run(std::move(request));
  }
  // Deposits `request`, with two payload workers unless it names its number.
  repo::DepositOutcome Run(repo::DepositRequest request) {
    if (request.threads == 0) request.threads = 2;
    Result<repo::DepositOutcome> out = repo::Deposit(*repo_, request);
    EXPECT_OK(out);
    if (!out.ok()) return repo::DepositOutcome{};
    return std::move(out).value();
  }

  // Blob files on a site; each must be named by the SHA-256 of its bytes.
  size_t VerifiedBlobs(const std::string& site) const { return CheckBlobFiles(SitePath(site)); }

  size_t TempFiles(const std::string& site) const {
    fs::path tmp = SitePath(site) / "tmp";
    if (!fs::is_directory(tmp)) return 0;
    size_t n = 0;
    for (fs::directory_iterator it(tmp), end; it != end; ++it) ++n;
    return n;
  }

  // No object in the catalog, no version folder and no blob on any site.
  void ExpectNothingStored(const std::string& partner, const std::string& object) {
    EXPECT_FALSE(repo_->catalog().GetVersion(partner, object, std::nullopt, false).ok());
    for (const char* site : {"a", "b"}) {
      EXPECT_FALSE(fs::exists(SitePath(site) / "bags" / partner / object)) << site;
      EXPECT_EQ(VerifiedBlobs(site), 0u) << site;
      EXPECT_EQ(TempFiles(site), 0u) << site;
    }
  }

  // A valid BagIt 1.0 bag at `bag` with one manifest of `algorithm` and a
  // tagmanifest of the same algorithm.
  static void MakeBag(const fs::path& bag, const std::map<std::string, std::string>& files,
                      bagit::Algorithm algorithm) {
    std::string manifest;
    uint64_t bytes = 0;
    for (const auto& [path, content] : files) {
      WriteFile(bag / path, content);
      manifest += bagit::HashBytes(content, bagit::Only(algorithm))[algorithm] + "  " +
                  bagit::EncodeManifestPath(path) + "\n";
      bytes += content.size();
    }
    std::string alg(bagit::AlgorithmName(algorithm));
    std::map<std::string, std::string> tags = {
        {"bagit.txt", "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"},
        {"bag-info.txt",
         "Payload-Oxum: " + std::to_string(bytes) + "." + std::to_string(files.size()) + "\n"},
        {"manifest-" + alg + ".txt", manifest}};
    std::string tagmanifest;
    for (const auto& [name, content] : tags) {
      WriteFile(bag / name, content);
      tagmanifest +=
          bagit::HashBytes(content, bagit::Only(algorithm))[algorithm] + "  " + name + "\n";
    }
    WriteFile(bag / ("tagmanifest-" + alg + ".txt"), tagmanifest);
  }

  // Serializes the bag folder `bag` (tag files first) into `archive` under a
  // top folder named like the archive; `extra_member` (if not empty) is added
  // as a raw member name, e.g. "../evil".
  static void MakeArchive(const fs::path& bag, const fs::path& archive, bagit::ArchiveFormat format,
                          const std::string& extra_member) {
    fs::create_directories(archive.parent_path());
    auto writer = bagit::ArchiveWriter::Create(archive.string(), format);
    ASSERT_OK(writer);
    std::string top = archive.stem().string();
    if (top.size() > 4 && top.ends_with(".tar")) top.resize(top.size() - 4);
    std::vector<fs::path> tags, payload;
    for (fs::recursive_directory_iterator it(bag), end; it != end; ++it) {
      if (!fs::is_regular_file(it->status())) continue;
      std::string rel = fs::relative(it->path(), bag).generic_string();
      (rel.starts_with("data/") ? payload : tags).push_back(it->path());
    }
    std::sort(tags.begin(), tags.end(), [&](const fs::path& a, const fs::path& b) {
      return (a.filename() != "bagit.txt") < (b.filename() != "bagit.txt");
    });
    auto add = [&](const std::string& name, const std::string& content) {
      ASSERT_OK((*writer)->BeginFile(name, content.size()));
      ASSERT_TRUE(
          (*writer)
              ->WriteData(std::as_bytes(std::span<const char>(content.data(), content.size())))
              .ok());
    };
    for (const auto* group : {&tags, &payload}) {
      for (const fs::path& p : *group) {
        add(top + "/" + fs::relative(p, bag).generic_string(), ReadFile(p));
      }
    }
    if (!extra_member.empty()) add(extra_member, "evil\n");
    ASSERT_OK((*writer)->Finish());
  }

  TempDir tmp_;
  fs::path dir_;
  repo::FakeClock clock_;
  std::unique_ptr<repo::Repository> repo_;
};

}  // namespace cairn::testing

#endif  // CAIRN_TESTS_UTIL_DEPOSIT_FIXTURE_H_
