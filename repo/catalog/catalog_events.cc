// Catalog: the hash-chained PREMIS event log (see event_chain.h).
#include <sqlite3.h>

#include "repo/catalog/catalog.h"
#include "repo/catalog/event_chain.h"

namespace cairn::repo {

Result<uint64_t> Catalog::AppendEvents(std::vector<proto::Event>& events) {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(sql::Transaction tx, sql::Transaction::Begin(db_));
  CAIRN_ASSIGN_OR_RETURN(uint64_t last, AppendEventsLocked(events));
  CAIRN_RETURN_IF_ERROR(tx.Commit());
  return last;
}

Result<uint64_t> Catalog::AppendEventsLocked(std::vector<proto::Event>& events) {
  return AppendEventsInTransaction(db_, clock_->NowMicros(), events);
}

Result<uint64_t> AppendEventsInTransaction(sql::Db& db, int64_t now_micros,
                                           std::vector<proto::Event>& events) {
  if (events.empty()) {
    CAIRN_ASSIGN_OR_RETURN(int64_t last, db.QueryInt("SELECT IFNULL(MAX(seq), 0) FROM events"));
    return static_cast<uint64_t>(last);
  }
  if (sqlite3_get_autocommit(db.raw()) != 0) {
    return Status::InvalidArgument("append events to " + db.path() +
                                   ": not inside a write transaction (the chain head could move)");
  }
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt head,
                         db.Prepare("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1"));
  CAIRN_ASSIGN_OR_RETURN(bool has_head, head.Step());
  uint64_t seq = has_head ? static_cast<uint64_t>(head.Int(0)) : 0;
  std::string prev = has_head ? head.Blob(1) : GenesisHash();
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt insert,
      db.Prepare("INSERT INTO events (seq, id, type, time, partner, object, version, file, "
                 "site, outcome, prev_hash, hash, event) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  // One draw from the random generator for the whole batch (8 bytes per id).
  std::vector<unsigned char> random(8 * events.size());
  FillRandom(random);
  std::string record;
  for (size_t i = 0; i < events.size(); ++i) {
    proto::Event& e = events[i];
    if (e.type().empty()) return Status::InvalidArgument("append event: no type");
    if (e.outcome().empty()) e.set_outcome("success");
    e.set_seq(++seq);
    if (e.time_unix_micros() == 0) e.set_time_unix_micros(now_micros);
    if (e.id().empty()) {
      e.set_id(UuidV7(e.time_unix_micros(),
                      std::span<const unsigned char, 8>(random.data() + 8 * i, 8)));
    }
    e.set_prev_hash(prev);
    e.clear_hash();
    e.set_hash(EventHash(e));
    prev = e.hash();
    record.clear();
    if (!e.SerializeToString(&record)) {
      return Status::IOError("append event " + std::to_string(e.seq()) + ": cannot serialize it");
    }
    insert.Reset();
    insert.Bind(1, static_cast<int64_t>(e.seq()))
        .Bind(2, e.id())
        .Bind(3, e.type())
        .Bind(4, e.time_unix_micros())
        .Bind(5, e.partner())
        .Bind(6, e.object())
        .Bind(7, int64_t{e.version()})
        .Bind(8, e.file())
        .Bind(9, e.site())
        .Bind(10, e.outcome())
        .BindBlob(11, e.prev_hash())
        .BindBlob(12, e.hash())
        .BindBlob(13, record);
    CAIRN_RETURN_IF_ERROR(insert.Run());
  }
  return seq;
}

Result<std::vector<proto::Event>> Catalog::ListEvents(const EventFilter& f) {
  std::lock_guard lock(mu_);
  std::string query = "SELECT event FROM events WHERE seq > ?1";
  if (f.partner) query += " AND partner = ?2";
  if (f.object) query += " AND object = ?3";
  if (f.type) query += " AND type = ?4";
  if (f.since_micros) query += " AND time >= ?5";
  query += " ORDER BY seq";
  if (f.limit > 0) query += " LIMIT ?6";
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt stmt, db_.Prepare(query));
  stmt.Bind(1, static_cast<int64_t>(f.after_seq));
  if (f.partner) stmt.Bind(2, *f.partner);
  if (f.object) stmt.Bind(3, *f.object);
  if (f.type) stmt.Bind(4, *f.type);
  if (f.since_micros) stmt.Bind(5, *f.since_micros);
  if (f.limit > 0) stmt.Bind(6, static_cast<int64_t>(f.limit));
  std::vector<proto::Event> out;
  while (true) {
    CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    proto::Event e;
    if (!e.ParseFromString(stmt.Blob(0))) {
      return Status::Corruption("event log in " + db_.path() + ": unreadable event record");
    }
    out.push_back(std::move(e));
  }
  return out;
}

Result<std::vector<EventRecord>> Catalog::ListEventRecords(uint64_t after_seq, uint64_t limit) {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt stmt,
      db_.Prepare("SELECT seq, event FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2"));
  stmt.Bind(1, static_cast<int64_t>(after_seq)).Bind(2, static_cast<int64_t>(limit));
  std::vector<EventRecord> out;
  while (true) {
    CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    out.push_back({static_cast<uint64_t>(stmt.Int(0)), stmt.Blob(1)});
  }
  return out;
}

Result<std::vector<EventHead>> Catalog::ListEventHashes(uint64_t after_seq, uint64_t limit) {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt stmt,
      db_.Prepare("SELECT seq, hash FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2"));
  stmt.Bind(1, static_cast<int64_t>(after_seq)).Bind(2, static_cast<int64_t>(limit));
  std::vector<EventHead> out;
  while (true) {
    CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    out.push_back({static_cast<uint64_t>(stmt.Int(0)), stmt.Blob(1)});
  }
  return out;
}

Result<std::string> Catalog::EventHashesDigest(uint64_t first_seq, uint64_t last_seq) {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt stmt,
      db_.Prepare("SELECT seq, hash FROM events WHERE seq BETWEEN ?1 AND ?2 ORDER BY seq"));
  stmt.Bind(1, static_cast<int64_t>(first_seq)).Bind(2, static_cast<int64_t>(last_seq));
  std::string hashes;
  uint64_t next = first_seq;
  while (true) {
    CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    if (static_cast<uint64_t>(stmt.Int(0)) != next++) return std::string();
    hashes += stmt.Blob(1);
  }
  if (first_seq > last_seq || next != last_seq + 1) return std::string();
  return Sha256Raw(hashes);
}

Result<std::vector<SegmentCheckRecord>> Catalog::ListSegmentChecks(const std::string& site) {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(int64_t site_id, SiteId(site));
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt stmt,
                         db_.Prepare("SELECT first_seq, last_seq, bytes_sha256, hashes_sha256 "
                                     "FROM segment_checks WHERE site_id = ? ORDER BY first_seq"));
  stmt.Bind(1, site_id);
  std::vector<SegmentCheckRecord> out;
  while (true) {
    CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    out.push_back({static_cast<uint64_t>(stmt.Int(0)), static_cast<uint64_t>(stmt.Int(1)),
                   stmt.Blob(2), stmt.Blob(3)});
  }
  return out;
}

Status Catalog::KeepSegmentChecks(const std::string& site,
                                  const std::vector<SegmentCheckRecord>& checks) {
  if (checks.empty()) return Status::OK();
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(int64_t site_id, SiteId(site));
  // A memo: never wait for another writer, so a check beside a running
  // deposit is not held up to keep it.
  sql::NoBusyWait no_wait(db_);
  if (!no_wait.ok()) return Status::IOError("catalog " + db_.path() + ": busy timeout not set");
  CAIRN_ASSIGN_OR_RETURN(sql::Transaction tx, sql::Transaction::Begin(db_));
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt stmt,
      db_.Prepare("INSERT OR REPLACE INTO segment_checks (site_id, first_seq, last_seq, "
                  "bytes_sha256, hashes_sha256, checked) VALUES (?, ?, ?, ?, ?, ?)"));
  const int64_t now = clock_->NowMicros();
  for (const SegmentCheckRecord& c : checks) {
    stmt.Reset();
    stmt.Bind(1, site_id)
        .Bind(2, static_cast<int64_t>(c.first_seq))
        .Bind(3, static_cast<int64_t>(c.last_seq))
        .BindBlob(4, c.bytes_sha256)
        .BindBlob(5, c.hashes_sha256)
        .Bind(6, now);
    CAIRN_RETURN_IF_ERROR(stmt.Run());
  }
  return tx.Commit();
}

Result<EventHead> Catalog::GetEventHead() {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt head,
                         db_.Prepare("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1"));
  CAIRN_ASSIGN_OR_RETURN(bool row, head.Step());
  if (!row) return EventHead{0, GenesisHash()};
  return EventHead{static_cast<uint64_t>(head.Int(0)), head.Blob(1)};
}

namespace {

// The first column of an events row that disagrees with its hashed record.
std::string EditedColumn(const sql::Stmt& s, const proto::Event& e) {
  if (s.Text(1) != e.id()) return "id";
  if (s.Text(2) != e.type()) return "type";
  if (s.Int(3) != e.time_unix_micros()) return "time";
  if (s.Text(4) != e.partner()) return "partner";
  if (s.Text(5) != e.object()) return "object";
  if (s.Int(6) != static_cast<int64_t>(e.version())) return "version";
  if (s.Text(7) != e.file()) return "file";
  if (s.Text(8) != e.site()) return "site";
  if (s.Text(9) != e.outcome()) return "outcome";
  if (s.Blob(10) != e.prev_hash()) return "prev_hash";
  if (s.Blob(11) != e.hash()) return "hash";
  return {};
}

}  // namespace

Result<ChainVerdict> Catalog::VerifyEvents() {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt stmt,
      db_.Prepare("SELECT seq, id, type, time, partner, object, version, file, site, outcome, "
                  "prev_hash, hash, event FROM events ORDER BY seq"));
  ChainVerdict v;
  v.head = EventHead{0, GenesisHash()};
  const auto bad = [&v](uint64_t seq, std::string problem) {
    v.ok = false;
    v.first_bad_seq = seq;
    v.problem = std::move(problem);
    return v;
  };
  while (true) {
    CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    ++v.checked;
    const uint64_t seq = static_cast<uint64_t>(stmt.Int(0));
    const uint64_t expected = v.head.seq + 1;
    if (seq != expected) {
      return bad(expected, "event " + std::to_string(expected) + " is missing (the next is " +
                               std::to_string(seq) + ")");
    }
    proto::Event e;
    if (!e.ParseFromString(stmt.Blob(12))) return bad(seq, "the event record is unreadable");
    if (e.seq() != seq) {
      return bad(seq, "holds the record of event " + std::to_string(e.seq()) + " (moved)");
    }
    if (e.prev_hash() != v.head.hash) {
      return bad(seq, "its prev_hash is not the hash of event " + std::to_string(v.head.seq) +
                          " (an event before it was removed, inserted or reordered)");
    }
    if (EventHash(e) != e.hash()) return bad(seq, "its content does not match its hash (edited)");
    if (std::string column = EditedColumn(stmt, e); !column.empty()) {
      return bad(seq, "column " + column + " differs from the hashed record (edited)");
    }
    v.head = EventHead{seq, e.hash()};
  }
  return v;
}

}  // namespace cairn::repo
