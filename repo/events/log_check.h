// The event log as `cairn events` sees it: filtered listings, the chain
// check with an optional published witness, and the chain head as a witness.
#ifndef CAIRN_REPO_EVENTS_LOG_CHECK_H_
#define CAIRN_REPO_EVENTS_LOG_CHECK_H_

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "bagit/status.h"
#include "proto/event.pb.h"
#include "repo/catalog/catalog_types.h"
#include "repo/events/site_log_check.h"
#include "repo/events/witness.h"

namespace cairn::repo {

class Catalog;

struct EventQuery {
  std::string object;  // "PARTNER/OBJECT", "PARTNER", or "" for all
  std::string type;    // PREMIS label or id.loc.gov code ("fixity check", "fix"); "" for all
  std::string since;   // "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SS[.ffffff]Z"; "" for all
};

// Microseconds since the epoch of a --since date (UTC). InvalidArgument
// naming the accepted forms otherwise.
Result<int64_t> ParseSinceDate(const std::string& text);

// The events matching `query`, in seq order. InvalidArgument for an unknown
// type (listing the known ones), a bad date or a bad object reference.
Result<std::vector<proto::Event>> QueryEvents(Catalog& catalog, const EventQuery& query);

struct LogVerdict {
  ChainVerdict chain;
  bool witness_checked = false;
  bool witness_ok = true;
  bool witness_signed = false;
  Witness witness;
  std::string witness_signer;   // the trusted key that verified the signature ("--key", a label)
  std::string witness_problem;  // why the witness check failed
  // The sites' copies of the log (CheckEventLogCopies), when checked.
  bool sites_checked = false;
  std::vector<SiteLogCheck> sites;
  bool ok() const;
  std::string ToText() const;
  nlohmann::json ToJson() const;
};

// Walks the chain (Catalog::VerifyEvents). With `witness_path`: the witness
// file must parse; when signed, its signer must be trusted - the key in
// `trusted_key_path` when given, else a key registered in the catalog
// (Catalog::AddWitnessKey) - and its signature must verify: with no trusted
// key at all the witness fails with "the signer was not checked"; when a key
// is given the witness must be signed; and the log must hold event `seq`
// with exactly the witnessed hash, with the chain intact up to it. An
// unsigned witness without --key is checked for its head only. An error
// Status only when the catalog or the files cannot be read.
Result<LogVerdict> VerifyEventLog(Catalog& catalog, const std::string& witness_path = "",
                                  const std::string& trusted_key_path = "");

// The chain head as a witness, signed with `private_key_path` unless empty.
// Refuses (Corruption naming the first bad event) to witness a broken chain.
Result<Witness> WitnessChainHead(Catalog& catalog, const std::string& private_key_path);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_EVENTS_LOG_CHECK_H_
