// Catalog::ListVersionHoldings: what each version should have under bags/ on
// the sites, for the auditor's comparison with the sites' listings.
#include <map>

#include "repo/catalog/catalog.h"
#include "repo/site_layout.h"

namespace cairn::repo {

Result<std::vector<VersionHoldings>> Catalog::ListVersionHoldings(const std::string& partner,
                                                                  const std::string& object) {
  std::lock_guard lock(mu_);
  std::vector<VersionHoldings> out;
  std::map<int64_t, size_t> by_id;  // versions row id -> index in `out`
  {
    CAIRN_ASSIGN_OR_RETURN(
        sql::Stmt stmt,
        db_.Prepare("SELECT v.id, v.partner, v.object, v.version, t.name FROM versions v "
                    "LEFT JOIN tag_files t ON t.version_id = v.id "
                    "WHERE (?1 = '' OR v.partner = ?1) AND (?2 = '' OR v.object = ?2) "
                    "ORDER BY v.partner, v.object, v.version, t.name"));
    stmt.Bind(1, partner).Bind(2, object);
    for (;;) {
      CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) break;
      auto [it, added] = by_id.try_emplace(stmt.Int(0), out.size());
      if (added) {
        VersionHoldings v;
        v.partner = stmt.Text(1);
        v.object = stmt.Text(2);
        v.version = static_cast<uint32_t>(stmt.Int(3));
        out.push_back(std::move(v));
      }
      if (!stmt.IsNull(4)) out[it->second].tag_files.push_back(stmt.Text(4));
    }
  }
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt stmt,
      db_.Prepare("SELECT v.id, s.name FROM versions v "
                  "JOIN tag_files t ON t.version_id = v.id AND t.name = ?3 "
                  "JOIN replicas r ON r.tag_file_id = t.id AND r.state = 'ok' "
                  "JOIN sites s ON s.id = r.site_id "
                  "WHERE (?1 = '' OR v.partner = ?1) AND (?2 = '' OR v.object = ?2) "
                  "ORDER BY s.name"));
  stmt.Bind(1, partner).Bind(2, object).Bind(3, layout::kVersionRecordName);
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    auto it = by_id.find(stmt.Int(0));
    if (it != by_id.end()) out[it->second].record_ok_sites.push_back(stmt.Text(1));
  }
  return out;
}

}  // namespace cairn::repo
