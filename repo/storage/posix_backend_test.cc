// Posix-only behaviour: files on disk, missing roots, permissions, temp files.
#include "repo/storage/posix_backend.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utime.h>

#include <cstdio>

#include "repo/storage/backends.h"
#include "repo/storage/posix_ops.h"
#include "tests/util/assert_ok.h"
#include "tests/util/test_util.h"

namespace cairn::repo {
namespace {

using cairn::testing::ReadFile;
using cairn::testing::TempDir;
using cairn::testing::WriteFile;
namespace fs = boost::filesystem;

std::unique_ptr<StorageBackend> Open(const fs::path& root) {
  auto backend = OpenBackend("file://" + root.string());
  EXPECT_OK(backend);
  return std::move(backend).value();
}

// Runs `fn` as an unprivileged user (root ignores file modes, so when the tests
// run as root `fn` runs in a child process that drops to uid/gid 65534) and
// returns the Status it produced as (code, message).
std::pair<Code, std::string> RunUnprivileged(const std::function<Status()>& fn) {
  if (::geteuid() != 0) {
    Status status = fn();
    return {status.code(), status.message()};
  }
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) return {Code::kIOError, "pipe failed"};
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(pipe_fds[0]);
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(100);
    Status status = fn();
    const std::string& message = status.message();
    ssize_t ignored = ::write(pipe_fds[1], message.data(), message.size());
    (void)ignored;
    ::_exit(static_cast<int>(status.code()));
  }
  ::close(pipe_fds[1]);
  std::string message;
  char buffer[512];
  for (ssize_t n; (n = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0;) message.append(buffer, n);
  ::close(pipe_fds[0]);
  int wait_status = 0;
  ::waitpid(pid, &wait_status, 0);
  if (!WIFEXITED(wait_status) || WEXITSTATUS(wait_status) == 100) {
    return {Code::kIOError, "child could not drop privileges"};
  }
  return {static_cast<Code>(WEXITSTATUS(wait_status)), message};
}

// A directory where a key's file should be: NotFound that says so; MakeRoomFor removes an
// empty one, moves one holding anything whole to lost-and-found/<key> (then ".2" when that is
// taken), naming both paths, and the key can be written.
TEST(PosixBackend, MakeRoomForSetsADirectoryInTheKeysWayAside) {
  TempDir dir;
  auto backend = Open(dir.path());
  const std::string key = "blobs/sha256/ab/abcd";
  EXPECT_EQ(*backend->MakeRoomFor(key), "");  // free
  fs::create_directories(dir / key);
  Status stat = backend->Stat(key).status();
  EXPECT_TRUE(stat.IsNotFound());
  EXPECT_NE(
      stat.message().find((dir / key).string() + ": a directory is where this file should be"),
      std::string::npos)
      << stat.ToString();
  EXPECT_EQ(*backend->MakeRoomFor(key), "removed the empty directory " + (dir / key).string());
  EXPECT_FALSE(fs::exists(dir / key));
  for (const char* aside :
       {"lost-and-found/blobs/sha256/ab/abcd", "lost-and-found/blobs/sha256/ab/abcd.2"}) {
    WriteFile(dir / key / "sub" / "note.txt", "kept");
    Result<std::string> made = backend->MakeRoomFor(key);
    ASSERT_OK(made);
    EXPECT_EQ(*made, "moved the directory " + (dir / key).string() + " (1 file, 4 bytes) to " +
                         (dir / aside).string());
    EXPECT_EQ(ReadFile(dir / aside / "sub" / "note.txt"), "kept");
  }
  ASSERT_OK(backend->Put(key, "payload"));
  EXPECT_EQ(*backend->MakeRoomFor(key), "");  // a file: an object, left alone
  EXPECT_EQ(ReadFile(dir / key), "payload");
}

TEST(PosixBackend, KeysAreFilesUnderTheRoot) {
  TempDir dir;
  auto backend = Open(dir.path());
  ASSERT_OK(backend->Put("blobs/sha256/ab/cd/file", "payload"));
  EXPECT_EQ(ReadFile(dir / "blobs/sha256/ab/cd/file"), "payload");
  // Temp files of committed or refused writers do not stay behind.
  PutOptions once;
  once.if_absent = true;
  EXPECT_TRUE(backend->Put("blobs/sha256/ab/cd/file", "other", once).IsAlreadyExists());
  EXPECT_TRUE(fs::is_empty(dir / "tmp"));
  // A file someone else put in the folder is an object like any other.
  WriteFile(dir / "events/1-2.pb", "seg");
  EXPECT_EQ(*backend->ReadAll("events/1-2.pb"), "seg");
}

// A writer's hash state is made only once bytes are appended to it (a batch
// holds a thousand writers): the expected SHA-256 is still checked at Commit
// however the bytes came, appended, copied in the kernel, or none at all.
TEST(PosixBackend, AnExpectedDigestIsCheckedHoweverTheBytesCame) {
  TempDir dir;
  auto backend = Open(dir / "site");
  ASSERT_OK(backend->CreateRoot());
  const std::string bytes = "the payload bytes";
  WriteFile(dir / "source.bin", bytes);
  const std::string right =
      bagit::HashBytes(bytes, bagit::Only(bagit::Algorithm::kSha256))[bagit::Algorithm::kSha256];
  const std::string empty =
      bagit::HashBytes("", bagit::Only(bagit::Algorithm::kSha256))[bagit::Algorithm::kSha256];
  enum class How { kAppend, kKernelCopy, kNothing };
  for (How how : {How::kAppend, How::kKernelCopy, How::kNothing}) {
    const std::string& want = how == How::kNothing ? empty : right;
    for (bool good : {false, true}) {
      PutOptions options;
      options.expected_sha256 = good ? want : std::string(64, 'a');
      auto writer = std::move(backend->NewWriter(options)).value();
      int fd = ::open((dir / "source.bin").c_str(), O_RDONLY);
      ASSERT_GE(fd, 0);
      if (how == How::kAppend) {
        ASSERT_OK(writer->Append(std::as_bytes(std::span<const char>(bytes))));
      } else if (how == How::kKernelCopy) {
        ASSERT_OK(writer->AppendFromFile(fd, 0, bytes.size()));
      }
      ::close(fd);
      const std::string key = "k/" + std::to_string(static_cast<int>(how)) + (good ? "g" : "b");
      Status committed = writer->Commit(key);
      if (good) {
        EXPECT_OK(committed) << key;
        EXPECT_EQ(*backend->ReadAll(key), how == How::kNothing ? "" : bytes) << key;
      } else {
        EXPECT_EQ(committed.code(), Code::kCorruption) << key << " " << committed.message();
        EXPECT_FALSE(fs::exists(dir / "site" / key)) << key;
      }
    }
  }
}

TEST(PosixBackend, CopyThenDigestReadsTheStoredBytes) {
  TempDir dir;
  auto backend = Open(dir / "site");
  ASSERT_OK(backend->CreateRoot());
  EXPECT_TRUE(backend->DigestsBeforeCommit());
  WriteFile(dir / "source.bin", "the payload bytes");
  int fd = ::open((dir / "source.bin").c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  const std::string sha = std::string(64, 'a');  // not the bytes' SHA-256
  {
    // Commit checks expected_sha256 against the digest read back: a wrong one
    // leaves nothing behind.
    PutOptions wrong;
    wrong.expected_sha256 = sha;
    auto writer = std::move(backend->NewWriter(wrong)).value();
    ASSERT_OK(writer->AppendFromFile(fd, 0, 17));
    Result<bagit::Digests> d = writer->DigestAppended(bagit::Only(bagit::Algorithm::kMd5));
    ASSERT_OK(d);
    EXPECT_EQ(writer->Commit("k/wrong").code(), Code::kCorruption);
    EXPECT_FALSE(fs::exists(dir / "site/k/wrong"));
  }
  auto writer = std::move(backend->NewWriter(PutOptions{})).value();
  ASSERT_OK(writer->AppendFromFile(fd, 0, 17));
  ::close(fd);
  Result<bagit::Digests> digests = writer->DigestAppended(bagit::Only(bagit::Algorithm::kMd5));
  ASSERT_OK(digests);
  bagit::Digests want =
      bagit::HashBytes("the payload bytes", bagit::Only(bagit::Algorithm::kMd5) |
                                                bagit::Only(bagit::Algorithm::kSha256));
  EXPECT_EQ((*digests)[bagit::Algorithm::kSha256], want[bagit::Algorithm::kSha256]);
  EXPECT_EQ((*digests)[bagit::Algorithm::kMd5], want[bagit::Algorithm::kMd5]);
  // Nothing may be appended once the bytes were digested.
  std::string more = "more";
  EXPECT_FALSE(writer->Append(std::as_bytes(std::span<const char>(more))).ok());
  ASSERT_OK(writer->Commit("k/right"));
  EXPECT_TRUE(writer->VerifiedByReadBack());
  EXPECT_EQ(ReadFile(dir / "site/k/right"), "the payload bytes");
  EXPECT_TRUE(fs::is_empty(dir / "site/tmp"));
}

TEST(PosixBackend, DotDotKeyIsRefusedAndNothingIsWrittenOutside) {
  TempDir dir;
  fs::create_directories(dir / "site");
  auto backend = Open(dir / "site");
  Status status = backend->Put("../outside", "x");
  EXPECT_EQ(status.code(), Code::kInvalidArgument);
  EXPECT_NE(status.message().find("'..'"), std::string::npos) << status.message();
  EXPECT_FALSE(fs::exists(dir / "outside"));
  EXPECT_EQ(backend->ReadAll("a/../../etc/passwd").status().code(), Code::kInvalidArgument);
}

TEST(PosixBackend, MissingRootIsUnavailableNotMissing) {
  TempDir dir;
  auto backend = Open(dir / "not-mounted");
  auto no_op = [](const ObjectInfo&) { return Status::OK(); };
  EXPECT_TRUE(backend->ReadAll("blobs/x").status().IsUnavailable());
  EXPECT_TRUE(backend->Stat("blobs/x").status().IsUnavailable());
  EXPECT_TRUE(backend->List("", no_op).IsUnavailable());
  EXPECT_TRUE(backend->Remove("blobs/x").IsUnavailable());
  EXPECT_TRUE(backend->NewWriter({}).status().IsUnavailable());
  EXPECT_TRUE(backend->CleanupTemp(0).IsUnavailable());
  Status status = backend->Put("k", "v");
  EXPECT_TRUE(status.IsUnavailable());
  EXPECT_TRUE(status.retryable());
  EXPECT_NE(status.message().find((dir / "not-mounted").string()), std::string::npos)
      << status.message();
  EXPECT_FALSE(fs::exists(dir / "not-mounted")) << "a down site must not be created by a write";
  // Once the root exists, a missing key is NotFound.
  ASSERT_OK(backend->CreateRoot());
  EXPECT_TRUE(backend->ReadAll("blobs/x").status().IsNotFound());
}

// Every write goes to the folder opened, and only while the path still leads
// to it and (once written) its CAIRN-SITE marker is there.
TEST(PosixBackend, WritesStopWhenTheFolderIsSwappedOrLosesItsMarker) {
  TempDir dir;
  fs::create_directory(dir / "site");
  auto backend = Open(dir / "site");
  ASSERT_OK(backend->Put("README.txt", "before the marker: writable"));
  ASSERT_OK(backend->Put("CAIRN-SITE", "marker"));
  ASSERT_OK(backend->Put("blobs/a", "a"));
  PutOptions once;
  once.if_absent = true;
  auto writer = backend->NewWriter(once);
  ASSERT_OK(writer);
  ASSERT_OK((*writer)->Append(std::as_bytes(std::span<const char>("late", 4))));

  fs::rename(dir / "site", dir / "away");
  fs::create_directory(dir / "site");  // an empty mount point, or a swapped folder
  // A temp file begun right after a check passed is not looked at again (it is
  // only bytes): its name is, and is refused.
  auto soon = backend->NewWriter(once);
  if (soon.ok()) {
    ASSERT_OK((*soon)->Append(std::as_bytes(std::span<const char>("soon", 4))));
    Status named = (*soon)->Commit("blobs/soon");
    EXPECT_TRUE(named.IsUnavailable()) << named.ToString();
  } else {
    EXPECT_TRUE(soon.status().IsUnavailable()) << soon.status().ToString();
  }
  Status late = (*writer)->Commit("blobs/late");
  EXPECT_TRUE(late.IsUnavailable()) << late.ToString();
  EXPECT_NE(late.message().find("file://" + (dir / "site").string()), std::string::npos)
      << late.message();
  EXPECT_NE(late.message().find("swapped"), std::string::npos) << late.message();
  EXPECT_TRUE(backend->NewWriter({}).status().IsUnavailable());
  EXPECT_TRUE(backend->Put("blobs/b", "b").IsUnavailable());
  EXPECT_TRUE(backend->Remove("blobs/a").IsUnavailable());
  EXPECT_TRUE(backend->CleanupTemp(0).IsUnavailable());
  EXPECT_TRUE(fs::is_empty(dir / "site")) << "written into the folder swapped in";
  EXPECT_FALSE(fs::exists(dir / "away/blobs/late"));
  EXPECT_FALSE(fs::exists(dir / "away/blobs/soon"));
  EXPECT_TRUE(fs::exists(dir / "away/blobs/a"));

  // The same folder back: writable again.
  fs::remove(dir / "site");
  fs::rename(dir / "away", dir / "site");
  ASSERT_OK(backend->Put("blobs/b", "b"));
  // Its marker gone (an emptied mount point): nothing is written.
  fs::remove(dir / "site/CAIRN-SITE");
  Status unmarked = backend->Put("blobs/c", "c");
  EXPECT_TRUE(unmarked.IsUnavailable()) << unmarked.ToString();
  EXPECT_NE(unmarked.message().find("CAIRN-SITE"), std::string::npos) << unmarked.message();
  EXPECT_FALSE(fs::exists(dir / "site/blobs/c"));
}

TEST(PosixBackend, UnwritableSiteIsPermissionDeniedNamingTheSite) {
  TempDir dir;
  fs::path root = dir / "readonly-site";
  fs::create_directories(root);
  ::chmod(dir.path().c_str(), 0755);
  ::chmod(root.c_str(), 0555);
  auto [code, message] = RunUnprivileged([&root] {
    auto backend = OpenBackend("file://" + root.string());
    if (!backend.ok()) return backend.status();
    return (*backend)->Put("blobs/x", "bytes");
  });
  EXPECT_EQ(code, Code::kPermissionDenied) << message;
  EXPECT_NE(message.find(root.string()), std::string::npos) << message;
  EXPECT_FALSE(fs::exists(root / "blobs/x"));
}

// A write-once file starts as an unnamed file (O_TMPFILE): until its commit
// it has no name at all, so a killed writer leaves nothing behind. A file that
// may replace another starts under tmp/ (renamed over its key).
TEST(PosixBackend, AWriteOnceFileHasNoNameUntilItsCommit) {
  TempDir dir;
  auto backend = Open(dir.path());
  auto count = [&](const fs::path& folder) {
    return fs::exists(folder) ? std::distance(fs::directory_iterator(folder), {}) : 0;
  };
  PutOptions once;
  once.if_absent = true;
  auto writer = backend->NewWriter(once);
  ASSERT_OK(writer);
  const std::string bytes = "write-once bytes";
  ASSERT_OK((*writer)->Append(std::as_bytes(std::span(bytes.data(), bytes.size()))));
  EXPECT_EQ(count(dir / "tmp"), 0) << "no temp name";
  auto replacing = backend->NewWriter(PutOptions{});
  ASSERT_OK(replacing);
  EXPECT_EQ(count(dir / "tmp"), 1) << "a replacing writer's temp file";
  ASSERT_OK((*writer)->Commit("blobs/once"));
  EXPECT_EQ(ReadFile(dir / "blobs/once"), bytes);
  struct stat st;
  ASSERT_EQ(::stat((dir / "blobs/once").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "the site's file mode";
  EXPECT_EQ(st.st_nlink, 1u);
  // Under if_absent, a second write-once file never replaces the first.
  auto second = backend->NewWriter(once);
  ASSERT_OK(second);
  ASSERT_OK((*second)->Append(std::as_bytes(std::span(bytes.data(), 4))));
  EXPECT_TRUE((*second)->Commit("blobs/once").IsAlreadyExists());
  EXPECT_EQ(ReadFile(dir / "blobs/once"), bytes);
  (*replacing)->Abort();
  EXPECT_EQ(count(dir / "tmp"), 0);
}

// True when the running kernel's release is at least major.minor.
bool KernelAtLeast(int major, int minor) {
  struct utsname name;
  if (::uname(&name) != 0) return false;
  int got_major = 0, got_minor = 0;
  if (std::sscanf(name.release, "%d.%d", &got_major, &got_minor) != 2) return false;
  return got_major > major || (got_major == major && got_minor >= minor);
}

// Linkat calls of the test below: by descriptor (AT_EMPTY_PATH) or through
// /proc/self/fd, and whether the "kernel" refuses the first kind (ENOENT, as
// Linux before 6.10 does for a caller without CAP_DAC_READ_SEARCH).
struct LinkCalls {
  bool refuse_descriptor = false;
  int by_descriptor = 0;
  int through_proc = 0;
};
LinkCalls& TheLinkCalls() {
  static LinkCalls calls;
  return calls;
}
int CountedLinkAt(int from_dir, const char* from, int to_dir, const char* to, int flags) {
  if (flags & AT_EMPTY_PATH) {
    ++TheLinkCalls().by_descriptor;
    if (TheLinkCalls().refuse_descriptor) {
      errno = ENOENT;
      return -1;
    }
  } else if (std::string_view(from).starts_with("/proc/self/fd/")) {
    ++TheLinkCalls().through_proc;
  }
  return posix_io::RealFileOps().linkat(from_dir, from, to_dir, to, flags);
}

// An unnamed file gets its name by its descriptor where the kernel allows it
// (no walk of /proc per blob); where it does not, the first refusal that
// /proc/self/fd then names turns the descriptor off for the site, even when
// the refusal looked like a parent folder not made yet.
TEST(PosixBackend, AWriteOnceFileIsNamedByItsDescriptorOrThroughProc) {
  posix_io::FileOps ops = posix_io::RealFileOps();
  ops.linkat = CountedLinkAt;
  posix_io::SetFileOpsForTesting(&ops);
  PutOptions once;
  once.if_absent = true;
  for (bool refuse : {false, true}) {
    SCOPED_TRACE(refuse ? "descriptor refused" : "the real kernel");
    TheLinkCalls() = LinkCalls{refuse, 0, 0};
    TempDir dir;
    auto backend = Open(dir.path());
    for (int i = 0; i < 3; ++i) {
      const std::string key = "blobs/new/" + std::to_string(i);  // blobs/new/: not made yet
      ASSERT_OK(backend->Put(key, "bytes " + std::to_string(i), once));
      EXPECT_EQ(ReadFile(dir / key), "bytes " + std::to_string(i));
    }
    EXPECT_TRUE(backend->Put("blobs/new/0", "other", once).IsAlreadyExists());
    EXPECT_EQ(ReadFile(dir / "blobs/new/0"), "bytes 0");
    const LinkCalls& calls = TheLinkCalls();
    // Since Linux 6.10 the file's opener may link by descriptor (before, only a holder of
    // CAP_DAC_READ_SEARCH, which a container's root may lack).
    const bool refused = refuse || calls.through_proc > 1;
    if (!refuse && KernelAtLeast(6, 10)) EXPECT_FALSE(refused);
    if (refused) {
      // The first name: refused, /proc finds no folder; the folder made,
      // refused again and named through /proc. Then /proc only, the refused
      // second blobs/new/0 too.
      EXPECT_EQ(calls.by_descriptor, 2);
      EXPECT_EQ(calls.through_proc, 2 + 1 + 1 + 1);
    } else {
      // The folder missing at the first try (/proc asked once, to tell it
      // from a refusal), then one call per name.
      EXPECT_EQ(calls.by_descriptor, 2 + 1 + 1 + 1);
      EXPECT_EQ(calls.through_proc, 1);
    }
  }
  posix_io::SetFileOpsForTesting(nullptr);
}

TEST(PosixBackend, CleanupTempRemovesOnlyOldLeftovers) {
  TempDir dir;
  auto backend = Open(dir.path());
  WriteFile(dir / "tmp/w-1-stale.tmp", "left by a killed writer");
  WriteFile(dir / "tmp/w-2-fresh.tmp", "a writer still running");
  struct utimbuf old_times = {::time(nullptr) - 7200, ::time(nullptr) - 7200};
  ASSERT_EQ(::utime((dir / "tmp/w-1-stale.tmp").c_str(), &old_times), 0);
  std::vector<std::string> listed;
  ASSERT_TRUE(backend
                  ->List("",
                         [&listed](const ObjectInfo& info) {
                           listed.push_back(info.key);
                           return Status::OK();
                         })
                  .ok());
  EXPECT_TRUE(listed.empty()) << "temp files are never listed";
  ASSERT_OK(backend->CleanupTemp(3600));
  EXPECT_FALSE(fs::exists(dir / "tmp/w-1-stale.tmp"));
  EXPECT_TRUE(fs::exists(dir / "tmp/w-2-fresh.tmp"));
}

// The cleaner holds the writers' lock alone, yet event segments, settings and tombstones are
// written without that lock (a restore's events): a temp file of a process that still runs is
// never removed under it (its link failed "No such file"); a dead writer's goes at once.
TEST(PosixBackend, CleanupTempSparesTheFilesOfRunningWriters) {
  TempDir dir;
  auto backend = Open(dir.path());
  auto writer = backend->NewWriter({});
  ASSERT_OK(writer);
  const std::string segment = "an event segment";
  ASSERT_OK((*writer)->Append(std::as_bytes(std::span(segment.data(), segment.size()))));
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) ::_exit(0);
  ASSERT_EQ(::waitpid(child, nullptr, 0), child);
  const std::string dead = "tmp/w-" + std::to_string(child) + "-0123abcd.tmp";
  WriteFile(dir / dead, "left by a killed writer");
  WriteFile(dir / "tmp/unnamed.tmp", "no writer named");

  ASSERT_OK(backend->CleanupTemp(0));
  EXPECT_FALSE(fs::exists(dir / dead));
  EXPECT_FALSE(fs::exists(dir / "tmp/unnamed.tmp"));
  ASSERT_OK((*writer)->Commit("events/seg-1")) << "the running writer's temp file was kept";
  EXPECT_EQ(*backend->ReadAll("events/seg-1"), "an event segment");
}

// CleanupTemp(0) removes every leftover of a writer that no longer runs, even one whose mtime
// is ahead of the cleaner's clock: the kernel may stamp a file with a fine-grained time while
// time() still returns the last tick's second, so a file written just after a second began
// looked a second "in the future", was kept, and BatchCommitTest's cleanup after a kill found
// one temp file left (seen once in a full ctest run).
TEST(PosixBackend, CleanupTempRemovesALeftoverStampedAheadOfTheClock) {
  TempDir dir;
  auto backend = Open(dir.path());
  pid_t child = ::fork();  // a writer that no longer runs
  ASSERT_GE(child, 0);
  if (child == 0) ::_exit(0);
  ASSERT_EQ(::waitpid(child, nullptr, 0), child);
  const std::string dead = "tmp/w-" + std::to_string(child) + "-ahead.tmp";
  WriteFile(dir / dead, "left by a killed writer, stamped in the next second");
  struct timespec times[2];
  ASSERT_EQ(::clock_gettime(CLOCK_REALTIME, &times[0]), 0);
  times[0].tv_sec += 2;
  times[1] = times[0];
  ASSERT_EQ(::utimensat(AT_FDCWD, (dir / dead).c_str(), times, 0), 0);
  ASSERT_OK(backend->CleanupTemp(0));
  EXPECT_FALSE(fs::exists(dir / dead));
  // With a minimum age it is young, and kept.
  WriteFile(dir / dead, "young");
  ASSERT_EQ(::utimensat(AT_FDCWD, (dir / dead).c_str(), times, 0), 0);
  ASSERT_OK(backend->CleanupTemp(60));
  EXPECT_TRUE(fs::exists(dir / dead));
}

TEST(PosixBackend, UrlTable) {
  EXPECT_EQ(OpenBackend("file://relative/path").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(OpenBackend("file:///").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(OpenBackend("file:///a/../b").status().code(), Code::kInvalidArgument);
  Status unknown = OpenBackend("ftp://user:secret@host/x").status();
  EXPECT_EQ(unknown.code(), Code::kInvalidArgument);
  EXPECT_EQ(unknown.message().find("secret"), std::string::npos) << unknown.message();
  auto posix = OpenBackend("file:///srv/cairn/site-a/");
  ASSERT_OK(posix);
  EXPECT_EQ((*posix)->DisplayUrl(), "file:///srv/cairn/site-a");
  // mem:// stores are shared by name.
  auto first = OpenBackend("mem://shared-test");
  auto second = OpenBackend("mem://shared-test");
  ASSERT_TRUE(first.ok() && second.ok());
  ASSERT_OK((*first)->Put("k", "v"));
  EXPECT_EQ(*(*second)->ReadAll("k"), "v");
  EXPECT_EQ((*second)->DisplayUrl(), "mem://shared-test");
}

}  // namespace
}  // namespace cairn::repo
