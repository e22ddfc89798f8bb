// The SQLite side of a deposit's scratch file (repo/deposit/deposit_scratch.h): one
// small database per deposit, thrown away when it ends, holding the payload
// files stored (table `files`, clustered on the path), the payload files met
// before the bag's manifests (`held`) and, through ManifestStore
// (repo/catalog/manifest_store.h), the index of the bag's manifests (mi_*).
//
// Settings: no journal, no fsync, an exclusive lock, a page cache of 512 KiB
// (it bounds the deposit's memory: rows spill to the file), temporary tables
// in the file. Everything is written in ONE transaction that is never
// committed: the file is removed after the deposit.
//
// Not thread-safe: the caller serialises calls.
#ifndef CAIRN_REPO_CATALOG_SCRATCH_STORE_H_
#define CAIRN_REPO_CATALOG_SCRATCH_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "bagit/status.h"
#include "repo/catalog/sqlite.h"

namespace cairn::repo {

// One payload file as stored: its bag path, size and SHA-256 (the blob key).
struct ScratchFile {
  std::string path;  // decoded, bag-relative: "data/a.txt"
  uint64_t size = 0;
  std::string sha256;
  std::string other_digests;  // as given to AddFile ("" if none)
};

class ScratchStore {
 public:
  // Opens the database file at `path` (made, empty, by the caller), applies
  // the settings above, makes the tables and begins the transaction.
  static Result<std::unique_ptr<ScratchStore>> Open(const std::string& path);
  ~ScratchStore();
  ScratchStore(const ScratchStore&) = delete;
  ScratchStore& operator=(const ScratchStore&) = delete;

  // Records one stored payload file. AlreadyExists if `path` was recorded before (a blob it
  // `created` is still kept for ForEachCreatedBlob).
  Status AddFile(std::string_view path, uint64_t size, std::string_view sha256, bool created,
                 std::string_view other_digests);
  // The order ForEachFile gives the files in: by path (byte order), or by
  // SHA-256 (then path), the order of the catalog's digest-keyed indexes.
  enum class Order { kPath, kDigest };
  // Calls fn for every file in `order`; stops at, and returns, the first
  // error fn returns.
  Status ForEachFile(const std::function<Status(const ScratchFile&)>& fn,
                     Order order = Order::kPath);
  // Keeps a payload file met before the manifests: path, size, digests (text).
  Status HoldPayload(std::string_view path, uint64_t size, std::string_view digests);
  // Calls fn(path, size, digests) for every held file, in the order held.
  Status ForEachHeld(
      const std::function<void(const std::string&, uint64_t, const std::string&)>& fn);
  // Renames a file recorded by AddFile; AlreadyExists if `to` is recorded too.
  Status RenameFile(std::string_view from, std::string_view to);
  // Calls fn(sha256) for every blob given to AddFile with `created`, once each.
  Status ForEachCreatedBlob(const std::function<void(const std::string&)>& fn);

  const std::string& path() const { return db_.path(); }

 private:
  friend class ManifestStore;  // its tables live in the same database
  explicit ScratchStore(sql::Db db) : db_(std::move(db)) {}
  sql::Db db_;
  std::optional<sql::Stmt> insert_;  // AddFile's insert (destroyed before db_)
  std::optional<sql::Stmt> hold_;    // HoldPayload's insert
  std::optional<sql::Stmt> twice_;   // AddFile's insert of a blob created for a path met twice
};

}  // namespace cairn::repo

#endif  // CAIRN_REPO_CATALOG_SCRATCH_STORE_H_
