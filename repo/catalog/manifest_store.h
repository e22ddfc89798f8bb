// The SQL of repo/deposit/disk_manifest_index.h: a bag's manifest index in two tables
// of a deposit's scratch database (repo/catalog/scratch_store.h).
//
//   mi_entry: one row per distinct path of the finished manifests: id, path,
//             first line, listed mask, seen mark, collision hash, the binary
//             digests of every manifest end to end.
//   mi_tail:  the lines new in the manifest being read, merged into mi_entry
//             in path order when it ends.
//
// Every statement is prepared once. Not thread-safe: DiskManifestIndex holds
// its mutex around every call.
#ifndef CAIRN_REPO_CATALOG_MANIFEST_STORE_H_
#define CAIRN_REPO_CATALOG_MANIFEST_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "bagit/status.h"
#include "repo/catalog/scratch_store.h"

namespace cairn::repo {

class ManifestStore {
 public:
  // One row of mi_entry.
  struct Entry {
    std::string path;
    uint32_t line = 0;
    uint32_t listed = 0;
    bool seen = false;
    std::string digests;  // binary, manifest after manifest
  };

  // Creates the tables in `scratch`'s database (REQUIRES: `scratch` outlives
  // the store and has no mi_* tables yet). IOError (SQLite's message) if
  // they cannot be made.
  static Result<std::unique_ptr<ManifestStore>> Create(ScratchStore* scratch);
  ~ManifestStore();
  ManifestStore(const ManifestStore&) = delete;
  ManifestStore& operator=(const ManifestStore&) = delete;

  // Entry `id` into *entry; false if there is none.
  Result<bool> Read(int64_t id, Entry* entry);
  // The id of the entry of `path` and the entry into *entry (one lookup), or nullopt.
  Result<std::optional<int64_t>> FindEntry(std::string_view path, Entry* entry);
  Status SetListed(int64_t id, uint32_t listed, std::string_view digests);
  Status MarkSeen(int64_t id);
  // Adds a line of the manifest being read.
  Status AddTail(int64_t seq, std::string_view path, uint32_t line, std::string_view digest);
  // Calls fn(seq, path, line, digest) for the tail lines by path, then seq
  // (fn may move from path and digest, and may call InsertEntry).
  Status ForEachTail(const std::function<void(int64_t, std::string&, uint32_t, std::string&)>& fn);
  Status ClearTail();
  Status InsertEntry(int64_t id, std::string_view path, uint32_t line, uint32_t listed,
                     int64_t collision, std::string_view digests);
  // Calls fn(id, path, listed, seen) for every entry by path.
  Status ForEachEntry(const std::function<void(int64_t, const std::string&, uint32_t, bool)>& fn);
  // Calls fn(collision, id) for every entry by collision hash, then id.
  Status ForEachByCollision(const std::function<void(int64_t, int64_t)>& fn);

 private:
  struct Statements;
  ManifestStore(sql::Db* db);
  sql::Db* db_;
  std::unique_ptr<Statements> stmts_;
};

}  // namespace cairn::repo

#endif  // CAIRN_REPO_CATALOG_MANIFEST_STORE_H_
