// version.pb written as a stream: the record's files come one by one from the
// deposit's scratch, so a version of a million files is never whole in memory.
#include <string>

#include "proto/version.pb.h"
#include "repo/deposit_commit.h"

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

}  // namespace

Status StreamVersionRecord(const proto::VersionRecord& record, DepositScratch* scratch,
                           const std::function<Status(std::string_view)>& out) {
  static_assert(
      proto::VersionRecord::kFileCountFieldNumber < proto::VersionRecord::kFilesFieldNumber &&
          proto::VersionRecord::kPayloadBytesFieldNumber <
              proto::VersionRecord::kFilesFieldNumber &&
          proto::VersionRecord::kTagFilesFieldNumber > proto::VersionRecord::kFilesFieldNumber &&
          proto::VersionRecord::kAgentVersionFieldNumber > proto::VersionRecord::kFilesFieldNumber,
      "the split below assumes files lies between these fields");
  // Protocol Buffers write the fields of a message in field-number order, so
  // the serialization is: the fields before `files`, each file as one
  // length-delimited field, then the fields after `files`.
  proto::VersionRecord head = record;
  head.clear_files();
  head.clear_tag_files();
  head.clear_agent_version();
  proto::VersionRecord tail;
  *tail.mutable_tag_files() = record.tag_files();
  tail.set_agent_version(record.agent_version());

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

}  // namespace cairn::repo::deposit_internal
