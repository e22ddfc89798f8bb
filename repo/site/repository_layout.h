// The repository folder's own layout (REPO/, beside its sites): the one place
// its paths are made, as repo/site_layout.h is for a site's keys. Documented
// in repo/FORMAT.md ("The repository folder").
//
//   REPO/catalog.db (-wal, -shm)          the catalog (SQLite, repo/catalog/SCHEMA.md)
//   REPO/sites/NAME/                      the posix sites `cairn init` makes (a, b)
//   REPO/writers.lock                     flock: writers share it, gc takes it alone
//   REPO/locks/PARTNER/OBJECT.lock        flock: one deposit of an object at a time
//   REPO/locks/PARTNER/OBJECT.pending     the version a deposit of it is committing
//   REPO/audit-SITE.lock                  flock: one sweep of a site at a time
//   REPO/tmp/deposit-*.scratch            a running deposit's per-file lists
//   REPO/tmp/uploads/ID/                  a resumable upload of `cairn serve`
//
// Beside every lock file its holders write LOCK.holder-PID (repo/lock_wait.h).
#ifndef CAIRN_REPO_REPOSITORY_LAYOUT_H_
#define CAIRN_REPO_REPOSITORY_LAYOUT_H_

#include <string>
#include <string_view>

namespace cairn::repo::repo_layout {

// The catalog's file name in the repository folder.
inline constexpr std::string_view kCatalogFileName = "catalog.db";

std::string CatalogPath(std::string_view root);
// The folder of the posix sites `cairn init` makes, and one of them.
std::string SitesDir(std::string_view root);
std::string SiteDir(std::string_view root, std::string_view site);
std::string WritersLockPath(std::string_view root);
// REPO/locks and REPO/locks/PARTNER, the folders of the per-object files.
std::string ObjectLocksDir(std::string_view root);
std::string PartnerLocksDir(std::string_view root, std::string_view partner);
// REPO/locks/PARTNER/<object id in lower case>.lock: every spelling of an id takes one lock.
std::string ObjectLockPath(std::string_view root, std::string_view partner,
                           std::string_view object);
std::string PendingVersionPath(std::string_view root, std::string_view partner,
                               std::string_view object);
std::string AuditLockPath(std::string_view root, std::string_view site);
// Scratch files of running deposits.
std::string TmpDir(std::string_view root);
// REPO/tmp/upload-<request id><extension>: the body of a deposit `cairn serve` receives,
// spooled there while it arrives and removed once the deposit is answered.
std::string UploadSpoolPath(std::string_view root, std::string_view request_id,
                            std::string_view extension);
// REPO/tmp/uploads: one folder per resumable upload `cairn serve` holds (its state.json and
// the archive its parts make; ops/server/upload_store.h), removed when completed or expired.
std::string UploadsDir(std::string_view root);
// REPO/tmp/download-<request id>.tar: an object version `cairn serve` restores as a tar to send
// as an answer; removed once sent.
std::string DownloadSpoolPath(std::string_view root, std::string_view request_id);

}  // namespace cairn::repo::repo_layout

#endif  // CAIRN_REPO_REPOSITORY_LAYOUT_H_
