// IsInterruptedDeposit: a site's version.pb against the repository's pending mark.
#include "repo/events/interrupted_deposit.h"

#include <algorithm>
#include <optional>
#include <vector>

#include "repo/events/event_types.h"
#include "repo/storage/sha256_stream.h"

namespace cairn::repo {

bool IngestionRecorded(Catalog& catalog, const std::string& partner, const std::string& object,
                       uint32_t version) {
  Result<std::vector<proto::Event>> ingested = catalog.ListEvents(
      {.partner = partner, .object = object, .type = std::string(kIngestion.label)});
  if (!ingested.ok()) return true;
  return std::any_of(ingested->begin(), ingested->end(),
                     [version](const proto::Event& e) { return e.version() == version; });
}

bool IsInterruptedDeposit(Repository& repo, const UnknownVersion& v) {
  return v.purged_by == 0 &&
         Repository::MarkNamesRecord(repo.root(), v.partner, v.object, v.version,
                                     v.record_sha256) &&
         !IngestionRecorded(repo.catalog(), v.partner, v.object, v.version);
}

bool IsInterruptedDepositRecord(Repository& repo, Site& site, const std::string& partner,
                                const std::string& object, uint32_t version) {
  std::optional<Repository::PendingVersion> mark =
      Repository::PendingVersionIn(repo.root(), partner, object);
  if (!mark || mark->version != version || mark->record_sha256.empty()) return false;
  Result<std::optional<WithdrawalRecord>> w = repo.catalog().WithdrawalOf(partner, object, version);
  if (!w.ok() || *w) return false;
  Result<std::string> bytes = site.ReadVersionRecord(partner, object, version);
  if (!bytes.ok()) return false;
  UnknownVersion v;
  v.partner = partner;
  v.object = object;
  v.version = version;
  v.record_sha256 = Sha256Hex(*bytes);
  return IsInterruptedDeposit(repo, v);
}

}  // namespace cairn::repo
