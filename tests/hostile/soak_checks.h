// What the corruption soak (tests/hostile/soak_test.cc) checks once the daemon
// is quiet: every finding of `cairn audit report --json` matched to the
// injected faults (found, repaired, false positives, unrepairable) and to the
// PREMIS events of `cairn events --json`; and where it runs (SoakDir) and how
// big (EnvNumber).
#ifndef CAIRN_TESTS_HOSTILE_SOAK_CHECKS_H_
#define CAIRN_TESTS_HOSTILE_SOAK_CHECKS_H_

#include <unistd.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "repo/site_layout.h"
#include "tests/hostile/soak_faults.h"
#include "tests/util/test_util.h"

namespace cairn::testing {

// The whole number in environment variable `name`, or `fallback`.
inline uint64_t EnvNumber(const char* name, uint64_t fallback) {
  const char* text = std::getenv(name);
  return text && *text ? std::strtoull(text, nullptr, 10) : fallback;
}

// The soak's folder: on tmpfs (/dev/shm) when there is one, else in $TMPDIR;
// CAIRN_SOAK_TMPDIR chooses. The soak proves detection and repair, not disk
// durability (the crash suite does): on a busy ext4 disk the fsyncs of 60,000
// small files and their unlinks cost minutes that prove nothing here.
inline std::unique_ptr<TempDir> SoakDir() {
  std::string base;
  if (const char* chosen = std::getenv("CAIRN_SOAK_TMPDIR"); chosen && *chosen) {
    base = chosen;
  } else if (::access("/dev/shm", W_OK) == 0) {
    base = "/dev/shm";
  }
  if (base.empty()) return std::make_unique<TempDir>();
  const char* old = std::getenv("TMPDIR");
  std::string saved = old ? old : "";
  ::setenv("TMPDIR", base.c_str(), 1);
  auto dir = std::make_unique<TempDir>();
  if (old) {
    ::setenv("TMPDIR", saved.c_str(), 1);
  } else {
    ::unsetenv("TMPDIR");
  }
  return dir;
}

struct SoakTally {
  std::set<std::string> found;     // hit copies with a corrupt, missing or damaged finding
  std::set<std::string> repaired;  // hit copies with a finding marked repaired
  std::vector<std::string> false_positives;  // corrupt/missing/damaged on a copy not hit
  std::vector<std::string> wrong_kind;  // corrupt for a lost copy, or missing for a damaged one
  std::vector<std::string> stray_unavailable;  // unavailable on a site that was never offline
  std::vector<std::string> no_event;           // a finding or repair without its PREMIS event
  size_t findings = 0;                         // corrupt + missing + damaged findings
  size_t unavailable = 0;                      // unavailable findings (offline site)
};

// The site key a finding names: its blob, or its tag file when (partner,
// object, version, path) is one of `tag_keys`.
inline std::string FindingKey(const nlohmann::json& f, const std::set<std::string>& tag_keys) {
  if (!f["partner"].get<std::string>().empty() && f["version"].get<uint32_t>() > 0) {
    std::string tag =
        repo::layout::VersionPrefix(f["partner"].get<std::string>(), f["object"].get<std::string>(),
                                    f["version"].get<uint32_t>()) +
        f["path"].get<std::string>();
    if (tag_keys.count(tag)) return tag;
  }
  return repo::layout::BlobKey(f["sha256"].get<std::string>());
}

// "site|partner|object|version|file": how a finding and its event meet.
inline std::string EventKey(const nlohmann::json& j, const std::string& file_field) {
  auto text = [&](const char* name) { return j.contains(name) ? j[name].get<std::string>() : ""; };
  return text("site") + "|" + text("partner") + "|" + text("object") + "|" +
         std::to_string(j.contains("version") ? j["version"].get<uint32_t>() : 0) + "|" +
         text(file_field.c_str());
}

// Matches `findings` (audit report --json) to the faults and to the events
// (events --json): fixity-check failures and recovery successes.
inline SoakTally Tally(const nlohmann::json& findings, const nlohmann::json& events,
                       const std::map<std::string, Expected>& hits,
                       const std::set<std::string>& tag_keys, const std::string& offline_site) {
  std::multiset<std::string> failures, recoveries;
  for (const auto& e : events) {
    if (e["type"] == "fixity check" && e["outcome"] == "failure")
      failures.insert(EventKey(e, "file"));
    if (e["type"] == "recovery" && e["outcome"] == "success")
      recoveries.insert(EventKey(e, "file"));
  }
  SoakTally t;
  for (const auto& f : findings) {
    std::string kind = f["kind"];
    std::string site = f["site"];
    if (kind == "unavailable") {
      ++t.unavailable;
      if (site != offline_site) t.stray_unavailable.push_back(f.dump());
      continue;
    }
    if (kind != "corrupt" && kind != "missing" && kind != "damaged") continue;
    ++t.findings;
    std::string id = FaultInjector::Id(site, FindingKey(f, tag_keys));
    auto hit = hits.find(id);
    if (hit == hits.end()) {
      t.false_positives.push_back(id + ": " + f.dump());
      continue;
    }
    t.found.insert(id);
    if ((kind == "corrupt" && hit->second != Expected::kCorrupt) ||
        (kind == "missing" && hit->second != Expected::kMissing)) {
      t.wrong_kind.push_back(id + ": " + f.dump());
    }
    std::string key = EventKey(f, "path");
    if (!failures.count(key)) t.no_event.push_back("fixity check failure for " + f.dump());
    if (f["repaired"].get<bool>()) {
      t.repaired.insert(id);
      if (!recoveries.count(key)) t.no_event.push_back("recovery success for " + f.dump());
    }
  }
  return t;
}

}  // namespace cairn::testing

#endif  // CAIRN_TESTS_HOSTILE_SOAK_CHECKS_H_
