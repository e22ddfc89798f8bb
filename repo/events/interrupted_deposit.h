// The leftovers of a deposit killed after its version.pb reached a site and before its catalog
// commit (kill -9, a Ctrl-C): told apart from a version the catalog lost by the repository's
// pending mark (REPO/locks/P/O.pending, Repository::MarkVersionPending), which names the number
// being committed and that record's SHA-256 and is cleared right after the catalog commit.
// `cairn gc` removes them; `audit run --orphans` and a `catalog rebuild` run in the repository
// name them so (repo/FORMAT.md, "version.pb").
#ifndef CAIRN_REPO_EVENTS_INTERRUPTED_DEPOSIT_H_
#define CAIRN_REPO_EVENTS_INTERRUPTED_DEPOSIT_H_

#include <cstdint>
#include <string>

#include "repo/catalog/catalog.h"
#include "repo/site/catalog_behind.h"
#include "repo/site/repository.h"
#include "repo/site/site.h"

namespace cairn::repo {

// True when the catalog's log records the ingestion of partner/object@version, or cannot be
// read (taken as recorded: nothing is dropped on a doubt).
bool IngestionRecorded(Catalog& catalog, const std::string& partner, const std::string& object,
                       uint32_t version);

// True when `v` (a version.pb a site holds that the catalog does not list) is an interrupted
// deposit's: the pending mark of its object in the repository folder names v's number with the
// SHA-256 of that record (Repository::MarkNamesRecord), it is not a purged version's, and the
// catalog's log records no ingestion of it. Never acknowledged, so never a version.
bool IsInterruptedDeposit(Repository& repo, const UnknownVersion& v);

// The same for the version.pb of partner/object@version on `site` (a version the catalog does
// not list): read and hashed only when a pending mark names that number; false when it cannot
// be read, or the catalog records a withdrawal of it.
bool IsInterruptedDepositRecord(Repository& repo, Site& site, const std::string& partner,
                                const std::string& object, uint32_t version);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_EVENTS_INTERRUPTED_DEPOSIT_H_
