// The repository folder's paths: see repository_layout.h.
#include "repo/site/repository_layout.h"

#include <cctype>

namespace cairn::repo::repo_layout {
namespace {

// a/b, as boost::filesystem's `/` makes it (no second slash, none after "").
std::string Join(std::string_view a, std::string_view b) {
  std::string out(a);
  if (!out.empty() && out.back() != '/') out += '/';
  out += b;
  return out;
}

}  // namespace

std::string CatalogPath(std::string_view root) { return Join(root, kCatalogFileName); }

std::string SitesDir(std::string_view root) { return Join(root, "sites"); }

std::string SiteDir(std::string_view root, std::string_view site) {
  return Join(SitesDir(root), site);
}

std::string WritersLockPath(std::string_view root) { return Join(root, "writers.lock"); }

std::string ObjectLocksDir(std::string_view root) { return Join(root, "locks"); }

std::string PartnerLocksDir(std::string_view root, std::string_view partner) {
  return Join(ObjectLocksDir(root), partner);
}

std::string ObjectLockPath(std::string_view root, std::string_view partner,
                           std::string_view object) {
  // One lock for every spelling of the id (ids are ASCII): two deposits at once as acme/Maps
  // and acme/maps then run one after the other, and the second sees the first in the catalog
  // (Catalog::NextVersion refuses it), as a site that compares names without case needs.
  std::string folded(object);
  for (char& c : folded) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return Join(PartnerLocksDir(root, partner), folded) + ".lock";
}

std::string PendingVersionPath(std::string_view root, std::string_view partner,
                               std::string_view object) {
  return Join(PartnerLocksDir(root, partner), object) + ".pending";
}

std::string AuditLockPath(std::string_view root, std::string_view site) {
  return Join(root, "audit-") + std::string(site) + ".lock";
}

std::string TmpDir(std::string_view root) { return Join(root, "tmp"); }

std::string UploadSpoolPath(std::string_view root, std::string_view request_id,
                            std::string_view extension) {
  return Join(TmpDir(root), "upload-" + std::string(request_id) + std::string(extension));
}

std::string UploadsDir(std::string_view root) { return Join(TmpDir(root), "uploads"); }

std::string DownloadSpoolPath(std::string_view root, std::string_view request_id) {
  return Join(TmpDir(root), "download-" + std::string(request_id) + ".tar");
}

}  // namespace cairn::repo::repo_layout
