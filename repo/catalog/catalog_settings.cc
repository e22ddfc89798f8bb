// Catalog: the settings a catalog rebuild restores from a site's settings/
// records (repo/site/settings.h), and the audit schedules as settings.
#include "repo/catalog/catalog.h"
#include "repo/site_layout.h"

namespace cairn::repo {

Result<std::map<std::pair<std::string, std::string>, SettingSeen>> Catalog::SettingsSeen(
    const std::string& site) {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt stmt,
                         db_.Prepare("SELECT kind, name, version, value_sha256, removed FROM "
                                     "settings_seen WHERE site = ?1"));
  stmt.Bind(1, site);
  std::map<std::pair<std::string, std::string>, SettingSeen> out;
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    out[{stmt.Text(0), stmt.Text(1)}] =
        SettingSeen{static_cast<uint64_t>(stmt.Int(2)), stmt.Text(3), stmt.Int(4) != 0};
  }
  return out;
}

Status Catalog::NoteSettingsSeen(
    const std::string& site,
    const std::map<std::pair<std::string, std::string>, SettingSeen>& seen) {
  if (seen.empty()) return Status::OK();
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(sql::Transaction tx, sql::Transaction::Begin(db_));
  // The value goes with the highest version: one noted below it changes nothing.
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt stmt,
      db_.Prepare("INSERT INTO settings_seen (site, kind, name, version, value_sha256, removed) "
                  "VALUES (?4, ?1, ?2, ?3, ?5, ?6) ON CONFLICT (site, kind, name) DO UPDATE SET "
                  "value_sha256 = CASE WHEN ?3 >= version THEN ?5 ELSE value_sha256 END, "
                  "removed = CASE WHEN ?3 >= version THEN ?6 ELSE removed END, "
                  "version = MAX(version, ?3)"));
  for (const auto& [name, s] : seen) {
    stmt.Reset();
    stmt.Bind(1, name.first).Bind(2, name.second).Bind(3, static_cast<int64_t>(s.version));
    stmt.Bind(4, site).Bind(5, s.value_sha256).Bind(6, static_cast<int64_t>(s.removed ? 1 : 0));
    CAIRN_RETURN_IF_ERROR(stmt.Run());
  }
  return tx.Commit();
}

Result<std::vector<proto::ScheduleSetting>> Catalog::ListScheduleSettings() {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt stmt,
      db_.Prepare("SELECT name, every_micros, site, partner, object, sample, rate_bytes_per_sec, "
                  "mode, created FROM schedules ORDER BY name"));
  std::vector<proto::ScheduleSetting> out;
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    proto::ScheduleSetting s;
    s.set_name(stmt.Text(0));
    s.set_every_micros(stmt.Int(1));
    s.set_site(stmt.Text(2));
    s.set_partner(stmt.Text(3));
    s.set_object(stmt.Text(4));
    s.set_sample(stmt.Text(5));
    s.set_rate_bytes_per_sec(static_cast<uint64_t>(stmt.Int(6)));
    s.set_mode(stmt.Text(7));
    s.set_created_unix_micros(stmt.Int(8));
    out.push_back(std::move(s));
  }
  return out;
}

Status Catalog::RestoreSchedule(const proto::ScheduleSetting& s) {
  if (!IsValidName(s.name()))
    return Status::InvalidArgument("bad schedule name '" + s.name() + "'");
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt stmt,
      db_.Prepare("INSERT INTO schedules (name, every_micros, site, partner, object, sample, "
                  "rate_bytes_per_sec, mode, last_run, next_run, created) "
                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0, ?9, ?10)"));
  const int64_t now = clock_->NowMicros();
  stmt.Bind(1, s.name())
      .Bind(2, s.every_micros())
      .Bind(3, s.site())
      .Bind(4, s.partner())
      .Bind(5, s.object())
      .Bind(6, s.sample())
      .Bind(7, static_cast<int64_t>(s.rate_bytes_per_sec()))
      .Bind(8, s.mode().empty() ? std::string("due") : s.mode())
      .Bind(9, now)
      .Bind(10, s.created_unix_micros() ? s.created_unix_micros() : now);
  Status inserted = stmt.Run();
  if (inserted.IsAlreadyExists()) return Status::AlreadyExists("schedule " + s.name() + " exists");
  return inserted;
}

Status Catalog::RestoreSite(const proto::SiteSetting& s) {
  CAIRN_RETURN_IF_ERROR(layout::ValidateSiteId(s.name()));
  if (s.url().empty()) return Status::InvalidArgument("site " + s.name() + ": empty URL");
  std::lock_guard lock(mu_);
  // A site already known (the one the catalog was rebuilt from) keeps the URL
  // it was read from; its region and its created time (the earlier: a record
  // without one gives now) come back.
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt stmt,
      db_.Prepare("INSERT INTO sites (name, url, region, created) VALUES (?1, ?2, ?3, ?4) "
                  "ON CONFLICT(name) DO UPDATE SET region = excluded.region, "
                  "created = MIN(sites.created, excluded.created)"));
  stmt.Bind(1, s.name())
      .Bind(2, s.url())
      .Bind(3, s.region())
      .Bind(4, s.created_unix_micros() ? s.created_unix_micros() : clock_->NowMicros());
  return stmt.Run();
}

Status Catalog::RestorePartner(const proto::PartnerSetting& p) {
  CAIRN_RETURN_IF_ERROR(layout::ValidatePartnerId(p.id()));
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt stmt, db_.Prepare("INSERT INTO partners (id, name, created) VALUES (?1, ?2, ?3) "
                                  "ON CONFLICT(id) DO UPDATE SET name = excluded.name, created = "
                                  "MIN(partners.created, excluded.created)"));
  stmt.Bind(1, p.id())
      .Bind(2, p.name())
      .Bind(3, p.created_unix_micros() ? p.created_unix_micros() : clock_->NowMicros());
  return stmt.Run();
}

}  // namespace cairn::repo
