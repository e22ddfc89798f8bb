// The fault injector of the corruption soak (tests/hostile/soak_test.cc): it
// damages copies on a site through the site's own storage backend (posix or
// S3), so the same code flips bits in a file and in an S3 object, and records
// which copies it hit and what an auditor must call each of them.
//
//   SoakSite a{"a", std::move(backend)};
//   ASSERT_TRUE(a.Load());                  // every blob and tag file key on the site
//   FaultInjector injector(seed, {&a, &b, &s3});
//   injector.FolderLoss(); injector.Single(FaultKind::kBitFlip); ...
//   injector.hits()                         // "site|key" -> expected finding
#ifndef CAIRN_TESTS_HOSTILE_SOAK_FAULTS_H_
#define CAIRN_TESTS_HOSTILE_SOAK_FAULTS_H_

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "repo/site_layout.h"
#include "repo/storage/backend.h"
#include "tests/util/assert_ok.h"

namespace cairn::testing {

enum class FaultKind { kBitFlip, kTruncate, kDelete, kFolderLoss, kOffline };

inline const char* FaultKindName(FaultKind kind) {
  switch (kind) {
    case FaultKind::kBitFlip:
      return "bit flip";
    case FaultKind::kTruncate:
      return "truncation";
    case FaultKind::kDelete:
      return "deletion";
    case FaultKind::kFolderLoss:
      return "whole-folder loss";
    case FaultKind::kOffline:
      return "offline site";
  }
  return "?";
}

// One site and the keys of every copy it held before any fault.
struct SoakSite {
  std::string name;
  std::unique_ptr<repo::StorageBackend> backend;
  std::map<std::string, uint64_t> sizes;  // blob and tag file keys -> size

  // Lists blobs/ and bags/. False (with a test failure) if the site cannot be listed.
  bool Load() {
    sizes.clear();
    for (const char* prefix : {"blobs/", "bags/"}) {
      Status listed = backend->List(prefix, [&](const repo::ObjectInfo& info) {
        sizes[info.key] = info.size;
        return Status::OK();
      });
      if (!listed.ok()) {
        ADD_FAILURE() << "site " << name << ": " << listed.ToString();
        return false;
      }
    }
    return true;
  }
};

// What the auditor must report for a damaged copy.
enum class Expected { kCorrupt, kMissing };

class FaultInjector {
 public:
  FaultInjector(uint64_t seed, std::vector<SoakSite*> sites) : rng_(seed), sites_(sites) {}

  // Removes one whole folder of a random site that holds no copy hit before, nor
  // one whose copies on every other site are hit:
  // a first-level blob fan-out folder ("blobs/sha256/ab/") or one version's
  // tag folder ("bags/P/O/vN/"), alternately.
  void FolderLoss() {
    for (int attempt = 0; attempt < 100; ++attempt) {
      SoakSite& site = *sites_[Pick(sites_.size())];
      std::string key = RandomKey(site, folder_losses_ % 2 == 1);
      std::string prefix = key.substr(0, Cut(key));
      std::vector<std::string> keys;
      for (auto it = site.sizes.lower_bound(prefix);
           it != site.sizes.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
        keys.push_back(it->first);
      }
      // Clean: no copy in it hit before, and none whose every other copy is hit (a folder lost
      // on every site would leave each object a blob with nothing to repair it from: seed
      // 1065147007 lost blobs/sha256/98/ on all three sites, and no version was restorable).
      bool clean = true;
      for (const std::string& k : keys) {
        size_t hit_elsewhere = 0;
        for (const SoakSite* other : sites_) {
          if (other != &site) hit_elsewhere += hits_.count(Id(other->name, k));
        }
        clean = clean && !hits_.count(Id(site.name, k)) && hit_elsewhere + 1 < sites_.size();
      }
      if (!clean) continue;
      for (const std::string& k : keys) {
        Status removed = site.backend->Remove(k);
        ASSERT_OK(removed) << site.name << " " << k << ": " << removed.ToString();
        hits_[Id(site.name, k)] = Expected::kMissing;
      }
      ++folder_losses_;
      Count(FaultKind::kFolderLoss, keys.size());
      return;
    }
    ADD_FAILURE() << "found no whole folder left to remove";
  }

  // A bit flip, truncation or deletion of one copy not hit before, on a
  // random site (a tag file with probability 1/8, else a blob). `key` and
  // `site` force the copy (for a copy lost on every site).
  void Single(FaultKind kind, std::string key = "", SoakSite* site = nullptr) {
    for (int attempt = 0; key.empty() && attempt < 100; ++attempt) {
      site = sites_[Pick(sites_.size())];
      std::string k = RandomKey(*site, Pick(8) == 0);
      if (!hits_.count(Id(site->name, k))) key = k;
    }
    ASSERT_FALSE(key.empty()) << "no copy left to damage";
    repo::StorageBackend& backend = *site->backend;
    if (kind == FaultKind::kDelete) {
      ASSERT_OK(backend.Remove(key)) << key;
    } else {
      Result<std::string> bytes = backend.ReadAll(key);
      ASSERT_OK(bytes) << site->name << " " << key << ": " << bytes.status().ToString();
      ASSERT_FALSE(bytes->empty()) << key;
      std::string damaged = *bytes;
      if (kind == FaultKind::kBitFlip) {
        damaged[Pick(damaged.size())] ^= static_cast<char>(1u << Pick(8));
      } else {
        damaged.resize(Pick(damaged.size()));  // 0 .. size-1 bytes
      }
      // Blobs are write-once: remove first, then write the damaged bytes.
      ASSERT_OK(backend.Remove(key)) << key;
      Status put = backend.Put(key, damaged);
      ASSERT_OK(put) << site->name << " " << key << ": " << put.ToString();
    }
    hits_[Id(site->name, key)] =
        kind == FaultKind::kDelete ? Expected::kMissing : Expected::kCorrupt;
    Count(kind, 1);
  }

  // One blob damaged on every site (a random single fault on each): nothing
  // is left to repair it from. Returns its key.
  std::string LoseEverywhere() {
    std::string key;
    for (int attempt = 0; key.empty() && attempt < 100; ++attempt) {
      std::string k = RandomKey(*sites_[0], false);
      bool clean = true;
      for (SoakSite* s : sites_) clean = clean && s->sizes.count(k) && !hits_.count(Id(s->name, k));
      if (clean) key = k;
    }
    for (SoakSite* s : sites_) {
      Single(static_cast<FaultKind>(Pick(3)), key, s);
    }
    return key;
  }

  void CountOffline() { Count(FaultKind::kOffline, 0); }

  // "site|key" of every copy hit -> what the auditor must call it.
  const std::map<std::string, Expected>& hits() const { return hits_; }
  // Faults injected by kind, and copies each kind hit.
  const std::map<FaultKind, size_t>& faults() const { return faults_; }
  const std::map<FaultKind, size_t>& copies() const { return copies_; }
  size_t total_faults() const {
    size_t n = 0;
    for (const auto& [kind, count] : faults_) n += count;
    return n;
  }

  static std::string Id(const std::string& site, const std::string& key) {
    return site + "|" + key;
  }

 private:
  size_t Pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }

  // A random blob key (tag = false) or tag file key of `site`.
  std::string RandomKey(const SoakSite& site, bool tag) {
    auto first = site.sizes.lower_bound(tag ? "bags/" : "blobs/");
    auto last = tag ? site.sizes.end() : site.sizes.lower_bound("blobs0");
    size_t n = std::distance(first, last);
    if (n == 0) return "";
    std::advance(first, Pick(n));
    return first->first;
  }

  // Where the folder of `key` ends: "blobs/sha256/ab/" or "bags/P/O/vN/".
  static size_t Cut(const std::string& key) {
    size_t depth = key.compare(0, 6, "blobs/") == 0 ? 3 : 4;
    size_t at = 0;
    for (size_t i = 0; i < depth; ++i) at = key.find('/', at) + 1;
    return at;
  }

  void Count(FaultKind kind, size_t copies) {
    ++faults_[kind];
    copies_[kind] += copies;
  }

  std::mt19937_64 rng_;
  std::vector<SoakSite*> sites_;
  std::map<std::string, Expected> hits_;
  std::map<FaultKind, size_t> faults_;
  std::map<FaultKind, size_t> copies_;
  size_t folder_losses_ = 0;
};

}  // namespace cairn::testing

#endif  // CAIRN_TESTS_HOSTILE_SOAK_FAULTS_H_
