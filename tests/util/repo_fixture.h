// A fixture for end-to-end tests of the repository verbs: a fresh repository
// made by `cairn init` in a temp folder, helpers to deposit with the real
// binary, read bags back (folders and archives) and damage site files.
#ifndef CAIRN_TESTS_UTIL_REPO_FIXTURE_H_
#define CAIRN_TESTS_UTIL_REPO_FIXTURE_H_

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "bagit/archive.h"
#include "bagit/digest.h"
#include "repo/site_layout.h"
#include "tests/util/assert_ok.h"
#include "tests/util/test_util.h"

namespace cairn::testing {

class RepoFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    // Withdrawal and hold numbers are drawn at random; most tests name them ("withdrawal 1"), so
    // the cairn-testing they run numbers them in sequence (repo/test_hooks.h), but for a fixture
    // that sets sequential_numbers_ false. Set here, before any cairn (or server) is started.
    if (sequential_numbers_) {
      setenv("CAIRN_SEQUENTIAL_NUMBERS", "1", 1);
    } else {
      unsetenv("CAIRN_SEQUENTIAL_NUMBERS");
    }
    CommandResult init = RunCairn({"init", Root()});
    ASSERT_EQ(init.exit_code, 0) << init.err;
  }

  std::string Root() const { return (tmp_ / "repo").string(); }

  // False: withdrawal and hold numbers are drawn, as the shipped cairn draws them.
  bool sequential_numbers_ = true;

  // Runs cairn with CAIRN_REPO set to this repository.
  CommandResult Cairn(const std::vector<std::string>& args) {
    return RunCairn(args, {"CAIRN_REPO=" + Root()});
  }

  // Adds principal `name` with `role` (for `partner` unless empty) and makes it a token
  // (`--expires expires` unless empty): the token ("" and a test failure when either step fails).
  std::string AddPrincipalWithToken(const std::string& name, const std::string& role,
                                    const std::string& partner, const std::string& expires = "") {
    std::vector<std::string> add = {"principal", "add", name, "--role", role};
    if (!partner.empty()) add.insert(add.end(), {"--partner", partner});
    CommandResult added = Cairn(add);
    EXPECT_EQ(added.exit_code, 0) << added.err;
    std::vector<std::string> create = {"token", "create", name};
    if (!expires.empty()) create.insert(create.end(), {"--expires", expires});
    CommandResult made = Cairn(create);
    EXPECT_EQ(made.exit_code, 0) << made.err;
    if (added.exit_code != 0 || made.exit_code != 0) return "";
    return made.out.substr(0, made.out.find('\n'));
  }

  // A consistent copy of the catalog in `backup` (sqlite3's .backup, safe while a server or a
  // verb has it open), as an operator takes one; PutCatalogBack puts it in place of the catalog
  // (its -wal and -shm removed), as after a disaster.
  void BackUpCatalog(const fs::path& backup) {
    CommandResult copied =
        RunProcess({"sqlite3", Root() + "/catalog.db", ".backup '" + backup.string() + "'"});
    ASSERT_EQ(copied.exit_code, 0) << copied.err;
  }
  void PutCatalogBack(const fs::path& backup) {
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(Root() + "/catalog.db" + suffix);
    fs::copy_file(backup, Root() + "/catalog.db");
  }

  // `cairn site list` of a catalog rebuilt into `into` from this repository's posix site `from`
  // (its sites as a rebuild from that site alone knows them).
  std::string SitesRebuiltFrom(const std::string& from, const fs::path& into) {
    CommandResult rebuilt =
        RunCairn({"catalog", "rebuild", "--from", "file://" + (tmp_ / "repo/sites" / from).string(),
                  "--into", into.string()});
    EXPECT_NE(rebuilt.exit_code, 2) << rebuilt.out << rebuilt.err;
    return RunCairn({"site", "list", "--repo", into.string()}).out;
  }

  // Deposits `source` as partner/object (adding the partner the first time).
  void Deposit(const std::string& partner, const std::string& source, const std::string& object) {
    if (partners_.insert(partner).second) {
      CommandResult add = Cairn({"partner", "add", partner});
      ASSERT_EQ(add.exit_code, 0) << add.err;
    }
    CommandResult r = Cairn({"deposit", partner, source, "--id", object});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  }

  // tmp/src-<name>: a.txt, sub/b.bin (binary, 70 KiB), "c d.txt".
  fs::path MakeSourceFolder(const std::string& name) {
    fs::path dir = tmp_ / ("src-" + name);
    WriteFile(dir / "a.txt", "alpha of " + name + "\n");
    std::string binary;
    for (int i = 0; i < 70 * 1024; ++i)
      binary.push_back(static_cast<char>((i * 31 + name.size()) & 0xff));
    WriteFile(dir / "sub/b.bin", binary);
    WriteFile(dir / "c d.txt", "a name with a space\n");
    return dir;
  }

  // Every regular file below `dir`: relative path (prefixed) -> bytes.
  static std::map<std::string, std::string> ReadTree(const fs::path& dir,
                                                     const std::string& prefix = "") {
    std::map<std::string, std::string> files;
    for (fs::recursive_directory_iterator it(dir), end; it != end; ++it) {
      if (!fs::is_regular_file(it->symlink_status())) continue;
      files[prefix + fs::relative(it->path(), dir).generic_string()] = ReadFile(it->path());
    }
    return files;
  }

  // Every file member of an archive whose members all lie in `top`/: path
  // below `top` -> bytes.
  static std::map<std::string, std::string> ReadArchive(const fs::path& path,
                                                        const std::string& top) {
    std::map<std::string, std::string> files;
    auto reader = bagit::ArchiveReader::Open(path.string());
    EXPECT_OK(reader);
    if (!reader.ok()) return files;
    bagit::ArchiveEntry entry;
    while (true) {
      auto more = reader.value()->Next(&entry);
      EXPECT_OK(more);
      if (!more.ok() || !more.value()) break;
      EXPECT_EQ(entry.path.rfind(top + "/", 0), 0u) << entry.path;
      if (entry.type != bagit::EntryType::kFile) continue;
      std::string bytes;
      EXPECT_TRUE(reader.value()
                      ->ReadData([&](std::span<const std::byte> d) {
                        bytes.append(reinterpret_cast<const char*>(d.data()), d.size());
                        return Status::OK();
                      })
                      .ok());
      files[entry.path.substr(top.size() + 1)] = bytes;
    }
    return files;
  }

  // The SHA-256 of `bytes`, in hex: the name of their blob.
  static std::string Sha256Of(const std::string& bytes) {
    return bagit::HashBytes(bytes,
                            bagit::Only(bagit::Algorithm::kSha256))[bagit::Algorithm::kSha256];
  }

  // Makes posix site `site` of this new repository a site of layout 1, as the
  // releases before layout 2 made them (repo/FORMAT.md "Blobs"): the same
  // marker but for its layout version, and that layout's README. The site
  // must hold no blob yet.
  void MakeLayoutOneSite(const std::string& site) {
    fs::path root = tmp_ / "repo/sites" / site;
    std::string marker = ReadFile(root / "CAIRN-SITE");
    ASSERT_TRUE(marker.starts_with("cairn-site 2\n")) << marker;
    ASSERT_FALSE(fs::exists(root / "blobs/sha256")) << "the site must start without blobs";
    WriteFile(root / "CAIRN-SITE", "cairn-site 1\n" + marker.substr(13));
    WriteFile(root / "README.txt", repo::layout::SiteReadmeText(1));
  }

  // A blob on site a that no version references (what a killed or refused
  // deposit leaves): correctly named, good bytes. Its file; its digest in *sha.
  fs::path PlantUnreferencedBlob(const std::string& bytes, std::string* sha) {
    *sha = Sha256Of(bytes);
    fs::path blob = tmp_ / "repo/sites/a" / repo::layout::BlobKey(*sha);
    WriteFile(blob, bytes);
    return blob;
  }

  // cairn ARGS on this repository, the auditor's clock frozen at `now`
  // ($CAIRN_FAKE_NOW, a test hook of cairn-testing).
  CommandResult CairnAt(const std::string& now, const std::vector<std::string>& args) {
    return RunCairn(args, {"CAIRN_REPO=" + Root(), "CAIRN_FAKE_NOW=" + now});
  }

  // The file holding the blob of `content` on posix site `site`.
  fs::path BlobFile(const std::string& site, const std::string& content) {
    std::string sha = Sha256Of(content);
    fs::path p = tmp_ / "repo/sites" / site / repo::layout::BlobKey(sha);
    EXPECT_TRUE(fs::exists(p)) << p;
    return p;
  }

  // Runs `sql` on the catalog with a plain sqlite3 connection (foreign keys
  // off), as someone editing the catalog behind Cairn's back would; the edit
  // must change at least one row.
  void EditCatalog(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((tmp_ / "repo/catalog.db").c_str(), &db), SQLITE_OK);
    char* error = nullptr;
    int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
    EXPECT_EQ(rc, SQLITE_OK) << (error ? error : "") << " in " << sql;
    EXPECT_GT(sqlite3_changes(db), 0) << "the edit changed nothing: " << sql;
    sqlite3_free(error);
    sqlite3_close(db);
  }

  static void FlipByte(const fs::path& path) {
    std::string bytes = ReadFile(path);
    ASSERT_FALSE(bytes.empty()) << path;
    bytes[bytes.size() / 2] ^= 0x20;
    fs::permissions(path, fs::owner_read | fs::owner_write);
    WriteFile(path, bytes);
  }

  // "a:ok b:corrupt": the copies of one payload file as `cairn show --json` gives them.
  std::string CopyStates(const std::string& ref, const std::string& path) {
    CommandResult r = Cairn({"show", ref, "--json"});
    EXPECT_LE(r.exit_code, 1) << r.err;  // 1: shown, with copies lacking or damaged
    auto show = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_FALSE(show.is_discarded()) << r.out;
    if (show.is_discarded()) return "";
    for (const auto& f : show["files"]) {
      if (f["path"] != path) continue;
      std::string states;
      for (const auto& c : f["copies"]) {
        states += (states.empty() ? "" : " ") + c["site"].get<std::string>() + ":" +
                  c["state"].get<std::string>();
      }
      return states;
    }
    return "(no such file)";
  }

  // `sha256sum -c manifest-sha256.txt` run in the bag folder, when it has one.
  static void ExpectSha256sumAccepts(const fs::path& bag) {
    if (!fs::exists(bag / "manifest-sha256.txt")) return;
    CommandResult r = RunProcess(
        {"sh", "-c", "cd \"$1\" && sha256sum --quiet -c manifest-sha256.txt", "sh", bag.string()});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  }

  TempDir tmp_;
  std::set<std::string> partners_;
};

}  // namespace cairn::testing

#endif  // CAIRN_TESTS_UTIL_REPO_FIXTURE_H_
