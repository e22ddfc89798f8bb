// The one walk over a bag, for every flow that reads one: validation hashes
// what it is handed, deposit stores it as it hashes. A bag is a folder (an
// lstat walk: no link is ever followed) or a serialized bag (.tar, .tar.gz,
// .tgz, .zip) read once, front to back, through libarchive and never
// extracted. The walker drives a BagChecker (the RFC 8493 rules) and hands
// each file's bytes to a BagSink, each read once.
//
// What may be in a bag's tree is decided here, and only here: symbolic and
// hard links, devices, fifos and sockets are refused by name and never read;
// archive members that could leave the bag (absolute, "..", outside the bag's
// folder, see ArchiveBagRoot) likewise; a member is never read past its
// declared size (an inflating member); tag files that come before bagit.txt
// in an archive are held up to 64 MiB; an archive is not read on once a tag
// file over its size limit was refused (the bag is invalid whatever follows).
//
// Order: tag files first (bagit.txt before the others), then payload. In an
// archive, members come in the archive's order: payload files that come
// before the manifests are hashed with every algorithm and checked at the
// end; a payload manifest that comes after payload files already checked is
// an error (archive.manifest-after-payload: those files were not checked
// against it).
#ifndef CAIRN_BAGIT_BAG_WALKER_H_
#define CAIRN_BAGIT_BAG_WALKER_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>

#include "bagit/archive.h"
#include "bagit/bag_checker.h"
#include "bagit/digest.h"
#include "bagit/report.h"
#include "bagit/status.h"

namespace cairn::bagit {

// A ByteSource over a local regular file (never through a symlink), in
// kReadChunk reads. Errors name the file.
ByteSource LocalFileSource(const std::string& path);

// A payload file handed to a sink.
struct PayloadEntry {
  std::string_view path;  // bag-relative, "data/..."
  // The file on disk when the bag is a folder (for a sink with a faster way to
  // read a whole local file); nullptr for an archive member.
  const std::string* local_path = nullptr;
  // Its bytes; may be read once, during the call only.
  const ByteSource* source = nullptr;
  // A folder's file: its size when listed; an archive member: its declared
  // size (0 when the archive does not say).
  uint64_t size = 0;
};

// What a flow does with the bytes the walker reads.
class BagSink {
 public:
  virtual ~BagSink() = default;

  // Tag file `path` is about to be read by the checker: returns the source
  // the checker reads it through (a sink may tee `source` elsewhere). An
  // error stops the walk and is returned. Default: `source` itself.
  virtual Result<ByteSource> TagFile(std::string_view path, ByteSource source);

  // What became of one payload file.
  struct PayloadRead {
    Status unreadable;  // the source could not be read: the walker reports it
    FileDigests file;   // its size and digests, when `unreadable` is OK
    // The sink read the bytes but hashes them later (an archive's member, on
    // another thread): `file` is empty and the result comes back, as a held
    // one does, from ForEachHeldPayload.
    bool deferred = false;
  };
  // Reads payload file `entry` once, hashing it with `algorithms`.
  // `manifests_known` is false for an archive member that comes before the
  // payload manifests (then `algorithms` is all six and the walker holds the
  // result to check it at the end, see HoldPayload). An error of the source
  // goes to PayloadRead::unreadable (the walker reports payload.unreadable in a
  // folder, archive.damaged in an archive); a non-OK Status is the sink's own
  // failure and stops the walk. Called from several threads at once for a
  // folder's payload.
  virtual Result<PayloadRead> PayloadFile(const PayloadEntry& entry, AlgorithmSet algorithms,
                                          bool manifests_known) = 0;

  // Keeps the result of a payload file read before the manifests were known
  // until the end of the archive, then gives each back once. Default: in memory.
  virtual Status HoldPayload(std::string_view path, uint64_t size, const Digests& digests);
  using HeldPayload = std::function<void(const std::string& path, uint64_t size, const Digests&)>;
  virtual Status ForEachHeldPayload(const HeldPayload& fn);
  // A payload file the sink read as `from` is the bag's `to` (an archive member
  // whose name libarchive gave in another Unicode normalization than its
  // manifest line's: BagChecker::ArchiveMemberName). Called after the walk, for
  // held files only (the others are renamed before the sink sees them).
  // Default: nothing kept by name, nothing to do.
  virtual Status RenamePayload(std::string_view from, std::string_view to);

  // True when `s`, returned by reading a tag file through the source TagFile
  // gave, is the sink's own failure (a storage site), not the bag's: the walk
  // stops and returns it. Default: never.
  virtual bool IsSinkError(const Status& s) const;

 private:
  struct Held {
    std::string path;
    uint64_t size;
    Digests digests;
  };
  std::deque<Held> held_;
};

// Validation's sink: hashes each payload file, keeps nothing but its digests.
// A folder's file is read by HashFile; when there is nothing to hash with (no
// payload manifest) it is not read at all.
class HashingSink : public BagSink {
 public:
  Result<PayloadRead> PayloadFile(const PayloadEntry& entry, AlgorithmSet algorithms,
                                  bool manifests_known) override;
};

class BagWalker {
 public:
  // `checker` records the rule findings into `report` (the checker's own);
  // none is owned.
  BagWalker(BagChecker* checker, BagSink* sink, Report* report)
      : checker_(checker), sink_(sink), report_(report) {}

  // Walks the bag folder `root` (no trailing '/') and finishes the checker.
  // Payload files go to the sink in batches, on `threads` workers (0: one per
  // core). Returns non-OK only when the walk could not run (`root` cannot be
  // listed) or the sink failed; every finding about the bag is in the report.
  Status WalkFolder(const std::string& root, unsigned threads);

  // Walks a serialized bag member by member and finishes the checker (unless
  // it stopped early at an oversized tag file). Returns non-OK only when the
  // sink failed; a damaged archive is a finding (archive.damaged).
  //
  // `ahead`, if given, is a second reader of the same archive, opened fresh. Where it skips
  // unread bytes by seeking (ArchiveReader::SeeksPastData) and the archive has tag files after
  // payload files (`cairn bag create --format tar` writes its manifests last), their bytes
  // are read from it first (up to 64 MiB in all), so that every payload member is hashed only
  // with the manifests' algorithms and checked as it streams, as when the manifests come first.
  // Each tag file is still read once: the main walk skips them, and finds the archive
  // changed (archive.changed) if its tag members are not the ones read ahead.
  Status WalkArchive(ArchiveReader* reader, ArchiveReader* ahead = nullptr);

 private:
  BagChecker* checker_;
  BagSink* sink_;
  Report* report_;
};

}  // namespace cairn::bagit

#endif  // CAIRN_BAGIT_BAG_WALKER_H_
