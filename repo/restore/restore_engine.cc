// Copies a bag's files from the sites into a RestoreOutput, verifying each
// file's size and SHA-256 before it is committed, falling back from site to
// site, on a small pool of worker threads.
#include "repo/restore/restore_engine.h"

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "bagit/digest.h"
#include "bagit/paths.h"

namespace cairn::repo {
namespace {

constexpr const char* kSiteNotOpened = "the site could not be opened";

struct Attempt {
  std::string site;
  CopyOutcome outcome;
  std::string detail;
};

// Reads `item` from `site` into `target`. Returns the copy's outcome in
// `attempt`; a non-OK Status only for a local write failure (fatal).
Status TryCopy(const RestoreItem& item, const std::string& site_name, Site* site,
               FileTarget& target, Attempt* attempt) {
  attempt->site = site_name;
  if (site == nullptr) {
    attempt->outcome = CopyOutcome::kUnavailable;
    attempt->detail = kSiteNotOpened;
    return Status::OK();
  }
  bagit::MultiHasher hasher(bagit::Only(bagit::Algorithm::kSha256));
  Status local;
  // One byte more than expected reveals a copy that is too long.
  Status read = site->Read(item.key, 0, item.size + 1, [&](std::span<const std::byte> chunk) {
    hasher.Update(chunk);
    if (hasher.bytes() > item.size) return Status::OK();  // corrupt; keep the output clean
    local = target.Append(chunk);
    return local;
  });
  if (!local.ok()) return local;
  uint64_t got = hasher.bytes();
  if (read.IsNotFound()) {
    attempt->outcome = CopyOutcome::kMissing;
    attempt->detail = "not found (" + item.key + ")";
  } else if (read.IsCorruption()) {
    attempt->outcome = CopyOutcome::kCorrupt;
    attempt->detail = read.message();
  } else if (!read.ok()) {
    attempt->outcome = CopyOutcome::kUnavailable;
    attempt->detail = read.ToString();
  } else if (got != item.size) {
    attempt->outcome = CopyOutcome::kCorrupt;
    attempt->detail =
        got > item.size
            ? "longer than the " + std::to_string(item.size) + " bytes recorded"
            : std::to_string(got) + " bytes, " + std::to_string(item.size) + " recorded";
  } else {
    std::string digest = hasher.Finish()[bagit::Algorithm::kSha256];
    if (digest != item.sha256) {
      attempt->outcome = CopyOutcome::kCorrupt;
      attempt->detail = "sha256 of the bytes read is " + digest;
    } else {
      attempt->outcome = CopyOutcome::kOk;
    }
  }
  return Status::OK();
}

Status NoGoodCopy(const RestoreItem& item, const std::vector<Attempt>& attempts) {
  // attempts[i] is item.sites[i]'s. Named: the sites the catalog records a copy on, and any
  // other that gave wrong bytes; a site tried by key only that lacks the file or is down says
  // nothing of it. When the catalog records no copy at all, every site tried is named.
  std::vector<const Attempt*> named;
  for (size_t i = 0; i < attempts.size(); ++i) {
    if (i < item.recorded_sites || attempts[i].outcome == CopyOutcome::kCorrupt) {
      named.push_back(&attempts[i]);
    }
  }
  if (named.empty()) {
    for (const Attempt& a : attempts) named.push_back(&a);
  }
  std::string outcomes, down;
  bool damaged = false, opened = false;
  for (const Attempt* a : named) {
    outcomes += (outcomes.empty() ? "site " : "; site ") + a->site + ": " +
                std::string(CopyOutcomeName(a->outcome));
    if (!a->detail.empty()) outcomes += " (" + a->detail + ")";
    damaged = damaged || a->outcome != CopyOutcome::kUnavailable;
    opened = opened || a->detail != kSiteNotOpened;
    down += (down.empty() ? "" : ", ") + a->site;
  }
  const std::string digest = "sha256 " + item.sha256 + ", " + std::to_string(item.size) + " bytes";
  if (named.empty()) {
    return Status::Corruption("no good copy of " + item.path + " (" + digest +
                              "): no site holds a copy");
  }
  if (damaged) {
    // Damage was found; a site that could not be read may still hold a good copy (the copy a
    // repair would take): said, so that this does not read as the file lost.
    std::string away;
    for (const Attempt* a : named) {
      if (a->outcome == CopyOutcome::kUnavailable) away += (away.empty() ? "" : ", ") + a->site;
    }
    if (!away.empty()) {
      const bool one = away.find(',') == std::string::npos;
      outcomes += (one ? "; site " : "; sites ") + away + " could not be read and may hold " +
                  (one ? "a good copy: retry when it is back" : "good copies: retry when back");
    }
    return Status::Corruption("no good copy of " + item.path + " (" + digest + "): " + outcomes);
  }
  // Nothing was found wrong: the sites holding it are down.
  return Status::Unavailable("no site holding a copy of " + item.path + " could be " +
                             (opened ? "read" : "opened") + " (" + down +
                             "); retry when they are back (" + digest + ": " + outcomes + ")");
}

class Copier {
 public:
  Copier(const std::vector<RestoreItem>& items,
         const std::map<std::string, Site*, std::less<>>& sites, RestoreOutput& out)
      : items_(items), sites_(sites), out_(out) {}

  void Run(unsigned threads) {
    if (!out_.parallel()) threads = 1;
    // Tag files first, in order, so archives start with bagit.txt.
    size_t first_payload = 0;
    while (first_payload < items_.size() && items_[first_payload].tag_file) {
      CopyOne(items_[first_payload++]);
    }
    next_ = first_payload;
    std::vector<std::thread> workers;
    for (unsigned i = 1; i < threads; ++i) workers.emplace_back([this] { Work(); });
    Work();
    for (auto& w : workers) w.join();
  }

  RestoreRun run;

 private:
  void Work() {
    for (size_t i = next_++; i < items_.size(); i = next_++) {
      if (failed_.load()) return;
      CopyOne(items_[i]);
    }
  }

  void CopyOne(const RestoreItem& item) {
    if (failed_.load()) return;
    Status s = CopyItem(item);
    if (!s.ok()) Fail(s);
  }

  void Fail(const Status& s) {
    std::lock_guard lock(mu_);
    if (!failed_.exchange(true)) run.status = s;
  }

  Status CopyItem(const RestoreItem& item) {
    CAIRN_RETURN_IF_ERROR(bagit::CheckBagPath(item.path, "restore entry"));
    CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<FileTarget> target, out_.NewFile(item.path, item.size));
    std::vector<Attempt> attempts;
    for (const std::string& name : item.sites) {
      if (!attempts.empty()) CAIRN_RETURN_IF_ERROR(target->Reset());
      auto it = sites_.find(name);
      Attempt attempt;
      CAIRN_RETURN_IF_ERROR(
          TryCopy(item, name, it == sites_.end() ? nullptr : it->second, *target, &attempt));
      if (attempt.outcome == CopyOutcome::kOk) {
        // A failed commit (a local write, or a check of the output) still
        // leaves the bad copies met on the way recorded for repair.
        Status committed = target->Commit();
        Record(item, attempts, committed.ok() ? name : "");
        return committed;
      }
      attempts.push_back(std::move(attempt));
    }
    Record(item, attempts, "");
    return NoGoodCopy(item, attempts);
  }

  void Record(const RestoreItem& item, const std::vector<Attempt>& attempts,
              const std::string& good_site) {
    std::lock_guard lock(mu_);
    for (const Attempt& a : attempts) {
      run.problems.push_back(CopyProblem{item.path, item.key, item.sha256, item.tag_file, a.site,
                                         a.outcome, a.detail});
    }
    if (good_site.empty() || item.check_only) return;
    run.files_from_site[good_site]++;
    if (item.tag_file) {
      run.tag_files++;
    } else {
      run.payload_files++;
      run.payload_bytes += item.size;
    }
  }

  const std::vector<RestoreItem>& items_;
  const std::map<std::string, Site*, std::less<>>& sites_;
  RestoreOutput& out_;
  std::atomic<size_t> next_{0};
  std::atomic<bool> failed_{false};
  std::mutex mu_;
};

}  // namespace

std::string_view CopyOutcomeName(CopyOutcome outcome) {
  switch (outcome) {
    case CopyOutcome::kOk:
      return "ok";
    case CopyOutcome::kCorrupt:
      return "corrupt";
    case CopyOutcome::kMissing:
      return "missing";
    case CopyOutcome::kUnavailable:
      return "unavailable";
  }
  return "unknown";
}

Status CheckRestoreItems(const std::vector<RestoreItem>& items) {
  std::set<std::string_view> seen;
  for (const RestoreItem& item : items) {
    std::string where = item.tag_file ? "tag file entry" : "payload file entry";
    CAIRN_RETURN_IF_ERROR(bagit::CheckBagPath(item.path, "restore: catalog " + where));
    if (item.path == "data" || bagit::IsPayloadPath(item.path) != !item.tag_file) {
      return Status::InvalidArgument("restore: catalog " + where + " '" + item.path + "' " +
                                     (item.tag_file
                                          ? "lies below data/ (rule tag-file.in-payload)"
                                          : "is not below data/ (rule payload.outside-data)"));
    }
    if (item.sha256.size() != 64 ||
        item.sha256.find_first_not_of("0123456789abcdef") != std::string::npos) {
      return Status::InvalidArgument("restore: catalog " + where + " '" + item.path +
                                     "' has a malformed sha256 '" + item.sha256 + "'");
    }
    if (!seen.insert(item.path).second) {
      return Status::InvalidArgument("restore: catalog lists '" + item.path + "' twice");
    }
  }
  return Status::OK();
}

RestoreRun CopyItems(const std::vector<RestoreItem>& items,
                     const std::map<std::string, Site*, std::less<>>& sites, RestoreOutput& out,
                     unsigned threads) {
  Copier copier(items, sites, out);
  copier.Run(threads == 0 ? 4 : threads);
  return std::move(copier.run);
}

}  // namespace cairn::repo
