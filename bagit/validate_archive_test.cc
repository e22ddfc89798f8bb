// Serialized bags: valid ones in each format, and hostile archives (traversal,
// absolute paths, links, devices, a gzip bomb) built here with libarchive
// directly so that nothing in Cairn's writer can soften them. The validator
// only reads: these tests also prove that nothing is written anywhere.
#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/resource.h>

#include "bagit/archive_locale.h"
#include "bagit/bag_checker.h"
#include "bagit/bag_walker.h"
#include "bagit/validator.h"
#include "tests/util/assert_ok.h"
#include "tests/util/test_util.h"

namespace cairn::bagit {
namespace {

namespace fs = boost::filesystem;
using cairn::testing::TempDir;

struct ArchiveMember {
  std::string path;
  mode_t type = AE_IFREG;
  std::string data;
  std::string link;      // symlink target
  std::string hardlink;  // hard link target
  uint64_t zeros = 0;    // when > 0: a file of this many zero bytes, streamed
};

std::string Sha256(std::string_view s) {
  return HashBytes(s, Only(Algorithm::kSha256))[Algorithm::kSha256];
}

// Writes `members` as a tar (gzip-compressed when `gzip`) or zip at `out`.
void WriteRaw(const fs::path& out, const std::vector<ArchiveMember>& members, bool gzip,
              bool zip = false) {
  struct archive* a = archive_write_new();
  if (zip) {
    archive_write_set_format_zip(a);
  } else {
    archive_write_set_format_pax_restricted(a);
    if (gzip) {
      archive_write_add_filter_gzip(a);
      archive_write_set_filter_option(a, "gzip", "compression-level", "1");
    }
  }
  ASSERT_EQ(archive_write_open_filename(a, out.c_str()), ARCHIVE_OK);
  for (const ArchiveMember& m : members) {
    struct archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, m.path.c_str());
    archive_entry_set_filetype(e, m.type);
    archive_entry_set_perm(e, 0644);
    if (!m.link.empty()) archive_entry_set_symlink(e, m.link.c_str());
    if (!m.hardlink.empty()) archive_entry_set_hardlink(e, m.hardlink.c_str());
    uint64_t size =
        m.type == AE_IFREG && m.hardlink.empty() ? (m.zeros ? m.zeros : m.data.size()) : 0;
    archive_entry_set_size(e, static_cast<la_int64_t>(size));
    ASSERT_EQ(archive_write_header(a, e), ARCHIVE_OK) << archive_error_string(a);
    if (m.zeros > 0) {
      std::string chunk(1 << 20, '\0');
      for (uint64_t left = m.zeros; left > 0;) {
        size_t n = static_cast<size_t>(std::min<uint64_t>(left, chunk.size()));
        ASSERT_EQ(archive_write_data(a, chunk.data(), n), static_cast<la_ssize_t>(n));
        left -= n;
      }
    } else if (size > 0) {
      archive_write_data(a, m.data.data(), m.data.size());
    }
    archive_entry_free(e);
  }
  ASSERT_EQ(archive_write_close(a), ARCHIVE_OK);
  archive_write_free(a);
}

// The tag files of a one-file 1.0 bag under `prefix`, listing extra manifest lines.
std::vector<ArchiveMember> TagMembers(const std::string& prefix, const std::string& manifest,
                                      const std::string& oxum) {
  std::string bagit = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n";
  std::string info = "Payload-Oxum: " + oxum + "\n";
  std::string tags = Sha256(bagit) + " bagit.txt\n" + Sha256(info) + " bag-info.txt\n" +
                     Sha256(manifest) + " manifest-sha256.txt\n";
  return {{prefix + "bagit.txt", AE_IFREG, bagit},
          {prefix + "bag-info.txt", AE_IFREG, info},
          {prefix + "manifest-sha256.txt", AE_IFREG, manifest},
          {prefix + "tagmanifest-sha256.txt", AE_IFREG, tags}};
}

Report ValidateArchive(const fs::path& archive) {
  Result<Validation> v = ValidateBag(archive.string(), ValidateOptions{});
  EXPECT_OK(v);
  return v.ok() ? std::move(v->report) : Report();
}

std::vector<std::string> Listing(const fs::path& dir) {
  std::vector<std::string> names;
  for (fs::recursive_directory_iterator it(dir), end; it != end; ++it) {
    names.push_back(it->path().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

TEST(ArchiveValidationTest, ValidBagInEveryLayout) {
  TempDir tmp;
  std::string manifest = Sha256("hello") + "  data/hello.txt\n";
  for (const std::string prefix : {"", "bag/", "./bag/"}) {
    std::vector<ArchiveMember> members = TagMembers(prefix, manifest, "5.1");
    members.push_back({prefix + "data/hello.txt", AE_IFREG, "hello"});
    for (int format = 0; format < 3; ++format) {
      fs::path out = tmp / (format == 0 ? "b.tar" : format == 1 ? "b.tgz" : "b.zip");
      WriteRaw(out, members, format == 1, format == 2);
      Report r = ValidateArchive(out);
      EXPECT_TRUE(r.valid()) << prefix << " " << out << "\n" << r.ToText();
      EXPECT_EQ(r.payload_files, 1u);
      fs::remove(out);
    }
  }
}

// A payload manifest after payload files already checked, in an archive that is not read
// ahead (compressed: skipping a member means inflating it): those files were never compared
// with it, so the bag cannot be called valid (an error, as deposit has always said; it was a
// warning here before the one bag walker). In an uncompressed tar or a zip the late manifest is
// read ahead, and both manifests check the payload.
// An archive's folder members: one with no file member below it, wherever
// that member comes (a zip may list a file before its folder), is kept.
TEST(ArchiveValidationTest, EmptyFolderMembersAreKept) {
  TempDir tmp;
  const std::string manifest = Sha256("x") + "  data/full/f.txt\n";
  for (bool zip : {false, true}) {
    SCOPED_TRACE(zip ? "zip" : "tar");
    std::vector<ArchiveMember> members = TagMembers("bag/", manifest, "1.1");
    members.push_back({"bag/data/full/f.txt", AE_IFREG, "x"});  // before its folder
    members.push_back({"bag/data/full/", AE_IFDIR});
    members.push_back({"bag/data/empty/", AE_IFDIR});
    const fs::path archive = tmp / (zip ? "bag.zip" : "bag.tar");
    WriteRaw(archive, members, false, zip);
    Result<Validation> v = ValidateBag(archive.string(), ValidateOptions{});
    ASSERT_OK(v);
    EXPECT_TRUE(v->report.valid()) << v->report.ToText();
    EXPECT_EQ(v->contents->empty_folders, std::vector<std::string>{"data/empty"});
  }
  // More folders than the checker keeps in memory: it says it gave up, and keeps none.
  std::vector<ArchiveMember> many = TagMembers("bag/", manifest, "1.1");
  many.push_back({"bag/data/full/f.txt", AE_IFREG, "x"});
  for (int i = 0; i <= 100000; ++i) many.push_back({"bag/data/d" + std::to_string(i), AE_IFDIR});
  WriteRaw(tmp / "many.tar", many, false);
  Result<Validation> v = ValidateBag((tmp / "many.tar").string(), ValidateOptions{});
  ASSERT_OK(v);
  EXPECT_TRUE(v->report.valid()) << v->report.ToText();
  EXPECT_TRUE(v->report.Has("payload.folders-not-checked"));
  EXPECT_TRUE(v->contents->empty_folders.empty());
}

// A tag file twice in an archive (with other bytes: which is the bag's?) is invalid.
TEST(ArchiveValidationTest, ATagFileTwiceIsRefusedByName) {
  TempDir tmp;
  std::vector<ArchiveMember> members =
      TagMembers("bag/", Sha256("hello") + "  data/hello.txt\n", "5.1");
  members.push_back({"bag/bagit.txt", AE_IFREG, "BagIt-Version: 0.97\n"});
  members.push_back({"bag/data/hello.txt", AE_IFREG, "hello"});
  WriteRaw(tmp / "b.tar", members, false);
  Report report = ValidateArchive(tmp / "b.tar");
  EXPECT_FALSE(report.valid()) << report.ToText();
  EXPECT_TRUE(report.Has("tag.duplicate-member")) << report.ToText();
}

// An archive can carry data/x and data/x/y, both listed with their digests; no file system
// holds both, so such a bag could be stored but never restored: it is invalid, naming the path.
TEST(ArchiveValidationTest, AFileThatIsAlsoAFolderIsRefusedByName) {
  TempDir tmp;
  const std::string manifest = Sha256("file") + "  data/x\n" + Sha256("below") + "  data/x/y\n" +
                               Sha256("ok") + "  data/x-1\n";
  for (bool zip : {false, true}) {
    SCOPED_TRACE(zip ? "zip" : "tar");
    std::vector<ArchiveMember> members = TagMembers("bag/", manifest, "11.3");
    members.push_back({"bag/data/x", AE_IFREG, "file"});
    members.push_back({"bag/data/x-1", AE_IFREG, "ok"});
    members.push_back({"bag/data/x/y", AE_IFREG, "below"});
    const fs::path archive = tmp / (zip ? "bag.zip" : "bag.tar");
    WriteRaw(archive, members, false, zip);
    Report report = ValidateArchive(archive);
    EXPECT_FALSE(report.valid()) << report.ToText();
    std::vector<std::string> named;
    for (const Finding& f : report.findings()) {
      if (f.rule == "payload.file-is-folder") named.push_back(f.file);
    }
    EXPECT_EQ(named, std::vector<std::string>{"data/x"}) << report.ToText();
  }
}

// A tar made on a Mac (bsdtar in a UTF-8 locale) names its members in NFD, in pax headers marked
// UTF-8, and its manifests list the same NFD bytes. libarchive reads such a name back normalized
// to NFC, so the member matched no manifest line and the bag was refused (payload.not-in-manifest
// and payload.missing). A member is taken under the one manifest name it equals but for
// normalization, said once as a warning; a second member that would take it is refused.
TEST(ArchiveValidationTest, NfdNamesFromAMacTarMatchTheirManifestLines) {
  TempDir tmp;
  const std::string cafe =
      "data/Cafe\xcc\x81/Nu\xcc\x81n\xcc\x83"
      "ez.txt";  // NFD
  const std::string hangul = "data/\xe1\x84\x92\xe1\x85\xa1\xe1\x86\xab.txt";
  const std::string manifest =
      Sha256("latin") + "  " + cafe + "\n" + Sha256("hangul") + "  " + hangul + "\n";
  std::vector<ArchiveMember> members = TagMembers("bag/", manifest, "11.2");
  members.push_back({"bag/data/Cafe\xcc\x81/", AE_IFDIR});
  members.push_back({"bag/" + cafe, AE_IFREG, "latin"});
  members.push_back({"bag/" + hangul, AE_IFREG, "hangul"});
  {
    internal::ScopedUtf8Locale utf8;  // as bsdtar writes in a UTF-8 locale: pax, UTF-8 names
    WriteRaw(tmp / "mac.tar", members, false);
  }
  Report report = ValidateArchive(tmp / "mac.tar");
  EXPECT_TRUE(report.valid()) << report.ToText();
  EXPECT_EQ(report.payload_files, 2u);
  EXPECT_TRUE(report.Has("archive.name-normalized")) << report.ToText();
  EXPECT_EQ(report.warning_count(), 1u) << report.ToText();  // only the normalization

  // Two members that both read back as the NFC name of one manifest line: the first takes it,
  // the second (listed nowhere under its own name) is not a second match.
  const std::string only = "data/Cafe\xcc\x81.txt";
  std::vector<ArchiveMember> twice = TagMembers("bag/", Sha256("x") + "  " + only + "\n", "2.2");
  twice.push_back({"bag/" + only, AE_IFREG, "x"});
  twice.push_back({"bag/data/Caf\xc3\xa9.txt", AE_IFREG, "x"});
  {
    internal::ScopedUtf8Locale utf8;
    WriteRaw(tmp / "twice.tar", twice, false);
  }
  report = ValidateArchive(tmp / "twice.tar");
  EXPECT_FALSE(report.valid()) << report.ToText();
  EXPECT_TRUE(report.Has("payload.not-in-manifest")) << report.ToText();
}

TEST(ArchiveValidationTest, ManifestAfterPayloadIsAnErrorWhereItCannotBeReadAhead) {
  TempDir tmp;
  std::string bagit = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n";
  std::string md5 =
      HashBytes("hello", Only(Algorithm::kMd5))[Algorithm::kMd5] + "  data/hello.txt\n";
  std::string sha = Sha256("hello") + "  data/hello.txt\n";
  std::vector<ArchiveMember> members = {{"bag/bagit.txt", AE_IFREG, bagit},
                                        {"bag/manifest-md5.txt", AE_IFREG, md5},
                                        {"bag/data/hello.txt", AE_IFREG, "hello"},
                                        {"bag/manifest-sha256.txt", AE_IFREG, sha}};
  WriteRaw(tmp / "late.tgz", members, true);
  Report r = ValidateArchive(tmp / "late.tgz");
  EXPECT_FALSE(r.valid()) << r.ToText();
  EXPECT_EQ(r.error_count(), 1u) << r.ToText();
  EXPECT_TRUE(r.Has("archive.manifest-after-payload")) << r.ToText();
  // The earlier manifest still caught a wrong file.
  members[1].data = std::string(32, '0') + "  data/hello.txt\n";
  WriteRaw(tmp / "late-bad.tgz", members, true);
  EXPECT_TRUE(ValidateArchive(tmp / "late-bad.tgz").Has("payload.digest-mismatch"));

  // Uncompressed: valid, and a wrong line in either manifest is found.
  members[1].data = md5;
  for (bool zip : {false, true}) {
    fs::path out = tmp / (zip ? "late.zip" : "late.tar");
    WriteRaw(out, members, false, zip);
    Report ok = ValidateArchive(out);
    EXPECT_TRUE(ok.valid()) << out << "\n" << ok.ToText();
    EXPECT_EQ(ok.payload_files, 1u);
    for (size_t wrong : {1u, 3u}) {
      std::vector<ArchiveMember> bad = members;
      bad[wrong].data = std::string(bad[wrong].data.find(' '), '0') + "  data/hello.txt\n";
      fs::remove(out);
      WriteRaw(out, bad, false, zip);
      Report r2 = ValidateArchive(out);
      EXPECT_TRUE(r2.Has("payload.digest-mismatch")) << out << " " << wrong << "\n" << r2.ToText();
      EXPECT_FALSE(r2.Has("archive.manifest-after-payload")) << r2.ToText();
    }
    fs::remove(out);
  }
}

// Records what the walker asks of the sink for each payload file.
class RecordingSink : public HashingSink {
 public:
  struct Call {
    std::string path;
    AlgorithmSet algorithms;
    bool manifests_known;
  };
  Result<PayloadRead> PayloadFile(const PayloadEntry& entry, AlgorithmSet algorithms,
                                  bool manifests_known) override {
    calls.push_back(Call{std::string(entry.path), algorithms, manifests_known});
    return HashingSink::PayloadFile(entry, algorithms, manifests_known);
  }
  std::vector<Call> calls;
};

// Walks `archive` (tag files read ahead from `ahead_of`, default the same file) with a
// recording sink; returns the report.
Report WalkWithAhead(const fs::path& archive, RecordingSink* sink,
                     const fs::path& ahead_of = fs::path()) {
  auto reader = ArchiveReader::Open(archive.string());
  auto ahead = ArchiveReader::Open((ahead_of.empty() ? archive : ahead_of).string());
  EXPECT_OK(reader);
  EXPECT_OK(ahead);
  Report report;
  BagContents contents;
  BagChecker checker(ValidateOptions{}, &report, &contents);
  if (reader.ok() && ahead.ok()) {
    EXPECT_OK(BagWalker(&checker, sink, &report).WalkArchive(reader->get(), ahead->get()));
  }
  return report;
}

// `cairn bag create --format tar` writes each manifest after the payload it lists (every file
// is hashed as it is streamed in). Read from a file, such an archive's tag files are read
// ahead, so that each payload member is hashed with the manifests' algorithm only and checked
// as it streams by (before: with all six algorithms, held, checked at the end; a deposit into
// S3 then also sent every member twice).
TEST(ArchiveValidationTest, TagFilesAfterThePayloadAreReadAheadFromAFile) {
  TempDir tmp;
  std::string manifest =
      Sha256("hello") + "  data/hello.txt\n" + Sha256("world") + "  data/sub/world.txt\n";
  std::vector<ArchiveMember> tags = TagMembers("bag/", manifest, "10.2");
  std::vector<ArchiveMember> members = {{"bag/", AE_IFDIR, ""},
                                        {"bag/data/hello.txt", AE_IFREG, "hello"},
                                        {"bag/data/sub/world.txt", AE_IFREG, "world"}};
  members.insert(members.end(), tags.begin(), tags.end());
  for (bool zip : {false, true}) {
    fs::path out = tmp / (zip ? "last.zip" : "last.tar");
    WriteRaw(out, members, false, zip);
    RecordingSink sink;
    Report r = WalkWithAhead(out, &sink);
    EXPECT_TRUE(r.valid()) << out << "\n" << r.ToText();
    EXPECT_EQ(r.payload_files, 2u);
    ASSERT_EQ(sink.calls.size(), 2u);
    for (const RecordingSink::Call& call : sink.calls) {
      EXPECT_TRUE(call.manifests_known) << out << " " << call.path;
      EXPECT_EQ(call.algorithms, Only(Algorithm::kSha256)) << out << " " << call.path;
    }
  }
  // A stream cannot be read twice: all six, held, as before; still valid.
  {
    fs::path out = tmp / "last.tgz";
    WriteRaw(out, members, true);
    RecordingSink sink;
    Report r = WalkWithAhead(out, &sink);
    EXPECT_TRUE(r.valid()) << r.ToText();
    ASSERT_EQ(sink.calls.size(), 2u);
    EXPECT_FALSE(sink.calls[0].manifests_known);
    EXPECT_EQ(sink.calls[0].algorithms.count(), 6u);
  }
}

// The tag files read ahead are the ones the bag is checked with; the main read skips them.
// Should the archive change between the two reads (a second file given as `ahead` here), the
// walk says so by name instead of checking one read's payload against another's manifests.
TEST(ArchiveValidationTest, AnArchiveChangedBetweenItsTwoReadsIsRefused) {
  TempDir tmp;
  std::string manifest = Sha256("hello") + "  data/hello.txt\n";
  std::vector<ArchiveMember> members = {{"bag/data/hello.txt", AE_IFREG, "hello"}};
  std::vector<ArchiveMember> tags = TagMembers("bag/", manifest, "5.1");
  members.insert(members.end(), tags.begin(), tags.end());
  WriteRaw(tmp / "then.tar", members, false);
  members[2].data = "Payload-Oxum: 5.1\nContact-Name: A. Archivist\n";  // bag-info.txt grew
  WriteRaw(tmp / "now.tar", members, false);
  RecordingSink sink;
  Report r = WalkWithAhead(tmp / "now.tar", &sink, tmp / "then.tar");
  EXPECT_FALSE(r.valid());
  EXPECT_TRUE(r.Has("archive.changed")) << r.ToText();
  EXPECT_NE(r.ToText().find("bag/bag-info.txt"), std::string::npos) << r.ToText();
  // A tag file missing from the second read.
  members[2] = tags[1];
  members.pop_back();
  WriteRaw(tmp / "shorter.tar", members, false);
  RecordingSink sink2;
  Report r2 = WalkWithAhead(tmp / "shorter.tar", &sink2, tmp / "then.tar");
  EXPECT_TRUE(r2.Has("archive.changed")) << r2.ToText();
  EXPECT_NE(r2.ToText().find("bag/tagmanifest-sha256.txt"), std::string::npos) << r2.ToText();
}

TEST(ArchiveValidationTest, HostileMembersAreRefusedByNameAndNothingIsWritten) {
  TempDir tmp;
  fs::path work = tmp / "work";
  fs::create_directories(work);
  std::string absolute = (tmp / "absolute-evil").string();
  std::string manifest = Sha256("hello") + "  data/hello.txt\n";
  std::vector<ArchiveMember> members = TagMembers("bag/", manifest, "5.1");
  members.push_back({"bag/data/hello.txt", AE_IFREG, "hello"});
  members.push_back({"bag/../evil", AE_IFREG, "evil"});
  members.push_back({"../evil2", AE_IFREG, "evil"});
  members.push_back({absolute, AE_IFREG, "evil"});
  members.push_back({"bag/data/link", AE_IFLNK, "", "/etc/passwd"});
  members.push_back({"bag/data/hard", AE_IFREG, "", "", "bag/data/hello.txt"});
  members.push_back({"bag/data/fifo", AE_IFIFO});
  members.push_back({"bag/data/dev", AE_IFCHR});
  fs::path archive = work / "hostile.tar";
  WriteRaw(archive, members, false);
  std::vector<std::string> before = Listing(tmp.path());

  Report r = ValidateArchive(archive);
  EXPECT_FALSE(r.valid());
  std::map<std::string, std::string> rule_of;
  for (const Finding& f : r.findings()) rule_of[f.file] = f.rule;
  EXPECT_EQ(rule_of["bag/../evil"], "path.dot-dot") << r.ToText();
  EXPECT_EQ(rule_of["../evil2"], "path.dot-dot");
  EXPECT_EQ(rule_of[absolute], "path.absolute");
  EXPECT_EQ(rule_of["data/link"], "archive.symlink");
  EXPECT_EQ(rule_of["data/hard"], "archive.hardlink");
  EXPECT_EQ(rule_of["data/fifo"], "archive.special-file");
  EXPECT_EQ(rule_of["data/dev"], "archive.special-file");
  // Nothing was extracted or created, inside or outside the folder of the archive.
  EXPECT_EQ(Listing(tmp.path()), before);
  EXPECT_FALSE(fs::exists(tmp / "evil"));
  EXPECT_FALSE(fs::exists(tmp / "evil2"));
  EXPECT_FALSE(fs::exists(absolute));
}

TEST(ArchiveValidationTest, ZipTraversalIsRefused) {
  TempDir tmp;
  std::string manifest = Sha256("hello") + "  data/hello.txt\n";
  std::vector<ArchiveMember> members = TagMembers("bag/", manifest, "5.1");
  members.push_back({"bag/data/hello.txt", AE_IFREG, "hello"});
  members.push_back({"bag/data/../../../evil", AE_IFREG, "evil"});
  WriteRaw(tmp / "t.zip", members, false, true);
  Report r = ValidateArchive(tmp / "t.zip");
  EXPECT_TRUE(r.Has("path.dot-dot")) << r.ToText();
  EXPECT_FALSE(fs::exists(tmp.path().parent_path() / "evil"));
}

long MaxRssKiB() {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

TEST(ArchiveValidationTest, GzipBombValidatesInBoundedMemory) {
  TempDir tmp;
  constexpr uint64_t kInflated = uint64_t{1} << 30;  // 1 GiB of zeros
  MultiHasher hasher(Only(Algorithm::kSha256));
  std::string chunk(1 << 20, '\0');
  for (uint64_t done = 0; done < kInflated; done += chunk.size()) hasher.Update(chunk);
  std::string digest = hasher.Finish()[Algorithm::kSha256];
  std::string manifest = digest + "  data/zeros\n";
  std::vector<ArchiveMember> members =
      TagMembers("bag/", manifest, std::to_string(kInflated) + ".1");
  ArchiveMember bomb;
  bomb.path = "bag/data/zeros";
  bomb.zeros = kInflated;
  members.push_back(bomb);
  fs::path archive = tmp / "bomb.tar.gz";
  WriteRaw(archive, members, true);
  EXPECT_LT(fs::file_size(archive), 8u << 20) << "the archive is small, its content is not";

  long before = MaxRssKiB();
  Report r = ValidateArchive(archive);
  long grown_kib = MaxRssKiB() - before;
  EXPECT_TRUE(r.valid()) << r.ToText();
  EXPECT_EQ(r.payload_bytes, kInflated);
  EXPECT_LT(grown_kib, 200 * 1024) << "validation must stream, not hold the member";
  EXPECT_EQ(Listing(tmp.path()).size(), 1u) << "nothing extracted";
}

TEST(ArchiveValidationTest, DamagedArchiveIsAnInvalidBagNotACrash) {
  TempDir tmp;
  std::string manifest = Sha256("hello") + "  data/hello.txt\n";
  std::vector<ArchiveMember> members = TagMembers("bag/", manifest, "5.1");
  members.push_back({"bag/data/hello.txt", AE_IFREG, std::string(300000, 'h')});
  WriteRaw(tmp / "ok.tgz", members, true);
  std::string bytes = cairn::testing::ReadFile(tmp / "ok.tgz");
  cairn::testing::WriteFile(tmp / "cut.tgz", bytes.substr(0, bytes.size() / 2));
  Report r = ValidateArchive(tmp / "cut.tgz");
  EXPECT_FALSE(r.valid());
  EXPECT_TRUE(r.Has("archive.damaged")) << r.ToText();
  cairn::testing::WriteFile(tmp / "junk.zip", "this is not a zip file at all");
  Report junk = ValidateArchive(tmp / "junk.zip");
  EXPECT_FALSE(junk.valid());
}

}  // namespace
}  // namespace cairn::bagit
