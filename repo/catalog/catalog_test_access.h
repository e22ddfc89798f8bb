// Tests only: raw access to a catalog's own connection (Catalog::db() is private: production
// code goes through the Catalog's methods), and the few raw edits tests make, kept here so that
// every SQL statement stays in repo/catalog/. Header only: nothing here is in the shipped cairn.
#ifndef CAIRN_REPO_CATALOG_CATALOG_TEST_ACCESS_H_
#define CAIRN_REPO_CATALOG_CATALOG_TEST_ACCESS_H_

#include "bagit/status.h"
#include "repo/catalog/catalog.h"

namespace cairn::repo {

struct CatalogTestAccess {
  static sql::Db& Db(Catalog& catalog) { return catalog.db(); }

  // Forgets the values of the settings noted on the sites, as a catalog from before migration 22
  // has them: the versions alone.
  static Status ForgetSettingsSeenValues(Catalog& catalog) {
    return catalog.db().Exec("UPDATE settings_seen SET value_sha256 = ''");
  }

  // Every job's lease runs out now and every job is due: what a rerun sees once a killed
  // worker's leases (15 minutes) have lapsed, without waiting for them.
  static Status ExpireAllLeases(Catalog& catalog) {
    return catalog.db().Exec("UPDATE jobs SET lease_until = 0, next_try = 0");
  }
};

}  // namespace cairn::repo

#endif  // CAIRN_REPO_CATALOG_CATALOG_TEST_ACCESS_H_
