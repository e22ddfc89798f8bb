// Repository: a Cairn repository folder as every verb opens it. It holds the
// SQLite catalog (REPO/catalog.db) and opens the storage sites the catalog
// lists, by name, on demand. `cairn init REPO` makes one with two posix sites
// (REPO/sites/a, REPO/sites/b) and a default policy of two copies.
//
//   CAIRN_ASSIGN_OR_RETURN(auto repo, Repository::Open("/srv/cairn"));
//   CAIRN_ASSIGN_OR_RETURN(Site* a, repo->OpenSite("a"));
//   repo->catalog().ListObjects("");
#ifndef CAIRN_REPO_REPOSITORY_H_
#define CAIRN_REPO_REPOSITORY_H_

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bagit/status.h"
#include "repo/catalog/catalog.h"
#include "repo/clock.h"
#include "repo/file_modes.h"
#include "repo/lock_wait.h"
#include "repo/site/repository_layout.h"
#include "repo/site/site.h"

namespace cairn::repo {

inline constexpr std::string_view kCatalogFileName = repo_layout::kCatalogFileName;

struct RepositoryOptions {
  Clock* clock = nullptr;  // nullptr: the system clock; must outlive the Repository
  // Init only: share the repository with this group (setgid folders 2770,
  // files 0660, repo/file_modes.h); empty: private (0700 folders, 0600 files).
  std::string group;
};

class Repository {
 public:
  // Makes a new repository at `root`: the folder (created if absent, 0700,
  // or 2770 for options.group; refused with AlreadyExists if it exists and is
  // not empty), the catalog (0600/0660), posix sites
  // "a" and "b" under root/sites/ (each initialised with CAIRN-SITE and
  // README.txt) and the default policy `copies: 2`. Returns it open.
  static Result<std::unique_ptr<Repository>> Init(const std::string& root,
                                                  const RepositoryOptions& options = {});
  // Opens the repository at `root`. NotFound "no repository at ROOT (run cairn
  // init)" when root/catalog.db does not exist.
  static Result<std::unique_ptr<Repository>> Open(const std::string& root,
                                                  const RepositoryOptions& options = {});

  const std::string& root() const { return root_; }
  // The modes of the files and folders made in the repository folder (private,
  // or shared with its group: repo/file_modes.h).
  unsigned FileMode() const { return modes_.file; }
  const AccessModes& modes() const { return modes_; }
  // Makes folder `path` (inside root()) with the repository's modes; OK if it exists.
  Status MakePrivateDir(const std::string& path) const { return MakeDirWithModes(path, modes_); }
  Catalog& catalog() { return *catalog_; }
  Clock& clock() { return catalog_->clock(); }

  // The open site called `name` (opened once, then cached; thread-safe).
  // NotFound if the catalog has no such site; Unavailable (naming the site) if
  // its storage cannot be reached or its CAIRN-SITE marker is absent; a marker
  // carrying another site id, or naming a repository other than this one (or
  // the one the site was adopted from), is InvalidArgument: a swapped or
  // shared site is never written to.
  Result<Site*> OpenSite(const std::string& name);
  // The catalog's sites (`only`: those of them named; empty: all) that cannot be opened now, in
  // catalog order, each with why (WithMarkerNextStep: the way forward for one without its
  // marker): what a verb that reports the catalog's record of their copies could not check.
  Result<std::vector<std::pair<std::string, Status>>> UnreachableSites(
      const std::vector<std::string>& only = {});

  // Takes a shared lock on ROOT/writers.lock for as long as the returned
  // handle lives; every command that writes to sites (deposit, replicate)
  // holds one. When no other writer holds it, the temp files that killed
  // writers left on every reachable site are removed first (any age); else
  // only those older than an hour. IOError if the lock file cannot be made.
  class WriterLock {
   public:
    explicit WriterLock(FileLock lock) : lock_(std::move(lock)) {}
    ~WriterLock();
    WriterLock(const WriterLock&) = delete;
    WriterLock& operator=(const WriterLock&) = delete;

    // Turns a shared writers' lock into an exclusive one if no other writer
    // holds it now (never waits). True: no other deposit, replication, audit
    // or resync is in flight until this handle dies. False: another writer is
    // active, and this handle may have lost its shared lock too (flock
    // converts by unlocking first): call it only when done writing.
    bool TryExclusive();

   private:
    FileLock lock_;
  };
  // Waits for a gc's exclusive hold at most LockTimeoutMs() (repo/lock_wait.h),
  // saying once who holds it; then Unavailable naming the holder.
  Result<std::unique_ptr<WriterLock>> LockForWriting();
  // Takes the writers' lock EXCLUSIVELY (for the garbage collector): no other
  // writer runs while the handle lives. Waits up to `timeout_ms` (negative:
  // LockTimeoutMs()) for the writers in flight to finish; Unavailable if they
  // have not by then (naming the lock file and its holders); 0 never waits.
  // Temp files are not cleaned.
  Result<std::unique_ptr<WriterLock>> LockExclusively(int64_t timeout_ms);

  // Takes an exclusive lock on one object (ROOT/locks/PARTNER/OBJECT.lock),
  // waiting (at most LockTimeoutMs(), then Unavailable naming the holder) for
  // another holder to let go: deposits of the same object run one
  // after the other, so two never pick the same version number or write over
  // each other's tag files. The lock dies with the process (flock). Ids must
  // be valid (layout::ValidateId); IOError if the lock file cannot be made.
  Result<std::unique_ptr<WriterLock>> LockObject(const std::string& partner,
                                                 const std::string& object);

  // The version number a deposit of partner/object holding LockObject is
  // committing, kept in ROOT/locks/PARTNER/OBJECT.pending: marked (durably)
  // before its version.pb reaches a site, marked again with that record's
  // SHA-256 just before it is committed, and cleared once the catalog holds
  // the version.
  // A number still marked at the next deposit was never acknowledged (the
  // deposit was killed in between): its folders may be removed (its version.pb
  // only if it is the one marked) and the number reused. IOError if the file
  // cannot be written.
  struct PendingVersion {
    uint32_t version = 0;
    std::string record_sha256;  // empty: version.pb not known to be written
  };
  Status MarkVersionPending(const std::string& partner, const std::string& object,
                            const PendingVersion& pending);
  // The marked number, or nullopt if none (or the file is not one Cairn wrote).
  std::optional<PendingVersion> GetPendingVersion(const std::string& partner,
                                                  const std::string& object);
  // The same, read from the repository folder `root` (no catalog needed: a catalog rebuild).
  static std::optional<PendingVersion> PendingVersionIn(const std::string& root,
                                                        const std::string& partner,
                                                        const std::string& object);
  // True when the pending mark of partner/object in the repository folder `root` names
  // `version` with `record_sha256`, the SHA-256 of a version.pb a site holds for it: that record
  // was written by a deposit killed before its catalog commit (the mark is cleared right after
  // it), never acknowledged. A mark without a digest names no record.
  static bool MarkNamesRecord(const std::string& root, const std::string& partner,
                              const std::string& object, uint32_t version,
                              std::string_view record_sha256);
  Status ClearVersionPending(const std::string& partner, const std::string& object);

  // Registers a new site: opens the storage at `url`, initialises it (an empty
  // place gets CAIRN-SITE, naming this repository, and README.txt; a place
  // already marked with this site id is adopted; another site's place or a
  // non-empty unmarked place is refused), then records it in the catalog.
  // A place whose marker names another repository is refused, whatever its
  // site id, unless `adopt` (for when that repository is gone for good): then
  // nothing on the site is rewritten and the catalog records the adoption
  // (SiteRecord::adopted_from). AlreadyExists if the name is taken.
  Result<SiteRecord> AddSite(const std::string& name, const std::string& url,
                             const std::string& region, bool adopt = false);
  // Points site `name` at `url`, where its files now are (a share mounted elsewhere, a bucket
  // behind a new gateway): the place's CAIRN-SITE must name this site of this repository. With
  // `empty`, the place may instead be a new empty one (the site's files lost): it is made a site
  // as AddSite makes one, and `cairn site resync NAME` fills it. Then the catalog records the new
  // URL (nothing is copied; the caller writes the settings records). Refused, nothing changed:
  // NotFound for an unknown site, InvalidArgument for its present URL, AlreadyExists for another
  // site's or repository's place, InvalidArgument for a place that holds other files or (without
  // `empty`) no marker; each ends "site NAME was not moved". Returns the record before the move.
  Result<SiteRecord> MoveSite(const std::string& name, const std::string& url, bool empty);

 private:
  Repository(std::string root, std::unique_ptr<Catalog> catalog)
      : root_(std::move(root)), catalog_(std::move(catalog)), modes_(ModesInside(root_)) {}

  std::string root_;
  std::unique_ptr<Catalog> catalog_;
  AccessModes modes_;
  std::mutex sites_mu_;
  std::map<std::string, std::unique_ptr<Site>> sites_;
};

// "file://" + the absolute, normalised form of `path`.
std::string FileUrl(const std::string& path);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_REPOSITORY_H_
