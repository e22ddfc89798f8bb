// The JSON documents the `cairn X --json` verbs print and the server's /v1/ routes return:
// one shaping per document, so that the CLI and the API never drift apart (issue 17).
// Each function only shapes values the library already computed; none touches storage.
#ifndef CAIRN_OPS_SERVER_JSON_VIEWS_H_
#define CAIRN_OPS_SERVER_JSON_VIEWS_H_

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "audit/schedule.h"
#include "bagit/status.h"
#include "proto/policy.pb.h"
#include "repo/catalog/catalog.h"
#include "repo/catalog/catalog_principal_types.h"
#include "repo/catalog/inventory.h"
#include "repo/deposit/deposit.h"
#include "repo/events/segments.h"
#include "repo/principal.h"
#include "repo/replicate/settings_change.h"
#include "repo/site/repository.h"
#include "repo/withdraw/purge.h"

namespace cairn::views {

// `cairn list --json` and GET /v1/objects: one entry per object listing.
nlohmann::json ObjectListJson(const std::vector<repo::ObjectListing>& objects);

// How `usage` shares the bytes of a blob among partners (printed by `cairn usage`).
inline constexpr const char* kUsageRule =
    "A blob (one distinct file content) referenced by k partners is charged size/k to each of "
    "them, however many files or versions reference it; each partner's own tag files are "
    "charged to it in full. 'stored' is that fair share times the verified copies on each site.";

// The rule a partner's own principal is shown instead (no fair share: UsageJson).
inline constexpr const char* kUsagePartnerRule =
    "DISTINCT counts each distinct file content the partner holds once, however many files or "
    "versions reference it. The fair share of content other partners also hold is the "
    "consortium's to compute: it would tell a partner what the others hold.";

// `cairn usage --json` and GET /v1/usage. With `only_partner` set, the document is cut down to
// that partner's entry: no sites and no repository totals, which would reveal what the other
// partners hold. `partner_view` (a partner's own principal asking) leaves out the fair share
// and what it is stored as too: split among the partners that hold the same content, it would
// tell how many others hold each file the partner can guess and deposit.
nlohmann::json UsageJson(const repo::Usage& usage, const std::string& only_partner = "",
                         bool partner_view = false);

// `cairn partner list --json` and GET /v1/partners. `own_policy(id)`: whether the partner has
// a policy of its own.
nlohmann::json PartnerListJson(const std::vector<repo::PartnerRecord>& partners,
                               const std::function<bool(const std::string&)>& own_policy);

// `cairn site list --json` and GET /v1/sites: name, the URL safe to print (the backend's
// display form: never credentials), region.
nlohmann::json SiteListJson(const std::vector<repo::SiteRecord>& sites);

// `cairn principal list --json` and GET /v1/principals: name, role, partner, created, disabled
// (null while enabled). Never a token.
nlohmann::json PrincipalListJson(const std::vector<repo::PrincipalRecord>& principals);

// `cairn audit schedule list --json` and GET /v1/schedules: one entry per schedule.
nlohmann::json ScheduleJson(const audit::Schedule& s);

// The schedule a `cairn audit schedule add` (its flags as JSON) or POST /v1/schedules body
// describes: {"name", "every": "90d", "site", "partner", "object" (within partner), "sample",
// "rate": "200M", "mode": "due"|"all"}; name and every are required, the rest optional
// strings. InvalidArgument naming the field and the rule.
Result<audit::Schedule> ScheduleFromJson(const nlohmann::json& spec);

// What `cairn policy set` did, as PUT /v1/policy answers and the verb prints it: the partner
// ("" for the default), the policy's recorded source, the sites that did not take it
// (warnings), the partners it cannot be met for (problems), and the copies it makes owed.
nlohmann::json PolicySetJson(const std::string& partner, const std::string& source,
                             const repo::SettingsChange& change);

// A policy message as JSON with the proto field names and every primitive field.
nlohmann::json PolicyJson(const proto::Policy& policy);

// `cairn policy show --json` and GET /v1/policy: the policy that applies to `partner` ("" for
// the default), where it comes from (partner, default or builtin), and the stored text.
// NotFound for an unknown partner.
Result<nlohmann::json> PolicyShowJson(repo::Catalog& catalog, const std::string& partner);

// One file of `cairn show --json`: path, size, sha256 and its copies per site.
nlohmann::json FileCopiesJson(const repo::FileCopies& file);

// `cairn deposit --json` and POST /v1/deposits (an upload's completion too): "stored", the
// bag's "report", the "receipt" once stored, and "events_copied": whether the deposit's new
// events reached every site's event log that could be reached (false when a site refused the
// write or its log diverged from the catalog's, as EventsFlushedLines says: the verb exits 1; a
// site that is down is no such failure).
nlohmann::json DepositJson(const repo::DepositOutcome& outcome);

// Serializes `doc` the way every verb and route does: invalid UTF-8 replaced, `indent` as
// nlohmann's dump (-1: one line).
std::string DumpJson(const nlohmann::json& doc, int indent = 2);

// One withdrawal and one legal hold as `cairn withdraw list --json` and `cairn hold list --json`
// print them and /v1/withdrawals and /v1/holds answer (times in UTC, null when not yet).
nlohmann::json WithdrawalJson(const repo::WithdrawalRecord& w);
nlohmann::json HoldJson(const repo::HoldRecord& h);

// A purge's outcome: {"waiting"}, and with `site_counts` {"keys_removed", "bytes_removed",
// "blobs_kept"}. Those count what left the sites, which is less than the version when another
// partner holds some of its content: only a principal that sees every partner (the operator,
// the auditor) is told them, so that a purge never tells a partner what the others hold.
nlohmann::json PurgeJson(const repo::PurgeReport& report, bool site_counts);

// The header in which GET /v1/objects, /v1/withdrawals and /v1/holds send the warnings their
// verbs print on stderr beside the listing (a catalog behind the sites), so that the document
// stays the one the verb prints with --json: a JSON array of strings, ASCII, on one line.
inline constexpr const char* kWarningsHeader = "X-Cairn-Warnings";

// The value of kWarningsHeader for `warnings`: at most 100 of them, then one that counts the
// rest (a header must stay well under a client's limit, libcurl's 100 KiB).
std::string WarningsHeaderValue(const std::vector<std::string>& warnings);

// The warnings a kWarningsHeader value holds; none when it is not such an array.
std::vector<std::string> WarningsOfHeader(const std::string& value);

// What a verb whose library operation appended events says of copying them to the sites' logs
// (repo::FlushNewEvents did it), one line each, without the "cairn: " the verb prints before
// each on stderr: why the new events did not reach the logs (the catalog could not be read, or
// a site's log diverged from the catalog's or refused the write, each named), then what the flush
// did besides (a site's README.txt brought up to date) and each site the catalog is behind (a
// warning). A site that is down is not named (the next flush catches it up). A problem of the
// run (exit 1) only when !flushed.ok(); the notes and warnings are none. The lines of the local
// verb (ops/cli/flush_events.h) and of a route that sends them (X-Cairn-Warnings), so that a
// remote verb says what the local one does.
std::vector<std::string> EventsFlushedLines(const repo::EventsFlushed& flushed);

// The line `cairn list` and GET /v1/objects add when a reachable site's event log runs past the
// catalog's: `ahead` (FirstSiteLogAheadOfCatalog's, naming `site`). As told to `who`: the
// operator gets the logs' positions and the rebuild; any other principal neither the positions
// (how much every partner did since) nor a command it cannot run (ForPrincipal).
std::string CatalogBehindListing(const std::string& site, const Status& ahead,
                                 const repo::Principal& who);

// `text`, the library's words that end with what the operator runs on the server's host, as
// told to `who`: unchanged for an operator. For any other principal, who can run none of those
// commands: the advice to run `cairn catalog rebuild --from SITE --force` ... becomes "the
// consortium's operator must bring the catalog up to date", without the command; the event
// logs' positions ("holds events up to seq N but the
// catalog ends at seq M": how much every partner did since) are left out; a site that did not
// take a change of a setting ("site b: settings not written: <why>: it lacks ...", whose error
// names where the site is and whose list may name other partners' settings) is named alone, as
// the operator's to see to; a setting a site holds past the catalog is not named (it may be
// another partner's); new events a site's log did not take are the operator's to see written
// there (not `cairn events verify`). The one place the library's operator words are put in a
// caller's terms.
std::string ForPrincipal(const repo::Principal& who, std::string text);

// Where the server keeps things, and the name an answer gives each instead: for a principal who
// is not an operator each site's URL and a posix site's folder (as the site's name: the site
// list is the operator's, and a library error names them freely) and the repository's folder
// ("the repository"), longest first (a site's folder inside the repository is named as the
// site; "site a (URL)", as a catalog rebuild's event words it, as "site a", not "site a (a)");
// none for an operator.
using Renames = std::vector<std::pair<std::string, std::string>>;
Renames ServerLocations(repo::Repository& repository, const repo::Principal& who);

// `text` with each location of `renames` replaced by its name.
std::string Renamed(const Renames& renames, std::string text);

}  // namespace cairn::views

#endif  // CAIRN_OPS_SERVER_JSON_VIEWS_H_
