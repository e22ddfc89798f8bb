// A bag received as a tar stream, checked against its own manifests as it arrives. Tag files
// are small: each is hashed with every algorithm, so that a tag manifest arriving after the
// files it lists can still be checked. Payload files are hashed only with the algorithms of the
// payload manifests, which the sender puts before them.
#include "repo/restore/restore_receive.h"

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <vector>

#include "bagit/digest.h"
#include "bagit/paths.h"
#include "bagit/report.h"
#include "bagit/tag_files.h"

namespace cairn::repo {
namespace {

using bagit::Algorithm;
using bagit::Printable;

bagit::AlgorithmSet AllAlgorithms() { return bagit::AlgorithmSet().set(); }

// path -> lower-case hex digest, for one manifest.
using Listing = std::map<std::string, std::string, std::less<>>;

std::string ManifestName(bool tag, Algorithm a) {
  return std::string(tag ? "tagmanifest-" : "manifest-") + std::string(bagit::AlgorithmName(a)) +
         ".txt";
}

class Receiver {
 public:
  Receiver(RestoreOutput& out, std::string_view source) : out_(out), source_(source) {}

  Result<ReceivedBag> Run(bagit::ArchiveReader& in) {
    bagit::ArchiveEntry entry;
    while (true) {
      CAIRN_ASSIGN_OR_RETURN(bool more, in.Next(&entry));
      if (!more) break;
      CAIRN_RETURN_IF_ERROR(Member(in, entry));
    }
    CAIRN_RETURN_IF_ERROR(CheckComplete());
    return bag_;
  }

 private:
  Status Bad(std::string_view file, std::string_view rule, const std::string& what) const {
    return Status::Corruption("restore: " + std::string(source_) + ": " +
                              (file.empty() ? std::string() : Printable(file) + ": ") + what +
                              " (rule " + std::string(rule) + ")");
  }

  // The member's path below the top folder ("" for the top folder itself).
  Result<std::string> BagPath(const bagit::ArchiveEntry& entry) {
    std::string path = entry.path;
    if (entry.type == bagit::EntryType::kDirectory) {
      while (!path.empty() && path.back() == '/') path.pop_back();
    }
    size_t slash = path.find('/');
    std::string top = path.substr(0, slash);
    if (top.empty() || top == "." || top == "..") {
      return Bad(entry.path, "restore.received-member", "not below the bag's top folder");
    }
    if (bag_.top.empty()) bag_.top = top;
    if (top != bag_.top) {
      return Bad(entry.path, "restore.received-member",
                 "outside the bag's top folder " + Printable(bag_.top));
    }
    if (slash == std::string::npos) return std::string();
    std::string rel = path.substr(slash + 1);
    Status safe = bagit::CheckBagPath(rel, "member " + Printable(entry.path));
    if (!safe.ok())
      return Status::Corruption("restore: " + std::string(source_) + ": " + safe.message());
    return rel;
  }

  Status Member(bagit::ArchiveReader& in, const bagit::ArchiveEntry& entry) {
    CAIRN_ASSIGN_OR_RETURN(std::string path, BagPath(entry));
    if (entry.type == bagit::EntryType::kDirectory) {
      // The bag's empty folders (payload and tag area) come as folder members (others are made
      // with their files).
      if (!path.empty() && path != "data") return out_.NewFolder(path);
      return Status::OK();
    }
    if (entry.type != bagit::EntryType::kFile || path.empty()) {
      return Bad(entry.path, "restore.received-member",
                 "a " + std::string(bagit::EntryTypeName(entry.type)) +
                     ", where a bag holds only files and folders");
    }
    if (bagit::IsPayloadPath(path)) path = ManifestSpelling(std::move(path));
    if (!seen_.insert(path).second) {
      return Bad(path, "restore.received-member", "arrived twice");
    }
    return bagit::IsPayloadPath(path) ? Payload(in, entry, path) : TagFile(in, entry, path);
  }

  // A payload member's name as its manifest spells it: libarchive reads a pax tar's UTF-8 names
  // back in NFC, and a bag may list NFD ones (a Mac's). A name the first payload manifest does
  // not list, or that arrived already, is taken as the one listed name, not yet arrived, with the
  // same canonical decomposition; with none, or two, it stays as it is (and is refused as
  // unlisted or as arriving twice). A bag listing both spellings of one name, whose NFD file
  // comes first, gets it under the NFC name and is refused by its digest, never misnamed.
  std::string ManifestSpelling(std::string path) {
    if (payload_manifests_.empty() || bagit::IsAscii(path)) return path;
    const Listing& listing = payload_manifests_.begin()->second;
    if (listing.contains(path) && !seen_.contains(path)) return path;
    if (!spellings_) {
      spellings_.emplace();
      for (const auto& [listed, digest] : listing) spellings_->Add(listed, listed);
    }
    std::optional<std::string> only =
        spellings_->Unique(path, [&](const std::string& listed) { return seen_.contains(listed); });
    return only ? *only : path;
  }

  // Streams the member's bytes to `target` and `hasher` (and `also`, when given).
  Status Copy(bagit::ArchiveReader& in, const bagit::ArchiveEntry& entry, const std::string& path,
              FileTarget& target, bagit::MultiHasher& hasher,
              const std::function<Status(std::span<const std::byte>)>& also = nullptr) {
    uint64_t got = 0;
    CAIRN_RETURN_IF_ERROR(in.ReadData(
        [&](std::span<const std::byte> chunk) -> Status {
          got += chunk.size();
          hasher.Update(chunk);
          if (also) CAIRN_RETURN_IF_ERROR(also(chunk));
          return target.Append(chunk);
        },
        entry.size));
    if (got != entry.size) {
      return Bad(path, "restore.received-member",
                 std::to_string(got) + " bytes arrived of the " + std::to_string(entry.size) +
                     " the stream declared");
    }
    return Status::OK();
  }

  Status Payload(bagit::ArchiveReader& in, const bagit::ArchiveEntry& entry,
                 const std::string& path) {
    payload_started_ = true;
    if (payload_manifests_.empty()) {
      return Bad(path, "restore.received-order",
                 "a payload file arrived before any payload manifest: it cannot be checked");
    }
    bagit::AlgorithmSet algorithms;
    for (const auto& [a, listing] : payload_manifests_) algorithms.set(static_cast<size_t>(a));
    for (const auto& [a, listing] : payload_manifests_) {
      if (!listing.contains(path)) {
        return Bad(path, "restore.received-unlisted",
                   "not listed in the bag's " + ManifestName(false, a));
      }
    }
    CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<FileTarget> target, out_.NewFile(path, entry.size));
    bagit::MultiHasher hasher(algorithms);
    CAIRN_RETURN_IF_ERROR(Copy(in, entry, path, *target, hasher));
    bagit::Digests got = hasher.Finish();
    for (const auto& [a, listing] : payload_manifests_) {
      const std::string& want = listing.find(path)->second;
      if (got[a] != want) {
        return Bad(path, "restore.received-digest",
                   std::string(bagit::AlgorithmName(a)) + " of the bytes received is " + got[a] +
                       ", " + ManifestName(false, a) + " says " + want);
      }
    }
    CAIRN_RETURN_IF_ERROR(target->Commit());
    ++bag_.payload_files;
    bag_.payload_bytes += entry.size;
    return Status::OK();
  }

  Status TagFile(bagit::ArchiveReader& in, const bagit::ArchiveEntry& entry,
                 const std::string& path) {
    std::optional<Algorithm> algorithm;
    bagit::TagKind kind = bagit::ClassifyTagFile(path, &algorithm);
    const bool manifest =
        (kind == bagit::TagKind::kManifest || kind == bagit::TagKind::kTagManifest) && algorithm;
    if (manifest && kind == bagit::TagKind::kManifest && payload_started_) {
      return Bad(path, "restore.received-order",
                 "a payload manifest arrived after payload files it should have checked");
    }
    const bool small = kind == bagit::TagKind::kBagitTxt || kind == bagit::TagKind::kBagInfo;
    if (small && entry.size > bagit::kMaxSmallTagFile) {
      return Bad(path, "restore.received-tag-file",
                 "larger than " + std::to_string(bagit::kMaxSmallTagFile) + " bytes");
    }
    CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<FileTarget> target, out_.NewFile(path, entry.size));
    bagit::MultiHasher hasher(AllAlgorithms());
    std::string text;  // bagit.txt, bag-info.txt
    Listing listing;
    bagit::Report findings;
    std::unique_ptr<bagit::TagTextDecoder> decoder;
    std::unique_ptr<bagit::LineSplitter> lines;
    if (manifest) {
      CAIRN_ASSIGN_OR_RETURN(decoder, bagit::TagTextDecoder::Create(encoding_));
      lines = std::make_unique<bagit::LineSplitter>([&](uint64_t n, std::string_view line) {
        auto parsed = bagit::ParseManifestLine(line, *algorithm, path, n, &findings);
        if (parsed) listing[parsed->path] = parsed->digest;
      });
    }
    std::string decoded;
    auto also = [&](std::span<const std::byte> chunk) -> Status {
      std::string_view bytes(reinterpret_cast<const char*>(chunk.data()), chunk.size());
      if (small) text.append(bytes);
      if (!manifest) return Status::OK();
      decoded.clear();
      Status fed = decoder->Feed(bytes, &decoded);
      if (fed.ok()) fed = lines->Feed(decoded);
      if (!fed.ok()) return Bad(path, "restore.received-tag-file", fed.message());
      return Status::OK();
    };
    CAIRN_RETURN_IF_ERROR(Copy(in, entry, path, *target, hasher, also));
    if (manifest) {
      Status done = decoder->Finish();
      if (done.ok()) done = lines->Finish();
      if (!done.ok()) return Bad(path, "restore.received-tag-file", done.message());
      if (!findings.valid()) {
        for (const bagit::Finding& f : findings.findings()) {
          if (f.severity == bagit::Severity::kError) {
            return Bad(path, "restore.received-tag-file",
                       "unreadable manifest: " + Printable(f.ToString()));
          }
        }
      }
      auto& into = kind == bagit::TagKind::kManifest ? payload_manifests_ : tag_manifests_;
      into[*algorithm] = std::move(listing);
    }
    if (kind == bagit::TagKind::kBagitTxt) {
      bagit::Report report;
      bagit::BagitDeclaration declared = bagit::ParseBagitTxt(text, &report);
      encoding_ = declared.encoding;
      version_ = declared.version;
      bagit_txt_ = true;
    } else if (kind == bagit::TagKind::kBagInfo) {
      bag_info_ = std::move(text);
    }
    tag_digests_[path] = hasher.Finish();
    CAIRN_RETURN_IF_ERROR(target->Commit());
    ++bag_.tag_files;
    return Status::OK();
  }

  // After the last member: everything the manifests list arrived, the tag files match their
  // tag manifests, the payload matches Payload-Oxum.
  Status CheckComplete() {
    if (!bagit_txt_) return Bad("bagit.txt", "restore.received-missing", "never arrived");
    if (payload_manifests_.empty()) {
      return Bad("", "restore.received-missing", "no payload manifest arrived");
    }
    for (const auto& [a, listing] : payload_manifests_) {
      for (const auto& [path, digest] : listing) {
        if (!seen_.contains(path)) {
          return Bad(path, "restore.received-missing",
                     "listed in " + ManifestName(false, a) + " but never arrived");
        }
      }
    }
    for (const auto& [a, listing] : tag_manifests_) {
      for (const auto& [path, digest] : listing) {
        auto got = tag_digests_.find(path);
        if (got == tag_digests_.end()) {
          return Bad(path, "restore.received-missing",
                     "listed in " + ManifestName(true, a) + " but never arrived");
        }
        if (got->second[a] != digest) {
          return Bad(path, "restore.received-digest",
                     std::string(bagit::AlgorithmName(a)) + " of the bytes received is " +
                         got->second[a] + ", " + ManifestName(true, a) + " says " + digest);
        }
      }
    }
    if (bag_info_) {
      bagit::Report report;
      auto decoder = bagit::TagTextDecoder::Create(encoding_);
      std::string decoded;
      if (decoder.ok() && (*decoder)->Feed(*bag_info_, &decoded).ok()) {
        bagit::BagInfo info = bagit::ParseBagInfo(decoded, version_, "bag-info.txt", &report);
        if (info.oxum_bytes && info.oxum_files &&
            (*info.oxum_bytes != bag_.payload_bytes || *info.oxum_files != bag_.payload_files)) {
          return Bad("bag-info.txt", "restore.received-oxum",
                     "Payload-Oxum is " + std::to_string(*info.oxum_bytes) + "." +
                         std::to_string(*info.oxum_files) + " but " +
                         std::to_string(bag_.payload_bytes) + " bytes in " +
                         std::to_string(bag_.payload_files) + " files arrived");
        }
      }
    }
    return Status::OK();
  }

  RestoreOutput& out_;
  std::string_view source_;
  ReceivedBag bag_;
  std::set<std::string, std::less<>> seen_;  // every file's bag path
  std::map<Algorithm, Listing> payload_manifests_;
  // For ManifestSpelling: the first payload manifest's names by spelling; made at the first
  // payload member it does not list.
  std::optional<bagit::SpellingIndex<std::string>> spellings_;
  std::map<Algorithm, Listing> tag_manifests_;
  std::map<std::string, bagit::Digests, std::less<>> tag_digests_;
  bool payload_started_ = false;
  bool bagit_txt_ = false;
  std::string encoding_ = "UTF-8";
  bagit::BagitVersion version_;
  std::optional<std::string> bag_info_;
};

}  // namespace

Result<ReceivedBag> ReceiveBag(bagit::ArchiveReader& in, RestoreOutput& out,
                               std::string_view source) {
  Receiver receiver(out, source);
  return receiver.Run(in);
}

}  // namespace cairn::repo
