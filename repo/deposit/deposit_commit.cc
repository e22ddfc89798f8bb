// The commit half of a deposit, once the ingest found the bag good: tag files
// on the first site (plus manifest-sha256.txt when the bag had none), then
// version.pb LAST, then ONE catalog transaction (object, version, files, tag
// files, replicas on the first site, events, replication jobs). The manifest,
// version.pb and the catalog rows are written from the deposit's scratch file
// by file: none is ever whole in memory.
#include "repo/deposit/deposit_commit.h"

#include <span>

#include "bagit/paths.h"
#include "proto/version.pb.h"
#include "repo/events/event_types.h"
#include "repo/site_layout.h"
#include "repo/storage/sha256_stream.h"

namespace cairn::repo::deposit_internal {
namespace {

// Output is handed on in chunks of about this size.
constexpr size_t kRecordChunk = 256 * 1024;
// Protocol Buffers wire type of a length-delimited field (a message).
constexpr uint32_t kWireLengthDelimited = 2;

void AppendVarint(uint64_t value, std::string* out) {
  while (value >= 0x80) {
    out->push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out->push_back(static_cast<char>(value));
}

proto::Event MakeEvent(const EventType& type, const CommitPlan& plan, std::string detail) {
  return NewEvent(type, {.agent_version = plan.agent_version,
                         .user = plan.depositor,
                         .role = plan.role,
                         .partner = plan.partner,
                         .object = plan.object,
                         .version = plan.version,
                         .site = plan.first_site,
                         .outcome = "success",
                         .detail = std::move(detail)});
}

// A tag file Cairn generated, held in memory until committed.
void AddGeneratedTagFile(Ingest* ingest, std::string_view name, std::string bytes) {
  StagedTagFile& file = ingest->tags.emplace_back();
  file.name = std::string(name);
  file.size = bytes.size();
  file.sha256 =
      bagit::HashBytes(bytes, bagit::Only(bagit::Algorithm::kSha256))[bagit::Algorithm::kSha256];
  file.bytes = std::move(bytes);
  file.cairn_added = true;
}

// Adds manifest-sha256.txt when the depositor's bag has none: it maps payload
// paths to blobs on the site. The manifest goes from the scratch to the site
// in chunks.
Status AddSha256Manifest(Site& site, const std::string& site_name, Ingest* ingest,
                         std::vector<std::string>* added) {
  for (const StagedTagFile& t : ingest->tags) {
    if (t.name == "manifest-sha256.txt") return Status::OK();
  }
  Result<std::unique_ptr<BlobWriter>> writer = site.NewBagFileWriter();
  if (!writer.ok()) return writer.status().WithContext("site " + site_name);
  StagedTagFile& manifest = ingest->tags.emplace_back();
  manifest.name = "manifest-sha256.txt";
  manifest.cairn_added = true;
  manifest.writer = std::move(writer).value();
  bagit::ByteSource teed = TeeSource(
      ManifestSource(ingest->scratch.get(), bagit::Algorithm::kSha256, bagit::AlgorithmSet()),
      manifest.writer.get(), site_name, &manifest.sha256, &manifest.size);
  CAIRN_RETURN_IF_ERROR(teed([](std::span<const std::byte>) { return Status::OK(); }));
  added->push_back(manifest.name);
  return Status::OK();
}

// Cairn's own tag files of the version, each listed in cairn-added.txt (which a restore and the
// site README's recipe remove with them): manifest-sha256.txt when the bag has none, and
// cairn-empty-folders.txt when it has empty folders (which its manifests cannot list: version.pb
// keeps them, the list says them to a person rebuilding the bag with coreutils alone).
Status AddCairnTagFiles(Site& site, const std::string& site_name, Ingest* ingest,
                        std::vector<std::string>* added) {
  CAIRN_RETURN_IF_ERROR(AddSha256Manifest(site, site_name, ingest, added));
  if (!ingest->contents->empty_folders.empty()) {
    std::string list;
    for (const std::string& folder : ingest->contents->empty_folders) {
      list += bagit::EncodeManifestPath(folder) + "\n";
    }
    AddGeneratedTagFile(ingest, layout::kEmptyFoldersListName, std::move(list));
    added->push_back(std::string(layout::kEmptyFoldersListName));
  }
  if (added->empty()) return Status::OK();
  std::string names;
  for (const std::string& name : *added) names += name + "\n";
  AddGeneratedTagFile(ingest, layout::kCairnAddedListName, std::move(names));
  return Status::OK();
}

// Writes version.pb to the site from the scratch, write-once; its size and
// SHA-256 go to *entry.
Status PutVersionRecord(Site& site, const CommitPlan& plan, const proto::VersionRecord& record,
                        Ingest* ingest, TagFileEntry* entry) {
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<BlobWriter> writer, site.NewBagFileWriter());
  Sha256Stream hash;
  uint64_t size = 0;
  Status s = StreamVersionRecord(record, ingest->scratch.get(), [&](std::string_view bytes) {
    auto span = std::as_bytes(std::span<const char>(bytes.data(), bytes.size()));
    hash.Update(span);
    size += bytes.size();
    return writer->Append(span);
  });
  if (!s.ok()) {
    writer->Abort();
    return s;
  }
  std::string sha256 = hash.FinishHex();
  if (plan.before_version_record) {
    s = plan.before_version_record(sha256);
    if (!s.ok()) {
      writer->Abort();
      return s;
    }
  }
  CAIRN_RETURN_IF_ERROR(
      site.CommitVersionRecord(*writer, plan.partner, plan.object, plan.version, sha256));
  *entry = TagFileEntry{0, std::string(layout::kVersionRecordName), size, std::move(sha256)};
  return Status::OK();
}

}  // namespace

Result<int64_t> CommitVersion(Catalog& catalog, Site& site, const CommitPlan& plan, Ingest* ingest,
                              CommitSummary* summary) {
  CAIRN_RETURN_IF_ERROR(AddCairnTagFiles(site, plan.first_site, ingest, &summary->cairn_added));
  // Tag files, write-once: the deposit removed what a killed earlier run of
  // this version number left (deposit.cc), so a file already there with other
  // bytes is refused, never replaced.
  for (StagedTagFile& tag : ingest->tags) {
    Status s;
    if (tag.writer) {
      s = site.CommitTagFile(*tag.writer, plan.partner, plan.object, plan.version, tag.name,
                             tag.sha256);
      tag.writer.reset();
    } else if (tag.bytes) {
      s = site.PutTagFile(plan.partner, plan.object, plan.version, tag.name, *tag.bytes);
    }
    if (!s.ok()) return s.WithContext("site " + plan.first_site + ": tag file " + tag.name);
    tag.bytes.reset();  // stored; its size and digest are all the catalog needs
  }

  // version.pb and the catalog rows are written from the scratch, file by
  // file: nothing here grows with the file count.
  NewVersion nv;
  const uint64_t bytes = ingest->payload_bytes;
  {
    proto::VersionRecord record;
    record.set_partner(plan.partner);
    record.set_object(plan.object);
    record.set_version(plan.version);
    record.set_depositor(plan.depositor);
    record.set_created_unix_micros(plan.created_micros);
    record.set_agent_version(plan.agent_version);
    record.set_file_count(ingest->file_count);
    record.set_payload_bytes(bytes);
    for (const std::string& folder : ingest->contents->empty_folders) {
      record.add_empty_folders(folder);
    }
    for (const StagedTagFile& tag : ingest->tags) {
      proto::TagFile* tf = record.add_tag_files();
      tf->set_name(tag.name);
      tf->set_size(tag.size);
      tf->set_sha256(tag.sha256);
      nv.tag_files.push_back(TagFileEntry{0, tag.name, tag.size, tag.sha256});
    }
    TagFileEntry entry;
    Status s = PutVersionRecord(site, plan, record, ingest, &entry);
    if (!s.ok()) return s.WithContext("site " + plan.first_site + ": version.pb");
    summary->wrote_version_record = true;
    nv.tag_files.push_back(std::move(entry));
  }

  nv.partner = plan.partner;
  nv.object = plan.object;
  nv.version = plan.version;
  nv.depositor = plan.depositor;
  nv.created_micros = plan.created_micros;
  DepositScratch* scratch = ingest->scratch.get();
  // In digest order: see NewVersion::file_source.
  nv.file_source = [scratch](const std::function<Status(const FileEntry&)>& insert) {
    FileEntry entry;
    return scratch->ForEachFile(
        [&](const IngestedFile& f) {
          entry.path = f.path;
          entry.size = f.size;
          entry.sha256 = f.sha256;
          return insert(entry);
        },
        DepositScratch::Order::kDigest);
  };
  nv.file_count = ingest->file_count;
  nv.payload_bytes = bytes;
  nv.empty_folders = ingest->contents->empty_folders;
  nv.stored_on = {plan.first_site};
  nv.fixity_interval_micros = plan.fixity_interval_micros;
  nv.listed_rule = plan.listed_rule;

  std::string algorithms;
  const bagit::ManifestIndex& index = *ingest->contents->manifests;
  for (int m = 0; m < index.manifest_count(); ++m) {
    if (!algorithms.empty()) algorithms += ", ";
    algorithms += std::string(bagit::AlgorithmName(index.manifest_algorithm(m)));
  }
  ingest->contents.reset();  // the parsed manifests are not needed any more
  std::string what =
      std::to_string(ingest->file_count) + " payload files, " + std::to_string(bytes) + " bytes";
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
  for (proto::Event& e :
       BlobRepairEvents(ingest->repairs, plan.partner, plan.object, plan.version, plan.first_site,
                        plan.depositor, plan.role, plan.agent_version)) {
    nv.events.push_back(std::move(e));
  }
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
  summary->new_items = nv.new_items;
  return version_id;
}

Status StreamVersionRecord(const proto::VersionRecord& record, DepositScratch* scratch,
                           const std::function<Status(std::string_view)>& out) {
  static_assert(
      proto::VersionRecord::kFileCountFieldNumber < proto::VersionRecord::kFilesFieldNumber &&
          proto::VersionRecord::kPayloadBytesFieldNumber <
              proto::VersionRecord::kFilesFieldNumber &&
          proto::VersionRecord::kTagFilesFieldNumber > proto::VersionRecord::kFilesFieldNumber &&
          proto::VersionRecord::kAgentVersionFieldNumber >
              proto::VersionRecord::kFilesFieldNumber &&
          proto::VersionRecord::kEmptyFoldersFieldNumber > proto::VersionRecord::kFilesFieldNumber,
      "the split below assumes files lies between these fields");
  // Protocol Buffers write the fields of a message in field-number order, so
  // the serialization is: the fields before `files`, each file as one
  // length-delimited field, then the fields after `files`.
  proto::VersionRecord head = record;
  head.clear_files();
  head.clear_tag_files();
  head.clear_agent_version();
  head.clear_empty_folders();
  proto::VersionRecord tail;
  *tail.mutable_tag_files() = record.tag_files();
  tail.set_agent_version(record.agent_version());
  *tail.mutable_empty_folders() = record.empty_folders();

  std::string chunk;
  if (!head.AppendToString(&chunk)) return Status::IOError("cannot serialize version.pb");
  const uint32_t files_tag =
      (static_cast<uint32_t>(proto::VersionRecord::kFilesFieldNumber) << 3) | kWireLengthDelimited;
  proto::VersionFile entry;
  std::string entry_bytes;
  CAIRN_RETURN_IF_ERROR(scratch->ForEachFile([&](const IngestedFile& f) -> Status {
    entry.set_path(f.path);
    entry.set_size(f.size);
    entry.set_sha256(f.sha256);
    entry_bytes.clear();
    if (!entry.AppendToString(&entry_bytes)) return Status::IOError("cannot serialize version.pb");
    AppendVarint(files_tag, &chunk);
    AppendVarint(entry_bytes.size(), &chunk);
    chunk += entry_bytes;
    if (chunk.size() < kRecordChunk) return Status::OK();
    Status s = out(chunk);
    chunk.clear();
    return s;
  }));
  if (!tail.AppendToString(&chunk)) return Status::IOError("cannot serialize version.pb");
  return out(chunk);
}

void AbandonIngest(Catalog& catalog, Site& site, Repository::WriterLock& lock, Ingest* ingest) {
  for (StagedTagFile& tag : ingest->tags) {
    if (tag.writer) tag.writer->Abort();
    tag.writer.reset();
  }
  if (ingest->committed) return;
  // Another deposit in flight may hold one of these blobs as "already there"
  // and commit it later: remove nothing then (cairn gc will, once it is safe).
  if (!lock.TryExclusive()) return;
  (void)ingest->scratch->ForEachCreatedBlob([&](const std::string& sha256) {
    // A blob the catalog references was stored by another deposit meanwhile.
    if (catalog.BlobExists(sha256)) return;
    (void)site.RemoveUnreferencedBlob(sha256);
  });
}

std::vector<proto::Event> BlobRepairEvents(const std::vector<BlobRepair>& repairs,
                                           const std::string& partner, const std::string& object,
                                           uint32_t version, const std::string& site,
                                           const std::string& user, const std::string& role,
                                           const std::string& agent_version) {
  std::vector<proto::Event> events;
  for (const BlobRepair& r : repairs) {
    EventFields fields{.agent_version = agent_version,
                       .user = user,
                       .role = role,
                       .partner = partner,
                       .object = object,
                       .version = version,
                       .file = r.path,
                       .site = site};
    fields.outcome = "failure";
    fields.detail = "sha256 " + r.sha256 + ": found by a deposit: " + r.damaged;
    events.push_back(NewEvent(kFixityCheck, fields));
    fields.outcome = "success";
    fields.detail = "sha256 " + r.sha256 + ": replaced on site " + site +
                    " with the depositor's bytes of " + r.path +
                    ", which hash to the blob's name (the deposit's own read)";
    events.push_back(NewEvent(kRecovery, std::move(fields)));
  }
  return events;
}

}  // namespace cairn::repo::deposit_internal
