// PickCandidates: the replica rows a sweep checks, oldest first, sampled.
#include <algorithm>
#include <cmath>

#include "audit/audit_internal.h"

namespace cairn::audit::internal {

Result<std::vector<Candidate>> PickCandidates(repo::Catalog::Reader& reader,
                                              const AuditScope& scope, AuditMode mode,
                                              const Sample& sample, int64_t now_micros) {
  repo::AuditPick pick;
  pick.site = scope.site;
  pick.partner = scope.partner;
  pick.object = scope.object;
  pick.due_only = mode == AuditMode::kDue;
  pick.now_micros = now_micros;
  // Without a partner or object scope (and a sample not by size) neither the
  // names nor the sizes are needed to pick: the workers look them up as they
  // check each copy (Catalog::Reader::NameCopy), in parallel.
  pick.with_names =
      !scope.partner.empty() || !scope.object.empty() || sample.kind == Sample::Kind::kBytes;
  // A bucket is one range of digests: the catalog reads only its copies.
  if (sample.kind == Sample::Kind::kBucket) {
    DigestRange range = DigestRangeOf(sample.bucket, sample.buckets);
    pick.digest_low = std::move(range.low);
    pick.digest_high = std::move(range.high);
  }
  CAIRN_ASSIGN_OR_RETURN(std::vector<Candidate> picked, reader.PickAuditCopies(pick));
  // Rows mostly come in order already (rowid order is deposit order): sorting
  // a million candidates that are sorted costs more than checking they are.
  const auto oldest_first = [](const Candidate& a, const Candidate& b) {
    return a.next_due != b.next_due ? a.next_due < b.next_due : a.replica_id < b.replica_id;
  };
  if (!std::is_sorted(picked.begin(), picked.end(), oldest_first)) {
    std::sort(picked.begin(), picked.end(), oldest_first);
  }
  switch (sample.kind) {
    case Sample::Kind::kAll:
      break;
    case Sample::Kind::kPercent: {
      auto keep = static_cast<size_t>(
          std::ceil(static_cast<double>(picked.size()) * sample.percent / 100.0));
      picked.resize(std::min(keep, picked.size()));
      break;
    }
    case Sample::Kind::kBucket:  // the range above; this keeps the rule in one place
      std::erase_if(picked, [&](const Candidate& c) {
        return BucketOf(c.sha256, sample.buckets) != sample.bucket;
      });
      break;
    case Sample::Kind::kBytes: {
      uint64_t total = 0;
      size_t keep = 0;
      while (keep < picked.size() && total < sample.bytes) total += picked[keep++].size;
      picked.resize(keep);
      break;
    }
  }
  return picked;
}

}  // namespace cairn::audit::internal
