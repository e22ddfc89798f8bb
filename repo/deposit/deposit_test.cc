// Deposit on real repositories (SQLite file, posix sites in a temp folder):
// folder, bag folder and serialized bag sources, versions, dedup, the default
// two-copy policy, and refused deposits that leave nothing behind.
#include "repo/deposit/deposit.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <map>
#include <set>

#include "bagit/archive.h"
#include "bagit/digest.h"
#include "proto/version.pb.h"
#include "repo/catalog/catalog_test_access.h"
#include "repo/catalog/inventory.h"
#include "repo/deposit/gc.h"
#include "repo/restore/restore.h"
#include "repo/site/repository.h"
#include "repo/site_layout.h"
#include "repo/storage/posix_ops.h"
#include "repo/storage/sha256_stream.h"
#include "tests/util/assert_ok.h"
#include "tests/util/deposit_fixture.h"
#include "tests/util/test_util.h"

namespace cairn::repo {
namespace {

namespace fs = boost::filesystem;
using cairn::testing::DepositTest;
using cairn::testing::WriteFile;

TEST_F(DepositTest, FolderIsBaggedStoredOnBothSitesAndRecorded) {
  WriteFile(dir_ / "src/photos/a.txt", "alpha\n");
  WriteFile(dir_ / "src/photos/b.txt", "beta\n");
  WriteFile(dir_ / "src/photos/sub/copy-of-a.txt", "alpha\n");
  DepositOutcome out = Run("acme", (dir_ / "src/photos").string());
  ASSERT_TRUE(out.receipt) << out.report.ToText();
  EXPECT_EQ(out.receipt->object, "photos");
  EXPECT_EQ(out.receipt->version, 1u);
  EXPECT_EQ(out.receipt->files, 3u);
  EXPECT_EQ(out.receipt->bytes, 17u);
  ASSERT_EQ(out.receipt->copies.size(), 2u);
  for (const SiteCopies& c : out.receipt->copies) {
    EXPECT_EQ(c.pending, 0u) << c.site;
    EXPECT_GT(c.ok, 0u) << c.site;
  }
  for (const char* site : {"a", "b"}) {
    EXPECT_EQ(VerifiedBlobs(site), 2u) << site;  // identical files stored once
    fs::path v1 = SitePath(site) / "bags/acme/photos/v1";
    for (const char* name : {"bagit.txt", "bag-info.txt", "manifest-sha256.txt",
                             "tagmanifest-sha256.txt", "version.pb"}) {
      EXPECT_TRUE(fs::exists(v1 / name)) << site << " " << name;
    }
    EXPECT_FALSE(fs::exists(v1 / "cairn-added.txt"));
  }
  std::string info = cairn::testing::ReadFile(SitePath("a") / "bags/acme/photos/v1/bag-info.txt");
  EXPECT_NE(info.find("Payload-Oxum: 17.3"), std::string::npos) << info;
  Result<VersionInfo> v = repo_->catalog().GetVersion("acme", "photos", 1, true);
  ASSERT_OK(v);
  ASSERT_EQ(v->files.size(), 3u);
  EXPECT_EQ(v->files[0].path, "data/a.txt");
  Result<uint32_t> copies = repo_->catalog().MinOkCopies(v->id);
  ASSERT_OK(copies);
  EXPECT_EQ(*copies, 2u);
  // The source folder was not written into.
  EXPECT_FALSE(fs::exists(dir_ / "src/photos/bagit.txt"));
  EXPECT_FALSE(fs::exists(dir_ / "src/photos/data"));
  // No temp files left behind.
  EXPECT_EQ(TempFiles("a") + TempFiles("b"), 0u);
}

// A bag's manifests list files only: the empty folders of the source (or of a
// bag's data/) are kept with the version instead, the deepest ones, in its
// version.pb and the catalog, without a warning (deposit_empty_folders_test.cc
// restores them).
TEST_F(DepositTest, EmptyFoldersAreKeptWithTheVersion) {
  WriteFile(dir_ / "src/box/kept/a.txt", "alpha\n");
  fs::create_directories(dir_ / "src/box/empty");
  fs::create_directories(dir_ / "src/box/outer/inner");  // outer holds only an empty folder
  const std::vector<std::string> expected = {"data/empty", "data/outer/inner"};
  auto kept = [&](const std::string& object, uint32_t version) {
    Result<VersionInfo> v = repo_->catalog().GetVersion("acme", object, version, false);
    EXPECT_OK(v);
    EXPECT_EQ(v->empty_folders, expected);
    proto::VersionRecord record;
    EXPECT_TRUE(record.ParseFromString(cairn::testing::ReadFile(
        SitePath("b") / "bags/acme" / object / ("v" + std::to_string(version)) / "version.pb")));
    EXPECT_EQ(
        std::vector<std::string>(record.empty_folders().begin(), record.empty_folders().end()),
        expected);
  };
  DepositOutcome folder = Run("acme", (dir_ / "src/box").string());
  ASSERT_TRUE(folder.receipt) << folder.report.ToText();
  EXPECT_EQ(folder.receipt->files, 1u);
  EXPECT_EQ(folder.report.warning_count(), 0u) << folder.report.ToText();
  kept("box", 1);

  // The same as a bag folder: its data/ walked by the bag checker.
  WriteFile(dir_ / "bag/bagit.txt", "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n");
  WriteFile(dir_ / "bag/data/kept/a.txt", "alpha\n");
  WriteFile(dir_ / "bag/manifest-sha256.txt",
            bagit::HashBytes("alpha\n",
                             bagit::Only(bagit::Algorithm::kSha256))[bagit::Algorithm::kSha256] +
                "  data/kept/a.txt\n");
  fs::create_directories(dir_ / "bag/data/empty");
  fs::create_directories(dir_ / "bag/data/outer/inner");
  DepositOutcome bag = Run("acme", (dir_ / "bag").string());
  ASSERT_TRUE(bag.receipt) << bag.report.ToText();
  EXPECT_EQ(bag.report.warning_count(), 0u) << bag.report.ToText();
  kept("bag", 1);

  // A folder name that cannot be a bag path is refused, as a file's would be.
  fs::create_directories(dir_ / "src/bad/back\\slash");
  DepositOutcome bad = Run("acme", (dir_ / "src/bad").string());
  EXPECT_TRUE(bad.refused);
  EXPECT_TRUE(bad.report.Has("path.backslash")) << bad.report.ToText();
}

TEST_F(DepositTest, RedepositMakesNextVersionAndStoresOnlyChangedFiles) {
  WriteFile(dir_ / "src/obj/same.txt", std::string(5000, 's'));
  WriteFile(dir_ / "src/obj/changes.txt", "first");
  DepositOutcome v1 = Run("acme", (dir_ / "src/obj").string());
  ASSERT_TRUE(v1.receipt) << v1.report.ToText();
  size_t blobs_before = VerifiedBlobs("a");
  const fs::path same_blob = SitePath("a") / layout::BlobKey(Sha256Hex(std::string(5000, 's')));
  struct stat before {};
  ASSERT_EQ(::stat(same_blob.c_str(), &before), 0);
  WriteFile(dir_ / "src/obj/changes.txt", "second");
  DepositOutcome v2 = Run("acme", (dir_ / "src/obj").string());
  ASSERT_TRUE(v2.receipt) << v2.report.ToText();
  EXPECT_EQ(v2.receipt->version, 2u);
  EXPECT_EQ(v2.receipt->blobs_reused, 1u);
  EXPECT_EQ(v2.receipt->bytes_stored, 6u);  // only "second"
  struct stat after {};
  ASSERT_EQ(::stat(same_blob.c_str(), &after), 0);
  EXPECT_EQ(after.st_ino, before.st_ino) << "the unchanged file's blob was written again";
  EXPECT_EQ(TempFiles("a"), 0u);
  EXPECT_EQ(VerifiedBlobs("a"), blobs_before + 1);
  EXPECT_EQ(VerifiedBlobs("b"), blobs_before + 1);
  EXPECT_TRUE(fs::exists(SitePath("b") / "bags/acme/obj/v2/version.pb"));
  Result<std::vector<VersionInfo>> versions = repo_->catalog().ListVersions("acme", "obj");
  ASSERT_OK(versions);
  EXPECT_EQ(versions->size(), 2u);
}

TEST_F(DepositTest, IdenticalFilesFromTwoPartnersAreStoredOncePerSite) {
  WriteFile(dir_ / "one/x/shared.bin", std::string(10000, 'x'));
  WriteFile(dir_ / "two/x/shared.bin", std::string(10000, 'x'));
  ASSERT_TRUE(Run("acme", (dir_ / "one/x").string()).receipt);
  DepositOutcome second = Run("beta", (dir_ / "two/x").string());
  ASSERT_TRUE(second.receipt) << second.report.ToText();
  EXPECT_EQ(VerifiedBlobs("a"), 1u);
  EXPECT_EQ(VerifiedBlobs("b"), 1u);
  // Stored once, but beta's receipt does not tell beta that acme holds the same bytes.
  EXPECT_EQ(second.receipt->bytes_stored, 10000u);
  EXPECT_EQ(second.receipt->blobs_reused, 0u);
  EXPECT_EQ(second.receipt->ToText().find("1 files already stored"), std::string::npos)
      << second.receipt->ToText();
  // What beta itself holds is counted as such: again as another object, and a second file
  // of the same bytes in one deposit.
  WriteFile(dir_ / "two/y/shared.bin", std::string(10000, 'x'));
  WriteFile(dir_ / "two/y/copy.bin", std::string(10000, 'x'));
  WriteFile(dir_ / "two/y/new.bin", std::string(7, 'n'));
  DepositOutcome again = Run("beta", (dir_ / "two/y").string());
  ASSERT_TRUE(again.receipt) << again.report.ToText();
  EXPECT_EQ(again.receipt->bytes_stored, 7u);
  EXPECT_EQ(again.receipt->blobs_reused, 2u);
  ASSERT_OK(repo_->catalog().AddPartner("gamma", "Gamma Museum"));
  WriteFile(dir_ / "three/z/copy1.bin", std::string(300, 'c'));
  WriteFile(dir_ / "three/z/copy2.bin", std::string(300, 'c'));
  WriteFile(dir_ / "three/z/shared.bin", std::string(10000, 'x'));
  DepositOutcome third = Run("gamma", (dir_ / "three/z").string());
  ASSERT_TRUE(third.receipt) << third.report.ToText();
  EXPECT_EQ(third.receipt->bytes_stored, 10300u);
  EXPECT_EQ(third.receipt->blobs_reused, 1u);  // copy2: its own second file of the same bytes
}

TEST_F(DepositTest, BagWithoutSha256ManifestGetsOneMarkedAsCairnAdded) {
  fs::path bag = dir_ / "md5bag";
  MakeBag(bag, {{"data/one.txt", "one\n"}, {"data/two.txt", "two\n"}}, bagit::Algorithm::kMd5);
  DepositOutcome out = Run("acme", bag.string());
  ASSERT_TRUE(out.receipt) << out.report.ToText();
  EXPECT_EQ(out.receipt->source_kind, "bag");
  EXPECT_TRUE(out.receipt->cairn_added_sha256_manifest);
  fs::path v1 = SitePath("b") / "bags/acme/md5bag/v1";
  EXPECT_EQ(cairn::testing::ReadFile(v1 / "cairn-added.txt"), "manifest-sha256.txt\n");
  EXPECT_EQ(cairn::testing::ReadFile(v1 / "manifest-md5.txt"),
            cairn::testing::ReadFile(bag / "manifest-md5.txt"));  // byte for byte
  std::string added = cairn::testing::ReadFile(v1 / "manifest-sha256.txt");
  EXPECT_NE(added.find("  data/one.txt\n"), std::string::npos) << added;
  EXPECT_EQ(VerifiedBlobs("b"), 2u);
}

TEST_F(DepositTest, BagCarryingCairnsReservedTagFileNameIsRefused) {
  // Restore and the site README leave out the files cairn-added.txt lists, so a
  // depositor's own file of that name is refused even when the bag has sha256.
  fs::path bag = dir_ / "reserved";
  MakeBag(bag, {{"data/one.txt", "one\n"}}, bagit::Algorithm::kSha256);
  WriteFile(bag / "cairn-added.txt", "bag-info.txt\n");
  DepositOutcome out = Run("acme", bag.string());
  EXPECT_TRUE(out.refused);
  EXPECT_TRUE(out.report.Has("tag.reserved-name")) << out.report.ToText();
  ExpectNothingStored("acme", "reserved");

  // Nor its list of a bag's empty folders, which it names in cairn-added.txt.
  fs::path listed = dir_ / "listed";
  MakeBag(listed, {{"data/one.txt", "one\n"}}, bagit::Algorithm::kSha256);
  WriteFile(listed / "cairn-empty-folders.txt", "data/x\n");
  DepositOutcome list = Run("acme", listed.string());
  EXPECT_TRUE(list.refused);
  EXPECT_NE(list.report.ToText().find("cairn-empty-folders.txt: tag.reserved-name"),
            std::string::npos)
      << list.report.ToText();
  ExpectNothingStored("acme", "listed");
}

TEST_F(DepositTest, CorruptBagIsRefusedWholeAndLeavesNothing) {
  fs::path bag = dir_ / "broken";
  MakeBag(bag, {{"data/good.txt", "good\n"}, {"data/bad.txt", "bad\n"}}, bagit::Algorithm::kSha256);
  WriteFile(bag / "data/bad.txt", "BAD\n");  // same size, different bytes
  DepositOutcome out = Run("acme", bag.string());
  EXPECT_TRUE(out.refused);
  EXPECT_FALSE(out.receipt);
  EXPECT_TRUE(out.report.Has("payload.digest-mismatch")) << out.report.ToText();
  ExpectNothingStored("acme", "broken");
}

// A folder's entries are typed from its listing (no lstat per file): a link and a
// fifo are still refused by name and rule, in subfolders too, and nothing is stored.
TEST_F(DepositTest, FolderWithALinkOrAFifoIsRefusedNamingEach) {
  WriteFile(dir_ / "src/f/a.txt", "a");
  WriteFile(dir_ / "src/f/sub/b.txt", "b");
  fs::create_symlink("a.txt", dir_ / "src/f/sub/link.txt");
  ASSERT_EQ(::mkfifo((dir_ / "src/f/pipe").c_str(), 0600), 0);
  DepositOutcome out = Run("acme", (dir_ / "src/f").string());
  EXPECT_TRUE(out.refused);
  EXPECT_FALSE(out.receipt);
  const std::string text = out.report.ToText();
  EXPECT_TRUE(out.report.Has("source.symlink")) << text;
  EXPECT_TRUE(out.report.Has("source.special-file")) << text;
  EXPECT_NE(text.find("sub/link.txt"), std::string::npos) << text;
  EXPECT_NE(text.find("pipe"), std::string::npos) << text;
  ExpectNothingStored("acme", "f");
}

TEST_F(DepositTest, UnknownPartnerIsRefused) {
  WriteFile(dir_ / "src/f/a.txt", "a");
  DepositOutcome out = Run("nobody", (dir_ / "src/f").string());
  EXPECT_TRUE(out.refused);
  EXPECT_TRUE(out.report.Has("partner.unknown"));
  ExpectNothingStored("nobody", "f");
}

TEST_F(DepositTest, PolicyRequiredFieldMissingIsRefused) {
  PolicyRecord policy{"acme", "copies: 2\nrequired_bag_info: \"Source-Organization\"\n", "test",
                      dir_.string(), 0};
  ASSERT_OK(repo_->catalog().SetPolicy(policy));
  WriteFile(dir_ / "src/f/a.txt", "a");
  DepositOutcome out = Run("acme", (dir_ / "src/f").string());
  EXPECT_TRUE(out.refused);
  EXPECT_TRUE(out.report.Has("policy.required-bag-info")) << out.report.ToText();
  ExpectNothingStored("acme", "f");
  // With the field given, the same folder goes in.
  DepositRequest request;
  request.partner = "acme";
  request.source = (dir_ / "src/f").string();
  request.info = {"Source-Organization: Acme Archives"};
  Result<DepositOutcome> ok = Deposit(*repo_, request);
  ASSERT_TRUE(ok.ok() && ok->receipt) << (ok.ok() ? ok->report.ToText() : ok.status().ToString());
}

TEST_F(DepositTest, TarAndZipAreStreamedIntoTheStore) {
  for (auto [name, format] : {std::pair{"bag.tar", bagit::ArchiveFormat::kTar},
                              std::pair{"bag.zip", bagit::ArchiveFormat::kZip},
                              std::pair{"bag.tgz", bagit::ArchiveFormat::kTarGz}}) {
    fs::path bag = dir_ / "made" / name;
    fs::path staging = dir_ / ("staging-" + std::string(name));
    MakeBag(staging, {{"data/p.txt", std::string("payload of ") + name}},
            bagit::Algorithm::kSha512);
    MakeArchive(staging, bag, format, "");
    DepositOutcome out = Run("acme", bag.string());
    ASSERT_TRUE(out.receipt) << name << "\n" << out.report.ToText();
    EXPECT_EQ(out.receipt->object, "bag");
    EXPECT_EQ(out.receipt->source_kind, "serialized bag");
    EXPECT_EQ(out.receipt->files, 1u);
  }
  EXPECT_EQ(VerifiedBlobs("a"), 3u);
  EXPECT_EQ(VerifiedBlobs("b"), 3u);
  Result<std::vector<VersionInfo>> versions = repo_->catalog().ListVersions("acme", "bag");
  ASSERT_OK(versions);
  EXPECT_EQ(versions->size(), 3u);
}

// A tar whose payload comes before its manifests (as `tar` of a bag folder may write it, and
// `cairn bag create --format tar` does): from an uncompressed tar file the manifests are read
// ahead, and each member is checked as it streams; from a compressed one, which cannot be read
// twice cheaply, the early files' digests wait in the deposit scratch (on disk), then are
// checked against the manifests. Either way a file that disagrees refuses the bag whole.
TEST_F(DepositTest, ArchiveWithManifestsAfterThePayloadIsChecked) {
  for (bool corrupt : {true, false}) {  // the refused ones first: nothing on the sites yet
    for (std::string ext : {".tar", ".tar.gz"}) {
      std::string name =
          std::string(corrupt ? "late-bad" : "late-good") + (ext == ".tar" ? "" : "-gz");
      fs::path staging = dir_ / ("staging-" + name) / name;
      MakeBag(staging, {{"data/a.txt", "first payload"}, {"data/sub/b.txt", "second payload"}},
              bagit::Algorithm::kSha256);
      if (corrupt) WriteFile(staging / "data/sub/b.txt", "second payloaX");
      fs::path tar = dir_ / (name + ext);
      std::string command = std::string(ext == ".tar" ? "tar -cf '" : "tar -czf '") + tar.string() +
                            "' -C '" + staging.parent_path().string() + "' " + name + "/data " +
                            name + "/bagit.txt " + name + "/bag-info.txt " + name +
                            "/manifest-sha256.txt " + name + "/tagmanifest-sha256.txt";
      ASSERT_EQ(std::system(command.c_str()), 0) << command;
      DepositOutcome out = Run("acme", tar.string());
      if (!corrupt) {
        ASSERT_TRUE(out.receipt) << out.report.ToText();
        EXPECT_EQ(out.receipt->files, 2u);
        Result<std::vector<VersionInfo>> versions = repo_->catalog().ListVersions("acme", name);
        ASSERT_OK(versions);
        EXPECT_EQ(versions->size(), 1u);
      } else {
        EXPECT_TRUE(out.refused) << name;
        EXPECT_FALSE(out.report.valid()) << out.report.ToText();
        EXPECT_NE(out.report.ToText().find("data/sub/b.txt"), std::string::npos)
            << out.report.ToText();
        ExpectNothingStored("acme", name);
      }
    }
  }
}

// A bag tarred by a tool that writes pax headers in UTF-8 (GNU tar --format=pax in a UTF-8
// locale, bsdtar on a Mac), with the NFD names a Mac gives files: libarchive reads each name
// back as NFC, so the deposit was refused (payload.not-in-manifest, payload.missing). The files
// are stored under their manifests' names, byte for byte, and restore under them.
TEST_F(DepositTest, APaxTarOfNfdNamesIsStoredUnderTheManifestsNames) {
  const std::string nfd =
      "data/Cafe\xcc\x81/Nu\xcc\x81n\xcc\x83"
      "ez.txt";
  const std::string plain = "data/plain.txt";
  fs::path staging = dir_ / "staging" / "mac";
  MakeBag(staging, {{nfd, "accented\n"}, {plain, "plain\n"}}, bagit::Algorithm::kSha256);
  // The payload first (as a Mac's tar of a bag puts data/ before manifest-*.txt): read ahead
  // from the .tar; from the .tar.gz its files are held until the manifests come, then renamed.
  for (std::string object : {"mac", "mac-gz"}) {
    SCOPED_TRACE(object);
    fs::path tar = dir_ / (object + (object == "mac" ? ".tar" : ".tar.gz"));
    std::string command = "LC_ALL=C.UTF-8 tar --format=pax -c" +
                          std::string(object == "mac" ? "" : "z") + "f '" + tar.string() +
                          "' -C '" + staging.parent_path().string() +
                          "' mac/data mac/bagit.txt mac/bag-info.txt mac/manifest-sha256.txt "
                          "mac/tagmanifest-sha256.txt";
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
    DepositOutcome out = Run("acme", tar.string());
    ASSERT_TRUE(out.receipt) << out.report.ToText();
    EXPECT_EQ(out.receipt->files, 2u);
    EXPECT_TRUE(out.report.Has("archive.name-normalized")) << out.report.ToText();
    Result<VersionInfo> v = repo_->catalog().GetVersion("acme", object, 1, true);
    ASSERT_OK(v);
    std::vector<std::string> paths;
    for (const auto& f : v->files) paths.push_back(f.path);
    std::sort(paths.begin(), paths.end());
    EXPECT_EQ(paths, (std::vector<std::string>{nfd, plain}));
    RestoreRequest request;
    request.partner = "acme";
    request.object = object;
    request.dest = (dir_ / ("restored-" + object)).string();
    ASSERT_OK(Restore(*repo_, request));
    EXPECT_EQ(cairn::testing::ReadFile(dir_ / ("restored-" + object) / nfd), "accented\n");
  }
}

// An archive can carry a member twice. A payload member twice with the same bytes was a
// deposit error (exit 2, "payload file stored twice", no rule); a tag file twice was valid and
// its deposit failed at commit with a false "another deposit of this version number", leaving
// an empty version folder. Both are now refused by rule, nothing stored.
TEST_F(DepositTest, AnArchiveMemberTwiceIsRefusedByRule) {
  fs::path staging = dir_ / "staging";
  MakeBag(staging, {{"data/p.txt", "evil\n"}}, bagit::Algorithm::kSha256);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"dup", "payload.duplicate-member"}, {"duptag", "tag.duplicate-member"}};
  for (const auto& [object, rule] : cases) {
    SCOPED_TRACE(object);
    fs::path bag = dir_ / (object + ".tar");
    // The extra member's bytes ("evil\n") are the payload file's own.
    MakeArchive(staging, bag, bagit::ArchiveFormat::kTar,
                object + (object == "dup" ? "/data/p.txt" : "/bagit.txt"));
    DepositOutcome out = Run("acme", bag.string());
    EXPECT_TRUE(out.refused);
    EXPECT_TRUE(out.report.Has(rule)) << out.report.ToText();
    ExpectNothingStored("acme", object);
  }
}

TEST_F(DepositTest, HostileArchiveIsRefusedNamingTheMember) {
  fs::path staging = dir_ / "staging";
  MakeBag(staging, {{"data/p.txt", "payload"}}, bagit::Algorithm::kSha256);
  fs::path bag = dir_ / "evil.tar";
  MakeArchive(staging, bag, bagit::ArchiveFormat::kTar, "../evil");
  DepositOutcome out = Run("acme", bag.string());
  EXPECT_TRUE(out.refused);
  EXPECT_TRUE(out.report.Has("path.dot-dot")) << out.report.ToText();
  ExpectNothingStored("acme", "evil");
  EXPECT_FALSE(fs::exists(dir_ / "evil"));
}

TEST_F(DepositTest, UnwritableFirstSiteFailsNamingTheSite) {
  WriteFile(dir_ / "src/f/a.txt", "a");
  // blobs/ of site a is a file: no blob can be named there (works even as root; write-once
  // files start without a name, so a broken tmp/ no longer stops them).
  fs::remove_all(SitePath("a") / "blobs");
  WriteFile(SitePath("a") / "blobs", "not a folder");
  DepositRequest request;
  request.partner = "acme";
  request.source = (dir_ / "src/f").string();
  Result<DepositOutcome> out = Deposit(*repo_, request);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("site a"), std::string::npos) << out.status().ToString();
  EXPECT_FALSE(repo_->catalog().GetVersion("acme", "f", std::nullopt, false).ok());
  EXPECT_FALSE(fs::exists(SitePath("b") / "bags/acme/f"));
}

// With the second site down, a receipt's count of the copies there is only what the deposit
// verified: the copies another partner's identical content put there are not told (they showed
// as "verified" although nothing on the site was read), nor those of the partner's own content
// from before (counted as there while the site was away, which it may have been for good).
TEST_F(DepositTest, ASiteDownCountsNoCopyOfAnotherPartnersContent) {
  WriteFile(dir_ / "src/acme/shared.txt", "the same bytes");
  ASSERT_TRUE(Run("acme", (dir_ / "src/acme").string()).receipt);  // on a and b
  clock_.Advance(kMicrosPerSecond);  // the fake clock: acme's copies are from before
  fs::rename(SitePath("b"), dir_ / "b-away");
  WriteFile(dir_ / "src/beta/shared.txt", "the same bytes");
  DepositOutcome beta = Run("beta", (dir_ / "src/beta").string());
  ASSERT_TRUE(beta.receipt) << beta.report.ToText();
  ASSERT_EQ(beta.receipt->copies.size(), 2u);
  EXPECT_EQ(beta.receipt->copies[1].site, "b");
  EXPECT_EQ(beta.receipt->copies[1].ok, 0u) << beta.receipt->ToText();
  EXPECT_GT(beta.receipt->copies[1].pending, 0u);
  // Nor its own content, deposited again while b is away: nothing on b was read.
  WriteFile(dir_ / "src/again/shared.txt", "the same bytes");
  DepositOutcome again = Run("acme", (dir_ / "src/again").string());
  ASSERT_TRUE(again.receipt) << again.report.ToText();
  EXPECT_EQ(again.receipt->copies[1].ok, 0u) << again.receipt->ToText();
  EXPECT_EQ(again.receipt->copies[1].pending, again.receipt->copies[0].ok);
  fs::rename(dir_ / "b-away", SitePath("b"));
}

TEST_F(DepositTest, SiteDownLeavesCopiesPendingUntilItIsBack) {
  WriteFile(dir_ / "src/f/a.txt", "a");
  fs::rename(SitePath("b"), dir_ / "b-away");
  DepositOutcome out = Run("acme", (dir_ / "src/f").string());
  ASSERT_TRUE(out.receipt) << out.report.ToText();
  ASSERT_EQ(out.receipt->copies.size(), 2u);
  EXPECT_EQ(out.receipt->copies[1].site, "b");
  EXPECT_GT(out.receipt->copies[1].pending, 0u);
  EXPECT_FALSE(out.receipt->warnings.empty());
  fs::rename(dir_ / "b-away", SitePath("b"));
  clock_.Advance(3600 * kMicrosPerSecond);  // past the retry backoff
  Reopen();
  Result<ReplicationSummary> drained = DrainReplication(*repo_, {});
  ASSERT_OK(drained);
  EXPECT_EQ(drained->jobs_done, 1u);
  EXPECT_EQ(VerifiedBlobs("b"), 1u);
  Result<VersionInfo> v = repo_->catalog().GetVersion("acme", "f", 1, false);
  ASSERT_OK(v);
  EXPECT_EQ(*repo_->catalog().MinOkCopies(v->id), 2u);
}

// What `cairn list` shows for a version is kept when the deposit ends, and again
// when a replication run ends (the new copies drop it): the first list after many
// deposits of large versions read a row each instead of a pass over every
// version's files (47 s at 10,000,000 files, ops/bench/catalog_scale.sh).
TEST_F(DepositTest, TheListingsCountIsKeptWhenADepositOrAReplicationEnds) {
  auto memo = [&](int64_t version_id) -> int64_t {
    auto stmt = CatalogTestAccess::Db(repo_->catalog())
                    .Prepare("SELECT copies_ok FROM version_copies WHERE version_id = ?");
    EXPECT_OK(stmt);
    if (!stmt.ok()) return -2;
    stmt->Bind(1, version_id);
    auto row = stmt->Step();
    EXPECT_OK(row);
    return row.ok() && *row ? stmt->Int(0) : -1;
  };
  WriteFile(dir_ / "src/both/a.txt", "a");
  WriteFile(dir_ / "src/both/b.txt", "b");
  DepositOutcome out = Run("acme", (dir_ / "src/both").string());
  ASSERT_TRUE(out.receipt) << out.report.ToText();
  Result<VersionInfo> both = repo_->catalog().GetVersion("acme", "both", 1, false);
  ASSERT_OK(both);
  EXPECT_EQ(memo(both->id), 2) << "replicated to a and b by the deposit";

  WriteFile(dir_ / "src/one/c.txt", "c");
  DepositRequest request;
  request.partner = "acme";
  request.source = (dir_ / "src/one").string();
  request.replicate = false;
  Result<DepositOutcome> one_out = Deposit(*repo_, request);
  ASSERT_OK(one_out);
  Result<VersionInfo> one = repo_->catalog().GetVersion("acme", "one", 1, false);
  ASSERT_OK(one);
  EXPECT_EQ(memo(one->id), 1) << "--no-replicate: on site a only";

  Result<ReplicateOutcome> replicated = Replicate(*repo_, ReplicateRequest{}, {});
  ASSERT_OK(replicated);
  EXPECT_GT(replicated->total.jobs_done, 0u);
  EXPECT_EQ(memo(one->id), 2) << "kept again after the new copies dropped it";
  EXPECT_EQ(memo(both->id), 2);
  // And it is what the listing says.
  Result<std::vector<ObjectListing>> listed = ListObjectsWithCopies(repo_->catalog(), "acme");
  ASSERT_OK(listed);
  ASSERT_EQ(listed->size(), 2u);
  for (const ObjectListing& o : *listed) EXPECT_EQ(o.copies_ok, 2u) << o.summary.object;
}

// A receipt's copies are the catalog's: a version whose blobs are all new is counted
// from what the commit inserted (no pass over its files), one sharing blobs with
// earlier versions by the catalog's own count; both as FillCopies counts afterwards.
TEST_F(DepositTest, AReceiptCountsTheCopiesTheCatalogHolds) {
  WriteFile(dir_ / "src/first/a.txt", "a");
  WriteFile(dir_ / "src/first/b.txt", "b");
  Run("acme", (dir_ / "src/first").string());  // on a and b
  WriteFile(dir_ / "src/second/a.txt", "a");   // a blob of "first", on a and b
  WriteFile(dir_ / "src/second/c.txt", "c");
  WriteFile(dir_ / "src/third/d.txt", "d");
  WriteFile(dir_ / "src/third/e.txt", "e");
  WriteFile(dir_ / "src/third/e2.txt", "e");  // a blob listed twice
  WriteFile(dir_ / "src/fourth/f.txt", "f");
  for (const char* object : {"second", "third", "fourth"}) {
    DepositRequest request;
    request.partner = "acme";
    request.source = (dir_ / "src" / object).string();
    request.replicate = false;
    Result<DepositOutcome> out = Deposit(*repo_, request);
    ASSERT_OK(out);
    ASSERT_TRUE(out->receipt) << out->report.ToText();
    Result<VersionInfo> v = repo_->catalog().GetVersion("acme", object, 1, false);
    ASSERT_OK(v);
    Receipt counted;
    ASSERT_OK(FillCopies(repo_->catalog(), v->id, {"a", "b"}, &counted));
    ASSERT_EQ(out->receipt->copies.size(), 2u) << object;
    for (size_t i = 0; i < 2; ++i) {
      EXPECT_EQ(out->receipt->copies[i].site, counted.copies[i].site) << object;
      EXPECT_EQ(out->receipt->copies[i].ok, counted.copies[i].ok) << object;
      EXPECT_EQ(out->receipt->copies[i].pending, counted.copies[i].pending) << object;
    }
    EXPECT_GT(out->receipt->copies[0].ok, 0u) << object;
    EXPECT_EQ(out->receipt->copies[0].pending, 0u) << object;
    if (std::string(object) == "second") {
      EXPECT_GT(out->receipt->copies[1].ok, 0u) << "a.txt's blob is on b already";
    } else {
      EXPECT_EQ(out->receipt->copies[1].ok, 0u) << object;
    }
    EXPECT_EQ(out->receipt->copies[1].pending + out->receipt->copies[1].ok,
              out->receipt->copies[0].ok)
        << object;
  }
}

// A few thousand small files go through the batched commits of a posix site
// (Site::CommitBlobs, several batches) and restore byte for byte; identical
// files in one batch are stored once.
TEST_F(DepositTest, ThousandsOfSmallFilesAreCommittedInBatchesAndRestoreByteForByte) {
  std::map<std::string, std::string> files;
  for (int i = 0; i < 2500; ++i) {
    std::string bytes = "small file " + std::to_string(i % 2400) + "\n";
    bytes.append(static_cast<size_t>(i % 97), static_cast<char>('a' + i % 26));
    if (i % 2400 == 7) bytes = "seven\n";  // a few identical files
    files["d" + std::to_string(i / 500) + "/f" + std::to_string(i) + ".txt"] = bytes;
  }
  files["big.bin"] = std::string((2 << 20) + 5, 'x');  // above the batch limit: one by one
  cairn::testing::WriteTree(dir_ / "src/many", files);
  DepositOutcome out = Run("acme", (dir_ / "src/many").string());
  ASSERT_TRUE(out.receipt) << out.report.ToText();
  EXPECT_EQ(out.receipt->files, files.size());
  std::set<std::string> distinct;
  for (const auto& [path, bytes] : files) distinct.insert(bytes);
  for (const char* site : {"a", "b"}) EXPECT_EQ(VerifiedBlobs(site), distinct.size()) << site;
  EXPECT_EQ(TempFiles("a") + TempFiles("b"), 0u);
  for (const char* site : {"a", "b"}) {
    RestoreRequest request;
    request.partner = "acme";
    request.object = "many";
    request.site = site;
    request.dest = (dir_ / (std::string("restored-") + site)).string();
    ASSERT_OK(Restore(*repo_, request));
    EXPECT_EQ(cairn::testing::ReadTree(dir_ / (std::string("restored-") + site) / "data"), files)
        << site;
  }
}

// Replication records the copies it made in the catalog once per batch
// committed together, not every 256 copies: each catalog transaction waits for
// its disk (195 of them for 50,000 files before).
TEST_F(DepositTest, ReplicationRecordsItsCopiesOneTransactionPerBatch) {
  std::map<std::string, std::string> files;
  for (int i = 0; i < 5000; ++i) {
    files["d" + std::to_string(i / 1000) + "/f" + std::to_string(i)] = "file " + std::to_string(i);
  }
  cairn::testing::WriteTree(dir_ / "src/many", files);
  DepositRequest request;
  request.partner = "acme";
  request.source = (dir_ / "src/many").string();
  request.replicate = false;
  ASSERT_TRUE(Run(std::move(request)).receipt);

  static int commits = 0;
  commits = 0;
  sqlite3* db = CatalogTestAccess::Db(repo_->catalog()).raw();
  sqlite3_commit_hook(
      db, [](void*) { return ++commits, 0; }, nullptr);
  Result<ReplicationSummary> drained = DrainReplication(*repo_, {});
  sqlite3_commit_hook(db, nullptr, nullptr);
  ASSERT_OK(drained);
  EXPECT_EQ(drained->copies_made, files.size() + 5);  // and the tag files, version.pb
  Result<VersionInfo> v = repo_->catalog().GetVersion("acme", "many", 1, false);
  ASSERT_OK(v);
  Result<uint32_t> copies = repo_->catalog().MinOkCopies(v->id);
  ASSERT_OK(copies);
  EXPECT_EQ(*copies, 2u);
  // Batches of 1, 2, 4, ... 2,048 then 905: recorded at 511, 1,023, 2,047,
  // 4,095 and 5,000 copies, then the tag files, version.pb, the event, the
  // job and the listing's count: 11 transactions (25 when every 256 copies
  // were recorded).
  EXPECT_LE(commits, 16) << "catalog transactions of the replication";
}

// syncfs fails at a batch's first barrier: the deposit fails naming the site,
// and no blob, version or temp file is left.
std::atomic<int> syncfs_calls{0};
int fail_syncfs_at = 1;  // the n-th syncfs fails with EIO
int FailingSyncfs(int fd) {
  if (++syncfs_calls == fail_syncfs_at) {
    errno = EIO;
    return -1;
  }
  return posix_io::RealFileOps().syncfs(fd);
}

class DepositBarrierTest : public DepositTest {
 protected:
  // Deposits `source` for acme (or `request`) with `ops` as the posix sites'
  // file operations.
  DepositOutcome RunWithOps(const posix_io::FileOps& ops, DepositRequest request) {
    posix_io::SetFileOpsForTesting(&ops);
    DepositOutcome out = Run(std::move(request));
    posix_io::SetFileOpsForTesting(nullptr);
    return out;
  }
  DepositOutcome RunWithOps(const posix_io::FileOps& ops, const std::string& source) {
    DepositRequest request;
    request.partner = "acme";
    request.source = source;
    return RunWithOps(ops, std::move(request));
  }

  // A bag folder src/NAME of `count` small payload files (sha256); its path.
  std::string MakeSmallBag(const std::string& name, int count) {
    std::map<std::string, std::string> files;
    for (int i = 0; i < count; ++i) {
      files["data/f" + std::to_string(i)] = "bagged " + std::to_string(i);
    }
    MakeBag(dir_ / "src" / name, files, bagit::Algorithm::kSha256);
    return (dir_ / "src" / name).string();
  }

  // Deposits `count` small files (folder src/NAME) for acme while the
  // `fail_at`-th syncfs fails: the deposit fails naming the barrier and the
  // site, leaves no version, bag file or temp file, and the same deposit then
  // succeeds. Blobs whose names were made but not known durable when the
  // barrier failed are unreferenced, the garbage collector's: `cairn gc`
  // removes them all.
  void DepositWhileASyncfsFails(const std::string& name, size_t count, int fail_at) {
    const fs::path& dir = dir_;
    for (size_t i = 0; i < count; ++i) {
      WriteFile(dir / "src" / name / ("f" + std::to_string(i)), "bytes " + std::to_string(i));
    }
    posix_io::FileOps ops = posix_io::RealFileOps();
    ops.syncfs = FailingSyncfs;
    syncfs_calls = 0;
    fail_syncfs_at = fail_at;
    posix_io::SetFileOpsForTesting(&ops);
    DepositRequest request;
    request.partner = "acme";
    request.source = (dir / "src" / name).string();
    request.threads = 2;
    Result<DepositOutcome> out = Deposit(*repo_, request);
    posix_io::SetFileOpsForTesting(nullptr);
    ASSERT_FALSE(out.ok());
    EXPECT_GE(syncfs_calls.load(), fail_at);
    EXPECT_NE(out.status().message().find("syncfs"), std::string::npos) << out.status().ToString();
    EXPECT_NE(out.status().message().find("site a"), std::string::npos) << out.status().ToString();
    GcOptions gc;
    gc.grace_micros = 0;
    ASSERT_OK(CollectGarbage(*repo_, gc));
    ExpectNothingStored("acme", name);
    DepositOutcome again = Run("acme", request.source);
    ASSERT_TRUE(again.receipt) << again.report.ToText();
    EXPECT_EQ(again.receipt->files, count);
  }
};

TEST_F(DepositBarrierTest, AFailedBatchBarrierFailsTheDepositAndLeavesNothing) {
  DepositWhileASyncfsFails("few", 40, 1);
}

// A deposit of more files than one batch holds commits a batch while the next
// is staged, and one syncfs between two batches makes the first batch's names
// and the second batch's bytes durable: when it fails, neither batch counts
// and the deposit fails all the same.
TEST_F(DepositBarrierTest, ABarrierFailingBetweenTwoBatchesFailsTheDeposit) {
  DepositWhileASyncfsFails("many", Site::BlobBatchLimit() + 50, 2);
}

// The last batch's names are made durable after the walk: that syncfs failing
// fails the deposit too.
TEST_F(DepositBarrierTest, ABarrierFailingForTheLastBatchsNamesFailsTheDeposit) {
  DepositWhileASyncfsFails("last", Site::BlobBatchLimit() + 50, 3);
}

// A bag folder's small payload files are committed in batches too, as a plain
// folder's: no fsync per file (each was committed alone: two fsyncs per file,
// 40 s for 50,000 files of 4 KiB where the plain folder took 5 s).
std::atomic<int> fsync_calls{0};
int CountingFsync(int fd) {
  ++fsync_calls;
  return posix_io::RealFileOps().fsync(fd);
}
int CountingSyncfs(int fd) {
  ++syncfs_calls;
  return posix_io::RealFileOps().syncfs(fd);
}

TEST_F(DepositBarrierTest, ABagFoldersSmallFilesAreCommittedInBatches) {
  const std::string bag = MakeSmallBag("bag", 300);
  posix_io::FileOps ops = posix_io::RealFileOps();
  ops.fsync = CountingFsync;
  ops.syncfs = CountingSyncfs;
  fsync_calls = 0;
  syncfs_calls = 0;
  DepositOutcome out = RunWithOps(ops, bag);
  ASSERT_TRUE(out.receipt) << out.report.ToText();
  EXPECT_EQ(out.receipt->files, 300u);
  EXPECT_LT(fsync_calls.load(), 100) << "the payload files were committed one by one";
  EXPECT_GE(syncfs_calls.load(), 2);
  EXPECT_EQ(VerifiedBlobs("a"), 300u);
  EXPECT_EQ(TempFiles("a"), 0u);
}

// ... and in batches of 1,024 (as many as a plain folder's walk hands over at
// once): every batch waits for one syncfs, and at 512 a bag folder of 50,000
// files of 4 KiB waited 0.4 s longer than the plain folder. 3,000 files: two
// full batches, the rest at the end, and the last names' barrier (7 syncfs in
// batches of 512).
TEST_F(DepositBarrierTest, ABagFoldersSmallFilesShareABarrierPerThousand) {
  const std::string bag = MakeSmallBag("thousands", 3000);
  posix_io::FileOps ops = posix_io::RealFileOps();
  ops.syncfs = CountingSyncfs;
  syncfs_calls = 0;
  DepositRequest request;
  request.partner = "acme";
  request.source = bag;
  request.replicate = false;  // the copies to site b have their own batches
  DepositOutcome out = RunWithOps(ops, std::move(request));
  ASSERT_TRUE(out.receipt) << out.report.ToText();
  EXPECT_EQ(out.receipt->files, 3000u);
  EXPECT_LE(syncfs_calls.load(), 4) << "barriers for 3,000 small files";
  EXPECT_EQ(VerifiedBlobs("a"), 3000u);
  EXPECT_EQ(TempFiles("a"), 0u);
}

// A new version of an object whose small files are all stored already: each
// file is hashed and its blob read back, and nothing is copied or named (it
// was copied into a temp file and its name tried, failing, at the batch's
// commit: a rerun of an unchanged folder cost as much as its first deposit).
std::atomic<int> linkat_calls{0};
int CountingLinkAt(int a, const char* b, int c, const char* d, int e) {
  ++linkat_calls;
  return posix_io::RealFileOps().linkat(a, b, c, d, e);
}

TEST_F(DepositBarrierTest, ANewVersionOfStoredSmallFilesCopiesNone) {
  std::map<std::string, std::string> files;
  for (int i = 0; i < 300; ++i) files["f" + std::to_string(i)] = "kept " + std::to_string(i);
  cairn::testing::WriteTree(dir_ / "src/kept", files);
  const std::string src = (dir_ / "src/kept").string();
  DepositOutcome first = Run("acme", src);
  ASSERT_TRUE(first.receipt) << first.report.ToText();
  EXPECT_EQ(first.receipt->blobs_reused, 0u);

  posix_io::FileOps ops = posix_io::RealFileOps();
  ops.linkat = CountingLinkAt;
  linkat_calls = 0;
  DepositOutcome second = RunWithOps(ops, src);
  ASSERT_TRUE(second.receipt) << second.report.ToText();
  EXPECT_EQ(second.receipt->version, 2u);
  EXPECT_EQ(second.receipt->files, 300u);
  EXPECT_EQ(second.receipt->blobs_reused, 300u);
  EXPECT_EQ(second.receipt->bytes_stored, 0u);
  // The version's tag files and version.pb are new, on both sites: a few names.
  EXPECT_LT(linkat_calls.load(), 30) << "names tried for stored blobs";
  EXPECT_EQ(VerifiedBlobs("a"), 300u);
  EXPECT_EQ(TempFiles("a"), 0u);
}

TEST_F(DepositBarrierTest, ABarrierFailingForABagFolderFailsTheDepositAndLeavesNothing) {
  const std::string bag = MakeSmallBag("bagx", 50);
  posix_io::FileOps ops = posix_io::RealFileOps();
  ops.syncfs = FailingSyncfs;
  syncfs_calls = 0;
  fail_syncfs_at = 1;
  posix_io::SetFileOpsForTesting(&ops);
  DepositRequest request;
  request.partner = "acme";
  request.source = bag;
  Result<DepositOutcome> failed = Deposit(*repo_, request);
  posix_io::SetFileOpsForTesting(nullptr);
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find("syncfs"), std::string::npos)
      << failed.status().ToString();
  ExpectNothingStored("acme", "bagx");
  DepositOutcome again = Run("acme", request.source);
  ASSERT_TRUE(again.receipt) << again.report.ToText();
  EXPECT_EQ(again.receipt->files, 50u);
}

// Replication into a posix site adds its larger batches on a thread of its
// own, one syncfs between two batches: when that syncfs fails, neither the
// batch whose names it was to make durable nor the next counts, the job fails,
// and the next run copies what is left.
int FailingFromSyncfs(int fd) {
  if (++syncfs_calls >= fail_syncfs_at) {
    errno = EIO;
    return -1;
  }
  return posix_io::RealFileOps().syncfs(fd);
}

TEST_F(DepositBarrierTest, ReplicationCountsNoBatchWhoseNamesAreNotDurable) {
  const size_t files = 300;
  for (size_t i = 0; i < files; ++i) {
    WriteFile(dir_ / "src/rep" / ("f" + std::to_string(i)), "replicated " + std::to_string(i));
  }
  DepositRequest request;
  request.partner = "acme";
  request.source = (dir_ / "src/rep").string();
  request.replicate = false;
  ASSERT_OK(Deposit(*repo_, request));
  // The copies go in batches of 1, 2, 4, ... 32, each made durable at once (two
  // syncfs each: 12), then 64 (its bytes: the 13th) added on the thread, then
  // 128, whose syncfs (the 14th) makes the 64's names and its own bytes
  // durable: failing from it on, only the 63 copies of the first batches count.
  posix_io::FileOps ops = posix_io::RealFileOps();
  ops.syncfs = FailingFromSyncfs;
  syncfs_calls = 0;
  fail_syncfs_at = 14;
  posix_io::SetFileOpsForTesting(&ops);
  Result<ReplicationSummary> failed = DrainReplication(*repo_, {});
  posix_io::SetFileOpsForTesting(nullptr);
  ASSERT_OK(failed);
  EXPECT_EQ(failed->jobs_done, 0u);
  EXPECT_EQ(failed->jobs_failed, 1u);
  ASSERT_FALSE(failed->errors.empty());
  EXPECT_NE(failed->errors[0].find("syncfs"), std::string::npos) << failed->errors[0];
  Result<VersionInfo> v = repo_->catalog().GetVersion("acme", "rep", 1, false);
  ASSERT_OK(v);
  EXPECT_EQ(*repo_->catalog().MinOkCopies(v->id), 1u);
  // The blobs the failed run counted on b (each replica row's blob_id names a blob).
  Result<int64_t> ok_on_b =
      CatalogTestAccess::Db(repo_->catalog())
          .QueryInt(
              "SELECT COUNT(*) FROM replicas WHERE state = 'ok' AND site_id = "
              "(SELECT id FROM sites WHERE name = 'b')");
  ASSERT_OK(ok_on_b);
  EXPECT_EQ(*ok_on_b, 63) << "only copies whose names a syncfs made durable count";
  clock_.Advance(3600 * kMicrosPerSecond);  // past the retry backoff
  Reopen();
  Result<ReplicationSummary> rest = DrainReplication(*repo_, {});
  ASSERT_OK(rest);
  EXPECT_EQ(rest->jobs_done, 1u);
  EXPECT_EQ(VerifiedBlobs("b"), files);
  EXPECT_EQ(*repo_->catalog().MinOkCopies(v->id), 2u);
}

// Replication into a posix site writes a blob the catalog knows no copy of on
// the target without asking the target first; a blob found under that name
// when the copy is named is read back: kept when good (counted as already
// there, not rewritten), replaced when damaged.
TEST_F(DepositTest, ReplicationKeepsAGoodBlobTheCatalogDidNotKnowAndReplacesADamagedOne) {
  const size_t files = 100;
  auto content = [](size_t i) { return "replicated " + std::to_string(i); };
  for (size_t i = 0; i < files; ++i) {
    WriteFile(dir_ / "src/rep" / ("f" + std::to_string(i)), content(i));
  }
  DepositRequest request;
  request.partner = "acme";
  request.source = (dir_ / "src/rep").string();
  request.replicate = false;
  ASSERT_OK(Deposit(*repo_, request));
  // Three good blobs and a damaged one on b that the catalog knows nothing of.
  auto on_b = [&](size_t i) { return SitePath("b") / layout::BlobKey(Sha256Hex(content(i))); };
  for (size_t i = 0; i < 4; ++i) WriteFile(on_b(i), i < 3 ? content(i) : "rotten bytes");
  struct stat planted {};
  ASSERT_EQ(::stat(on_b(0).c_str(), &planted), 0);

  Result<ReplicationSummary> drained = DrainReplication(*repo_, {});
  ASSERT_OK(drained);
  EXPECT_EQ(drained->jobs_done, 1u);
  EXPECT_EQ(drained->copies_verified_present, 3u);
  EXPECT_EQ(cairn::testing::ReadFile(on_b(3)), content(3));
  struct stat kept {};
  ASSERT_EQ(::stat(on_b(0).c_str(), &kept), 0);
  EXPECT_EQ(kept.st_ino, planted.st_ino) << "a good blob already there was written again";
  EXPECT_EQ(VerifiedBlobs("b"), files);
  Result<VersionInfo> v = repo_->catalog().GetVersion("acme", "rep", 1, false);
  ASSERT_OK(v);
  EXPECT_EQ(*repo_->catalog().MinOkCopies(v->id), 2u);
}

}  // namespace
}  // namespace cairn::repo
