// Restore against a real repository: posix sites in a temp folder, a real
// SQLite catalog, bags stored through the Site and Catalog APIs.
#include "repo/restore/restore.h"

#include <gtest/gtest.h>

#include <boost/filesystem.hpp>
#include <fstream>

#include "bagit/archive.h"
#include "bagit/validator.h"
#include "repo/restore/restore_test_util.h"
#include "tests/util/assert_ok.h"
#include "tests/util/catalog_fixture.h"
#include "tests/util/test_util.h"

namespace cairn::repo {
namespace {

namespace fs = boost::filesystem;
using cairn::testing::ReadFile;
using cairn::testing::TempDir;
using testing::MakeBag;
using testing::MemoryBag;
using testing::SiteFile;
using testing::StoreBag;

class RestoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto repo = Repository::Init((tmp_ / "repo").string());
    ASSERT_OK(repo);
    repo_ = std::move(repo).value();
    bag_ = MakeBag({{"data/a.txt", "alpha\n"},
                    {"data/sub dir/b.bin", std::string(3000, 'b')},
                    {"data/empty", ""},
                    {"data/100%.txt", "percent\n"}});
    ASSERT_EQ(StoreBag(*repo_, "acme", "box", bag_), 1u);
  }

  RestoreRequest Request(const std::string& dest_name) {
    RestoreRequest req;
    req.partner = "acme";
    req.object = "box";
    req.dest = (tmp_ / dest_name).string();
    req.user = "tester";
    return req;
  }

  // Every file of `bag` is at `dir` with the same bytes, and nothing else is.
  void ExpectSameBag(const MemoryBag& bag, const fs::path& dir) {
    size_t files = 0;
    for (fs::recursive_directory_iterator it(dir), end; it != end; ++it) {
      if (fs::is_regular_file(it->path())) ++files;
    }
    EXPECT_EQ(files, bag.payload.size() + bag.tags.size());
    for (const auto& [path, content] : bag.payload)
      EXPECT_EQ(ReadFile(dir / path), content) << path;
    for (const auto& [name, content] : bag.tags) EXPECT_EQ(ReadFile(dir / name), content) << name;
  }

  void ExpectValid(const std::string& path) {
    auto v = bagit::ValidateBag(path, bagit::ValidateOptions{});
    ASSERT_OK(v);
    EXPECT_TRUE(v->report.valid()) << v->report.ToText();
  }

  std::string BlobPath(const std::string& site, const std::string& content) {
    return SiteFile(*repo_, site, layout::BlobKey(testing::Sha256Hex(content)));
  }

  void FlipFirstByte(const std::string& path) {
    std::string bytes = ReadFile(path);
    ASSERT_FALSE(bytes.empty()) << path;
    bytes[0] ^= 0x01;
    fs::permissions(path, fs::owner_read | fs::owner_write);
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  }

  std::vector<proto::Event> Events(const std::string& type) {
    EventFilter filter;
    filter.type = type;
    auto events = repo_->catalog().ListEvents(filter);
    EXPECT_OK(events);
    return events.ok() ? events.value() : std::vector<proto::Event>{};
  }

  // Nothing named DEST or DEST.partial-* is left in the temp folder.
  void ExpectNothingAt(const std::string& dest) {
    EXPECT_FALSE(fs::exists(dest));
    for (fs::directory_iterator it(tmp_.path()), end; it != end; ++it) {
      EXPECT_EQ(it->path().string().find(dest + ".partial"), std::string::npos) << it->path();
    }
  }

  TempDir tmp_;
  std::unique_ptr<Repository> repo_;
  MemoryBag bag_;
};

TEST_F(RestoreTest, FolderIsByteIdenticalAndValid) {
  auto r = Restore(*repo_, Request("out"));
  ASSERT_OK(r);
  EXPECT_EQ(r->version, 1u);
  EXPECT_EQ(r->payload_files, 4u);
  EXPECT_EQ(r->payload_bytes, 6u + 3000 + 8);
  EXPECT_EQ(r->tag_files, 4u);
  EXPECT_TRUE(r->problems.empty());
  ExpectSameBag(bag_, tmp_ / "out");
  ExpectValid((tmp_ / "out").string());
  ExpectNothingAt((tmp_ / "out.partial").string());
  std::vector<proto::Event> dis = Events("dissemination");
  ASSERT_EQ(dis.size(), 1u);
  EXPECT_EQ(dis[0].outcome(), "success");
  EXPECT_EQ(dis[0].partner(), "acme");
  EXPECT_EQ(dis[0].version(), 1u);
  EXPECT_EQ(dis[0].type_uri(), "http://id.loc.gov/vocabulary/preservation/eventType/dis");
}

TEST_F(RestoreTest, EachArchiveFormatValidatesAndHoldsTheSameBytes) {
  for (auto [format, name] :
       {std::pair{RestoreFormat::kTar, "bag7.tar"}, std::pair{RestoreFormat::kTgz, "bag7.tgz"},
        std::pair{RestoreFormat::kZip, "bag7.zip"}}) {
    RestoreRequest req = Request(name);
    req.format = format;
    auto r = Restore(*repo_, req);
    ASSERT_OK(r) << name << ": " << r.status().ToString();
    EXPECT_EQ(r->bag_name, "bag7");
    ExpectValid(req.dest);
    auto reader = bagit::ArchiveReader::Open(req.dest);
    ASSERT_OK(reader);
    std::map<std::string, std::string> members;
    bagit::ArchiveEntry entry;
    while (reader.value()->Next(&entry).value()) {
      if (entry.type != bagit::EntryType::kFile) continue;
      std::string bytes;
      ASSERT_TRUE(reader.value()
                      ->ReadData([&](std::span<const std::byte> d) {
                        bytes.append(reinterpret_cast<const char*>(d.data()), d.size());
                        return Status::OK();
                      })
                      .ok());
      members[entry.path] = bytes;
    }
    EXPECT_EQ(members.size(), bag_.payload.size() + bag_.tags.size()) << name;
    for (const auto& [path, content] : bag_.payload) EXPECT_EQ(members["bag7/" + path], content);
    for (const auto& [tag, content] : bag_.tags) EXPECT_EQ(members["bag7/" + tag], content);
  }
}

TEST_F(RestoreTest, LargeFileSpillsAndStillVerifiesInAnArchive) {
  MemoryBag big = MakeBag({{"data/big.bin", std::string((9 << 20) + 17, 'z')}});
  ASSERT_EQ(StoreBag(*repo_, "acme", "big", big), 1u);
  RestoreRequest req = Request("big.tar.gz");
  req.object = "big";
  req.format = RestoreFormat::kTgz;
  auto r = Restore(*repo_, req);
  ASSERT_OK(r);
  EXPECT_EQ(r->bag_name, "big");
  ExpectValid(req.dest);
}

TEST_F(RestoreTest, OlderVersionAfterANewerOne) {
  MemoryBag v2 = MakeBag({{"data/a.txt", "alpha, revised\n"}, {"data/new.txt", "new\n"}});
  ASSERT_EQ(StoreBag(*repo_, "acme", "box", v2), 2u);
  RestoreRequest req = Request("v1");
  req.version = 1;
  auto r1 = Restore(*repo_, req);
  ASSERT_OK(r1);
  ExpectSameBag(bag_, tmp_ / "v1");
  auto latest = Restore(*repo_, Request("latest"));
  ASSERT_OK(latest);
  EXPECT_EQ(latest->version, 2u);
  ExpectSameBag(v2, tmp_ / "latest");
}

TEST_F(RestoreTest, CorruptCopyFallsBackAndIsRecordedForRepair) {
  const std::string& content = bag_.payload.at("data/sub dir/b.bin");
  FlipFirstByte(BlobPath("a", content));
  auto r = Restore(*repo_, Request("out"));
  ASSERT_OK(r);
  ExpectSameBag(bag_, tmp_ / "out");
  ASSERT_EQ(r->problems.size(), 1u);
  EXPECT_EQ(r->problems[0].site, "a");
  EXPECT_EQ(r->problems[0].path, "data/sub dir/b.bin");
  EXPECT_EQ(r->problems[0].outcome, CopyOutcome::kCorrupt);
  EXPECT_EQ(r->repairs_queued, 1u);
  auto state = repo_->catalog().BlobOnSite(testing::Sha256Hex(content), "a");
  ASSERT_OK(state);
  EXPECT_EQ(state.value(), ReplicaState::kCorrupt);
  auto other = repo_->catalog().BlobOnSite(testing::Sha256Hex(content), "b");
  EXPECT_EQ(other.value(), ReplicaState::kOk);
  JobFilter repairs;
  repairs.kind = proto::JOB_KIND_REPAIR;
  auto jobs = repo_->catalog().ListJobs(repairs);
  ASSERT_OK(jobs);
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_EQ(jobs->at(0).job.blob(), testing::Sha256Hex(content));
  EXPECT_EQ(jobs->at(0).job.target_site(), "a");
  std::vector<proto::Event> fix = Events("fixity check");
  ASSERT_EQ(fix.size(), 1u);
  EXPECT_EQ(fix[0].outcome(), "failure");
  EXPECT_EQ(fix[0].site(), "a");
  EXPECT_EQ(fix[0].file(), "data/sub dir/b.bin");
}

TEST_F(RestoreTest, MissingCopyAndCorruptTagFileFallBack) {
  fs::remove(BlobPath("a", bag_.payload.at("data/a.txt")));
  FlipFirstByte(SiteFile(*repo_, "a", layout::TagFileKey("acme", "box", 1, "bag-info.txt")));
  auto r = Restore(*repo_, Request("out"));
  ASSERT_OK(r);
  ExpectSameBag(bag_, tmp_ / "out");
  EXPECT_EQ(r->problems.size(), 2u);
  EXPECT_EQ(
      repo_->catalog().BlobOnSite(testing::Sha256Hex(bag_.payload.at("data/a.txt")), "a").value(),
      ReplicaState::kMissing);
  auto replicas = repo_->catalog().ReplicasOf(1);
  ASSERT_OK(replicas);
  int corrupt_tags = 0;
  for (const ReplicaRecord& rr : replicas.value()) {
    if (rr.ref.kind == ReplicaRef::Kind::kTagFile && rr.state == ReplicaState::kCorrupt) {
      EXPECT_EQ(rr.site, "a");
      EXPECT_EQ(rr.tag_name, "bag-info.txt");
      ++corrupt_tags;
    }
  }
  EXPECT_EQ(corrupt_tags, 1);
}

TEST_F(RestoreTest, NoGoodCopyFailsNamingTheFileAndLeavesNothing) {
  const std::string& content = bag_.payload.at("data/sub dir/b.bin");
  FlipFirstByte(BlobPath("a", content));
  fs::remove(BlobPath("b", content));
  RestoreRequest req = Request("out");
  auto r = Restore(*repo_, req);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsCorruption()) << r.status().ToString();
  const std::string& msg = r.status().message();
  EXPECT_NE(msg.find("data/sub dir/b.bin"), std::string::npos) << msg;
  EXPECT_NE(msg.find("site a: corrupt"), std::string::npos) << msg;
  EXPECT_NE(msg.find("site b: missing"), std::string::npos) << msg;
  ExpectNothingAt(req.dest);
  std::vector<proto::Event> dis = Events("dissemination");
  ASSERT_EQ(dis.size(), 1u);
  EXPECT_EQ(dis[0].outcome(), "failure");
  // Both bad copies are still recorded for repair.
  EXPECT_EQ(repo_->catalog().BlobOnSite(testing::Sha256Hex(content), "a").value(),
            ReplicaState::kCorrupt);
  EXPECT_EQ(repo_->catalog().BlobOnSite(testing::Sha256Hex(content), "b").value(),
            ReplicaState::kMissing);

  req.format = RestoreFormat::kZip;
  req.dest = (tmp_ / "out.zip").string();
  EXPECT_TRUE(Restore(*repo_, req).status().IsCorruption());
  ExpectNothingAt(req.dest);
}

TEST_F(RestoreTest, OnlySiteReadsThatSiteAlone) {
  FlipFirstByte(BlobPath("a", bag_.payload.at("data/a.txt")));
  RestoreRequest req = Request("from-b");
  req.site = "b";
  auto r = Restore(*repo_, req);
  ASSERT_OK(r);
  EXPECT_TRUE(r->problems.empty());
  EXPECT_EQ(r->files_from_site.size(), 1u);
  EXPECT_EQ(r->files_from_site["b"], 8u);
  // Site a was never read, so its damage is still unknown to the catalog.
  EXPECT_EQ(
      repo_->catalog().BlobOnSite(testing::Sha256Hex(bag_.payload.at("data/a.txt")), "a").value(),
      ReplicaState::kOk);

  req.site = "a";
  req.dest = (tmp_ / "from-a").string();
  auto bad = Restore(*repo_, req);
  EXPECT_TRUE(bad.status().IsCorruption()) << bad.status().ToString();
  EXPECT_EQ(bad.status().message().find("site b"), std::string::npos);
  ExpectNothingAt(req.dest);

  req.site = "nowhere";
  EXPECT_TRUE(Restore(*repo_, req).status().IsNotFound());
}

TEST_F(RestoreTest, UnreadableSiteIsSkippedNotCalledCorrupt) {
  fs::rename(tmp_ / "repo/sites/a", tmp_ / "repo/sites/a-unmounted");
  auto r = Restore(*repo_, Request("out"));
  ASSERT_OK(r);
  ExpectSameBag(bag_, tmp_ / "out");
  EXPECT_EQ(r->repairs_queued, 0u);
  for (const CopyProblem& p : r->problems) EXPECT_EQ(p.outcome, CopyOutcome::kUnavailable);
  EXPECT_EQ(
      repo_->catalog().BlobOnSite(testing::Sha256Hex(bag_.payload.at("data/a.txt")), "a").value(),
      ReplicaState::kOk);
}

TEST_F(RestoreTest, HostileCatalogPathIsRefusedAndNothingIsWritten) {
  ASSERT_TRUE(CatalogTestAccess::Db(repo_->catalog())
                  .Exec("UPDATE files SET path = 'data/../../evil.txt' WHERE path = 'data/a.txt'")
                  .ok());
  RestoreRequest req = Request("out");
  auto r = Restore(*repo_, req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << r.status().ToString();
  EXPECT_NE(r.status().message().find("data/../../evil.txt"), std::string::npos);
  ExpectNothingAt(req.dest);
  EXPECT_FALSE(fs::exists(tmp_ / "evil.txt"));
  EXPECT_FALSE(fs::exists(tmp_.path().parent_path() / "evil.txt"));

  ASSERT_TRUE(CatalogTestAccess::Db(repo_->catalog())
                  .Exec("UPDATE files SET path = '/tmp/evil.txt' WHERE path = 'data/empty'")
                  .ok());
  EXPECT_EQ(Restore(*repo_, req).status().code(), Code::kInvalidArgument);
}

TEST_F(RestoreTest, TagFilesCairnAddedAreLeftOut) {
  MemoryBag original;
  original.payload = {{"data/x.txt", "x\n"}};
  original.tags["bagit.txt"] = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n";
  original.tags["bag-info.txt"] = "Payload-Oxum: 2.1\n";
  original.tags["manifest-md5.txt"] =
      bagit::HashBytes("x\n", bagit::Only(bagit::Algorithm::kMd5))[bagit::Algorithm::kMd5] +
      "  data/x.txt\n";
  MemoryBag stored = original;
  stored.tags["manifest-sha256.txt"] = testing::Sha256Hex("x\n") + "  data/x.txt\n";
  stored.tags["cairn-added.txt"] = "manifest-sha256.txt\n";
  ASSERT_EQ(StoreBag(*repo_, "acme", "md5bag", stored), 1u);
  RestoreRequest req = Request("md5bag");
  req.object = "md5bag";
  auto r = Restore(*repo_, req);
  ASSERT_OK(r);
  EXPECT_EQ(r->tag_files, 3u);
  ExpectSameBag(original, tmp_ / "md5bag");
  ExpectValid(req.dest);
}

// The catalog is an index; the version's own record (version.pb) and the bag's
// manifests as written on the site are what the bag vouches for. A files row
// edited to another blob's digest and size would have restore write the other
// file's bytes: it stops before any payload is written, names the file, leaves
// nothing at DEST and blames no copy.
TEST_F(RestoreTest, CatalogRowDisagreeingWithTheVersionRecordStopsTheRestore) {
  const std::string& other = bag_.payload.at("data/100%.txt");
  ASSERT_TRUE(CatalogTestAccess::Db(repo_->catalog())
                  .Exec("UPDATE files SET blob_id = (SELECT id FROM blobs WHERE sha256 = '" +
                        testing::Sha256Hex(other) + "'), size = " + std::to_string(other.size()) +
                        " WHERE path = 'data/a.txt'")
                  .ok());
  for (auto [format, name] :
       {std::pair{RestoreFormat::kDir, "out"}, std::pair{RestoreFormat::kZip, "out.zip"}}) {
    RestoreRequest req = Request(name);
    req.format = format;
    auto r = Restore(*repo_, req);
    ASSERT_FALSE(r.ok()) << name;
    EXPECT_TRUE(r.status().IsCorruption()) << r.status().ToString();
    const std::string& msg = r.status().message();
    EXPECT_NE(msg.find("data/a.txt"), std::string::npos) << msg;
    EXPECT_NE(msg.find("version.pb"), std::string::npos) << msg;
    EXPECT_NE(msg.find(testing::Sha256Hex(other)), std::string::npos) << msg;
    ExpectNothingAt(req.dest);
  }
  for (const char* site : {"a", "b"}) {
    EXPECT_EQ(repo_->catalog().BlobOnSite(testing::Sha256Hex(other), site).value(),
              ReplicaState::kOk);
  }
  JobFilter repairs;
  repairs.kind = proto::JOB_KIND_REPAIR;
  EXPECT_TRUE(repo_->catalog().ListJobs(repairs).value().empty());
  std::vector<proto::Event> dis = Events("dissemination");
  ASSERT_EQ(dis.size(), 2u);
  EXPECT_EQ(dis[0].outcome(), "failure");
}

TEST_F(RestoreTest, FileTheCatalogLostIsNamed) {
  ASSERT_TRUE(CatalogTestAccess::Db(repo_->catalog())
                  .Exec("DELETE FROM files WHERE path = 'data/empty'")
                  .ok());
  RestoreRequest req = Request("out");
  auto r = Restore(*repo_, req);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsCorruption()) << r.status().ToString();
  EXPECT_NE(r.status().message().find("data/empty"), std::string::npos) << r.status().ToString();
  ExpectNothingAt(req.dest);
}

TEST_F(RestoreTest, ManifestOnTheSiteDisagreeingWithTheCatalogStopsTheRestore) {
  MemoryBag bag = MakeBag({{"data/x.txt", "x\n"}, {"data/y.txt", "y\n"}});
  // The bag's own manifest vouches for other bytes than the catalog does.
  bag.tags["manifest-sha256.txt"] =
      testing::Sha256Hex("y\n") + "  data/x.txt\n" + testing::Sha256Hex("y\n") + "  data/y.txt\n";
  ASSERT_EQ(StoreBag(*repo_, "acme", "lying", bag), 1u);
  RestoreRequest req = Request("lying");
  req.object = "lying";
  auto r = Restore(*repo_, req);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsCorruption()) << r.status().ToString();
  const std::string& msg = r.status().message();
  EXPECT_NE(msg.find("data/x.txt"), std::string::npos) << msg;
  EXPECT_NE(msg.find("manifest-sha256.txt"), std::string::npos) << msg;
  ExpectNothingAt(req.dest);

  // A manifest that omits a file the catalog lists.
  MemoryBag short_bag = MakeBag({{"data/x.txt", "x\n"}, {"data/y.txt", "y\n"}});
  short_bag.tags["manifest-sha256.txt"] = testing::Sha256Hex("x\n") + "  data/x.txt\n";
  ASSERT_EQ(StoreBag(*repo_, "acme", "short", short_bag), 1u);
  req = Request("short");
  req.object = "short";
  r = Restore(*repo_, req);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsCorruption()) << r.status().ToString();
  EXPECT_NE(r.status().message().find("data/y.txt"), std::string::npos) << r.status().ToString();
  ExpectNothingAt(req.dest);
}

TEST_F(RestoreTest, CorruptVersionRecordIsReadFromTheOtherSiteAndRecorded) {
  FlipFirstByte(SiteFile(*repo_, "a", layout::VersionRecordKey("acme", "box", 1)));
  auto r = Restore(*repo_, Request("out"));
  ASSERT_OK(r);
  ExpectSameBag(bag_, tmp_ / "out");
  ASSERT_EQ(r->problems.size(), 1u);
  EXPECT_EQ(r->problems[0].path, "version.pb");
  EXPECT_EQ(r->problems[0].site, "a");
  EXPECT_EQ(r->problems[0].outcome, CopyOutcome::kCorrupt);
  EXPECT_EQ(r->repairs_queued, 1u);

  fs::remove(SiteFile(*repo_, "b", layout::VersionRecordKey("acme", "box", 1)));
  RestoreRequest req = Request("out2");
  auto none = Restore(*repo_, req);
  ASSERT_FALSE(none.ok());
  EXPECT_TRUE(none.status().IsCorruption()) << none.status().ToString();
  EXPECT_NE(none.status().message().find("version.pb"), std::string::npos);
  ExpectNothingAt(req.dest);
}

TEST_F(RestoreTest, ExistingDestinationIsRefused) {
  fs::create_directory(tmp_ / "there");
  auto r = Restore(*repo_, Request("there"));
  EXPECT_TRUE(r.status().IsAlreadyExists()) << r.status().ToString();
  EXPECT_TRUE(fs::is_empty(tmp_ / "there"));
}

TEST(ParseObjectRefTest, AcceptsVersionsAndRefusesJunk) {
  std::string p, o;
  uint32_t v = 9;
  ASSERT_OK(ParseObjectRef("acme/box", &p, &o, &v));
  EXPECT_EQ(p, "acme");
  EXPECT_EQ(o, "box");
  EXPECT_EQ(v, 0u);
  ASSERT_OK(ParseObjectRef("acme/box@v12", &p, &o, &v));
  EXPECT_EQ(v, 12u);
  EXPECT_FALSE(ParseObjectRef("acme", &p, &o, &v).ok());
  EXPECT_FALSE(ParseObjectRef("acme/box@v0", &p, &o, &v).ok());
  EXPECT_FALSE(ParseObjectRef("acme/box@vx", &p, &o, &v).ok());
  EXPECT_FALSE(ParseObjectRef("acme/../x", &p, &o, &v).ok());
}

}  // namespace
}  // namespace cairn::repo
