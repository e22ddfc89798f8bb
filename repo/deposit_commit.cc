// The commit half of a deposit, once the ingest found the bag good: tag files
// on the first site (plus manifest-sha256.txt when the bag had none), then
// version.pb LAST, then ONE catalog transaction (object, version, files, tag
// files, replicas on the first site, events, replication jobs).
#include "repo/deposit_commit.h"

#include <algorithm>
#include <numeric>

#include "bagit/paths.h"
#include "proto/version.pb.h"
#include "repo/events/event_types.h"
#include "repo/site_layout.h"

namespace cairn::repo::deposit_internal {
namespace {

proto::Event MakeEvent(const EventType& type, const CommitPlan& plan, std::string detail) {
  proto::Event e;
  e.set_type(std::string(type.label));
  e.set_type_uri(EventTypeUri(type));
  e.set_agent("cairn");
  e.set_agent_version(plan.agent_version);
  e.set_user(plan.depositor);
  e.set_partner(plan.partner);
  e.set_object(plan.object);
  e.set_version(plan.version);
  e.set_site(plan.first_site);
  e.set_outcome("success");
  e.set_detail(std::move(detail));
  return e;
}

// Adds manifest-sha256.txt (and the list of Cairn's additions) when the
// depositor's bag has none: it maps payload paths to blobs on the site.
void AddSha256Manifest(Ingest* ingest, std::vector<std::string>* added) {
  for (const StagedTagFile& t : ingest->tags) {
    if (t.name == "manifest-sha256.txt") return;
  }
  std::vector<size_t> order(ingest->files.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return ingest->files[a].path < ingest->files[b].path; });
  std::string text;
  for (size_t i : order) {
    text +=
        ingest->files[i].sha256 + "  " + bagit::EncodeManifestPath(ingest->files[i].path) + "\n";
  }
  auto add = [&](std::string name, std::string bytes) {
    StagedTagFile& tag = ingest->tags.emplace_back();
    tag.name = std::move(name);
    tag.size = bytes.size();
    tag.sha256 =
        bagit::HashBytes(bytes, bagit::Only(bagit::Algorithm::kSha256))[bagit::Algorithm::kSha256];
    tag.bytes = std::move(bytes);
    tag.cairn_added = true;
  };
  add("manifest-sha256.txt", std::move(text));
  added->push_back("manifest-sha256.txt");
  add(std::string(layout::kCairnAddedListName), "manifest-sha256.txt\n");
}

}  // namespace

Result<int64_t> CommitVersion(Catalog& catalog, Site& site, const CommitPlan& plan, Ingest* ingest,
                              CommitSummary* summary) {
  AddSha256Manifest(ingest, &summary->cairn_added);
  // Tag files, each replacing whatever an interrupted earlier run left.
  for (StagedTagFile& tag : ingest->tags) {
    Status s;
    if (tag.writer) {
      s = tag.writer->Commit(layout::TagFileKey(plan.partner, plan.object, plan.version, tag.name));
      tag.writer.reset();
    } else if (tag.bytes) {
      s = site.PutTagFile(plan.partner, plan.object, plan.version, tag.name, *tag.bytes);
    }
    if (!s.ok()) return s.WithContext("site " + plan.first_site + ": tag file " + tag.name);
    tag.bytes.reset();  // stored; its size and digest are all the catalog needs
  }

  std::sort(ingest->files.begin(), ingest->files.end(),
            [](const IngestedFile& a, const IngestedFile& b) { return a.path < b.path; });
  // The memory of a deposit of 200,000 files is freed step by step below: the
  // record once written, the files once handed to the catalog's NewVersion.
  NewVersion nv;
  uint64_t bytes = 0;
  {
    proto::VersionRecord record;
    record.set_partner(plan.partner);
    record.set_object(plan.object);
    record.set_version(plan.version);
    record.set_depositor(plan.depositor);
    record.set_created_unix_micros(plan.created_micros);
    record.set_agent_version(plan.agent_version);
    for (const IngestedFile& f : ingest->files) {
      proto::VersionFile* vf = record.add_files();
      vf->set_path(f.path);
      vf->set_size(f.size);
      vf->set_sha256(f.sha256);
      bytes += f.size;
    }
    record.set_file_count(ingest->files.size());
    record.set_payload_bytes(bytes);
    for (const StagedTagFile& tag : ingest->tags) {
      proto::TagFile* tf = record.add_tag_files();
      tf->set_name(tag.name);
      tf->set_size(tag.size);
      tf->set_sha256(tag.sha256);
      nv.tag_files.push_back(TagFileEntry{0, tag.name, tag.size, tag.sha256});
    }
    std::string record_bytes;
    if (!record.SerializeToString(&record_bytes)) {
      return Status::IOError("cannot serialize version.pb");
    }
    Status s = site.PutVersionRecord(plan.partner, plan.object, plan.version, record_bytes);
    if (!s.ok()) return s.WithContext("site " + plan.first_site + ": version.pb");
    nv.tag_files.push_back(TagFileEntry{
        0, std::string(layout::kVersionRecordName), record_bytes.size(),
        bagit::HashBytes(record_bytes,
                         bagit::Only(bagit::Algorithm::kSha256))[bagit::Algorithm::kSha256]});
  }

  nv.partner = plan.partner;
  nv.object = plan.object;
  nv.version = plan.version;
  nv.depositor = plan.depositor;
  nv.created_micros = plan.created_micros;
  nv.files.reserve(ingest->files.size());
  for (IngestedFile& f : ingest->files) {
    nv.files.push_back(FileEntry{std::move(f.path), f.size, std::move(f.sha256)});
  }
  nv.stored_on = {plan.first_site};
  nv.fixity_interval_micros = plan.fixity_interval_micros;

  std::string algorithms;
  const bagit::ManifestIndex& index = ingest->contents->manifests;
  for (int m = 0; m < index.manifest_count(); ++m) {
    if (!algorithms.empty()) algorithms += ", ";
    algorithms += std::string(bagit::AlgorithmName(index.manifest_algorithm(m)));
  }
  ingest->contents.reset();  // the parsed manifests are not needed any more
  std::string what =
      std::to_string(ingest->files.size()) + " payload files, " + std::to_string(bytes) + " bytes";
  nv.events.push_back(MakeEvent(kIngestion, plan,
                                "deposited " + what + " from " + ingest->kind + " " + plan.source +
                                    "; stored on site " + plan.first_site));
  nv.events.push_back(MakeEvent(kValidation, plan,
                                "valid BagIt " + ingest->report.version + " bag (RFC 8493)" +
                                    (plan.profile.empty() ? "" : ", profile " + plan.profile) +
                                    ", policy of partner " + plan.partner));
  nv.events.push_back(MakeEvent(kMessageDigestCalculation, plan,
                                "sha256 (blob keys) and manifest digests (" + algorithms + ") of " +
                                    what + ", each read once, match the manifests"));
  for (const std::string& target : plan.replicate_to) {
    proto::Job job;
    job.set_kind(proto::JOB_KIND_REPLICATE);
    job.set_partner(plan.partner);
    job.set_object(plan.object);
    job.set_version(plan.version);
    job.set_source_site(plan.first_site);
    job.set_target_site(target);
    nv.jobs.push_back(std::move(job));
  }
  summary->payload_bytes = bytes;
  CAIRN_ASSIGN_OR_RETURN(int64_t version_id, catalog.InsertVersion(nv));
  return version_id;
}

void AbandonIngest(Catalog& catalog, StorageBackend& site, Ingest* ingest) {
  for (StagedTagFile& tag : ingest->tags) {
    if (tag.writer) tag.writer->Abort();
    tag.writer.reset();
  }
  for (const std::string& sha256 : ingest->new_blobs) {
    // A blob the catalog references was stored by another deposit meanwhile.
    if (catalog.BlobExists(sha256)) continue;
    (void)site.Remove(layout::BlobKey(sha256));
  }
  ingest->new_blobs.clear();
}

}  // namespace cairn::repo::deposit_internal
