// Test helpers for restore, list, show and usage: build a small bag in memory
// and store it in a real repository (posix sites, SQLite catalog) through the
// Site and Catalog APIs, the way a deposit leaves it (blobs, tag files, then
// version.pb, then one catalog transaction). Header-only, for tests.
#ifndef CAIRN_REPO_RESTORE_RESTORE_TEST_UTIL_H_
#define CAIRN_REPO_RESTORE_RESTORE_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "bagit/digest.h"
#include "bagit/paths.h"
#include "proto/version.pb.h"
#include "repo/site/repository.h"
#include "repo/site_layout.h"
#include "repo/storage/sha256_stream.h"
#include "tests/util/assert_ok.h"

namespace cairn::testing {

using repo::Catalog;
using repo::FileEntry;
using repo::NewVersion;
using repo::Repository;
using repo::Sha256Hex;
using repo::TagFileEntry;

// A bag held in memory: payload path -> bytes, tag file name -> bytes.
struct MemoryBag {
  std::map<std::string, std::string> payload;
  std::map<std::string, std::string> tags;
};

// A valid BagIt 1.0 bag of `payload` with bagit.txt, bag-info.txt (with
// Payload-Oxum), manifest-sha256.txt and tagmanifest-sha256.txt.
inline MemoryBag MakeBag(std::map<std::string, std::string> payload) {
  MemoryBag bag;
  bag.payload = std::move(payload);
  bag.tags["bagit.txt"] = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n";
  uint64_t bytes = 0;
  std::string manifest;
  for (const auto& [path, content] : bag.payload) {
    bytes += content.size();
    manifest += Sha256Hex(content) + "  " + bagit::EncodeManifestPath(path) + "\n";
  }
  bag.tags["manifest-sha256.txt"] = manifest;
  bag.tags["bag-info.txt"] = "Source-Organization: Test\nPayload-Oxum: " + std::to_string(bytes) +
                             "." + std::to_string(bag.payload.size()) + "\n";
  std::string tagmanifest;
  for (const auto& [name, content] : bag.tags)
    tagmanifest += Sha256Hex(content) + "  " + name + "\n";
  bag.tags["tagmanifest-sha256.txt"] = tagmanifest;
  return bag;
}

// Stores `bag` as the next version of partner/object on `sites` (blobs, tag
// files and a version.pb made from `bag` written through Site, one catalog
// transaction with replicas ok on those sites). Adds the partner when it is new. Returns the
// version number.
inline uint32_t StoreBag(Repository& repo, const std::string& partner, const std::string& object,
                         const MemoryBag& bag, const std::vector<std::string>& sites = {"a", "b"}) {
  Catalog& catalog = repo.catalog();
  if (!catalog.GetPartner(partner).ok()) {
    EXPECT_OK(catalog.AddPartner(partner, partner));
  }
  auto next = catalog.NextVersion(partner, object);
  EXPECT_OK(next);
  NewVersion v;
  v.partner = partner;
  v.object = object;
  v.version = next.value();
  v.depositor = "tester";
  v.stored_on = sites;
  for (const std::string& name : sites) {
    auto site = repo.OpenSite(name);
    EXPECT_OK(site);
    for (const auto& [path, content] : bag.payload) {
      Status s = site.value()->PutBlob(Sha256Hex(content), content);
      EXPECT_OK(s);
    }
    for (const auto& [tag, content] : bag.tags) {
      Status s = site.value()->PutTagFile(partner, object, v.version, tag, content);
      EXPECT_OK(s);
    }
  }
  proto::VersionRecord record;
  record.set_partner(partner);
  record.set_object(object);
  record.set_version(v.version);
  record.set_depositor(v.depositor);
  record.set_file_count(bag.payload.size());
  for (const auto& [path, content] : bag.payload) {
    v.files.push_back(FileEntry{path, content.size(), Sha256Hex(content)});
    proto::VersionFile* f = record.add_files();
    f->set_path(path);
    f->set_size(content.size());
    f->set_sha256(Sha256Hex(content));
    record.set_payload_bytes(record.payload_bytes() + content.size());
  }
  for (const auto& [tag, content] : bag.tags) {
    v.tag_files.push_back(TagFileEntry{0, tag, content.size(), Sha256Hex(content)});
    proto::TagFile* t = record.add_tag_files();
    t->set_name(tag);
    t->set_size(content.size());
    t->set_sha256(Sha256Hex(content));
  }
  const std::string record_bytes = record.SerializeAsString();
  for (const std::string& name : sites) {
    auto site = repo.OpenSite(name);
    Status s = site.ok() ? site.value()->PutVersionRecord(partner, object, v.version, record_bytes)
                         : site.status();
    EXPECT_OK(s);
  }
  v.tag_files.push_back(TagFileEntry{0, std::string(repo::layout::kVersionRecordName),
                                     record_bytes.size(), Sha256Hex(record_bytes)});
  auto inserted = catalog.InsertVersion(v);
  EXPECT_OK(inserted);
  return v.version;
}

// The posix file that holds `key` on site `site` of a repository made by Init.
inline std::string SiteFile(const Repository& repo, const std::string& site,
                            const std::string& key) {
  return repo.root() + "/sites/" + site + "/" + key;
}

}  // namespace cairn::testing

#endif  // CAIRN_REPO_RESTORE_RESTORE_TEST_UTIL_H_
