// The README.txt written at the top of every site (layout::SiteReadmeText).
// tests/site/readme_restore_test.cc follows these words with a shell script:
// change them together.
#include "repo/site_layout.h"

namespace cairn::repo::layout {

namespace {

// The text, with @NAME@ where the layout versions differ (filled in by SiteReadmeText).
constexpr std::string_view kReadmeTemplate = R"README(This is a Cairn preservation storage site
=========================================

Cairn keeps BagIt bags (RFC 8493) for the partners of a consortium. This site
can be read without Cairn: every bag it holds can be rebuilt with a shell and
the GNU coreutils alone. The full layout is described in Cairn's repo/FORMAT.md.

What is here
------------
  CAIRN-SITE                         site id, layout version ("cairn-site @VERSION@") and
                                     the id of the one repository it belongs to
  README.txt                         this file
@BLOBS_ENTRY@
  bags/PARTNER/OBJECT/vN/            the tag files of version N of one bag, byte for
                                     byte as deposited: bagit.txt, bag-info.txt,
                                     manifest-sha256.txt, tagmanifest-*.txt, ...
  bags/PARTNER/OBJECT/vN/version.pb  Cairn's own record of the version (not part
                                     of the bag: do not copy it)
  bags/PARTNER/OBJECT/vN/cairn-added.txt  only when Cairn added tag files to the
                                     bag (see step 4): their names, one a line
  bags/PARTNER/OBJECT/vN/cairn-empty-folders.txt  only when the bag has
                                     empty folders (see step 3), which Cairn
                                     added
  bags/PARTNER/OBJECT/vN/WITHDRAWN   only for a withdrawn version: a tombstone
                                     (who asked, who approved, when, why); never
                                     rebuild a bag from a folder that holds one
  events/FIRST-LAST.pb               the preservation event log (Cairn's format)
  settings/KIND/NAME/VERSION.pb      the consortium's settings (partners, policies,
                                     sites without secrets, audit schedules, trusted
                                     witness keys), so that Cairn's catalog can be
                                     rebuilt from this site alone; the highest
                                     VERSION of a NAME holds
  tmp/                               unfinished writes; never part of a bag

A version is complete on this site when its version.pb exists. A version
folder without version.pb is a deposit that stopped before it finished: it
was never acknowledged; ignore it, never rebuild a bag from it. Version
numbers may skip one (v1, v3): a number is never given to two versions.

A version folder that holds WITHDRAWN was withdrawn by its partner: skip it.
Its content must not be given back, even where its files are still here
(a purge removes them after writing the tombstone on every site; files it
shares with other versions stay for those). WITHDRAWN is plain text, one
"Name: value" a line: the partner, object, version, reason, whether the bytes
are purged, who requested it and who approved it, with the times.

How to rebuild a bag by hand
----------------------------
Pick the version folder, e.g. bags/acme/photos-1998/v2 (one that holds
version.pb and no WITHDRAWN), and a new, empty destination folder. Then:

1. Copy the tag files: every file of the version folder except version.pb.
   (Every version on a site has a manifest-sha256.txt: it maps each payload
   path to its blob.)

     SITE=/path/to/this/site
     VERSION=bags/acme/photos-1998/v2
     DEST=/path/to/rebuilt-bag
     mkdir -p "$DEST"
     cp -r "$SITE/$VERSION/." "$DEST/"
     rm "$DEST/version.pb"

2. Copy the payload, checking each file as it is copied. Each line of
   manifest-sha256.txt is a SHA-256 digest, white space, and a payload path
   (data/...). The payload file is the blob named by that digest:
   @BLOB_PATH_WORDS@. In a path, "%0A" stands
   for a line feed, "%0D" for a carriage return and "%25" for "%" (decode %25
   last). Blob names are in lower case.

     while IFS= read -r line; do
       line=${line%$'\r'}
       digest=${line%%[ 	]*}
       digest=${digest,,}
       path=${line#*[ 	]}
       path=${path#"${path%%[! 	]*}"}
       path=${path#\*}
       path=${path//%0A/$'\n'}; path=${path//%0a/$'\n'}
       path=${path//%0D/$'\r'}; path=${path//%0d/$'\r'}
       path=${path//%25/%}
       mkdir -p "$DEST/${path%/*}"
       cp "$SITE/@BLOB_PATH_SHELL@" "$DEST/$path"
       if [ "$(sha256sum < "$DEST/$path" | cut -c1-64)" = "$digest" ]; then
         echo "OK: $path"
       else
         echo "FAILED: $path"
       fi
     done < "$DEST/manifest-sha256.txt"

3. Make the bag's empty folders. Its manifests list files only, so when the
   bag has empty folders Cairn lists them in cairn-empty-folders.txt: the
   deepest ones (each implies the folders above it), one path a line, encoded
   as the paths of step 2.

     if [ -f "$DEST/cairn-empty-folders.txt" ]; then
       while IFS= read -r path; do
         path=${path%$'\r'}
         path=${path//%0A/$'\n'}; path=${path//%0a/$'\n'}
         path=${path//%0D/$'\r'}; path=${path//%0d/$'\r'}
         path=${path//%25/%}
         mkdir -p "$DEST/$path"
       done < "$DEST/cairn-empty-folders.txt"
     fi

   (A version deposited before Cairn wrote this list has its empty folders
   in version.pb only, which coreutils cannot read.)

4. Remove what Cairn added. When the depositor's bag had no
   manifest-sha256.txt, Cairn wrote one (step 2 needs it); when it had empty
   folders, Cairn wrote the list of step 3. Each is listed in
   cairn-added.txt; removing the files listed there, and that list, gives
   the bag exactly as it was deposited.

     if [ -f "$DEST/cairn-added.txt" ]; then
       while IFS= read -r added; do
         rm "$DEST/$added"
       done < "$DEST/cairn-added.txt"
       rm "$DEST/cairn-added.txt"
     fi

5. Check the tag files with the bag's tag manifests (every line must say OK):

     cd "$DEST"
     for tagmanifest in tagmanifest-*.txt; do
       algorithm=${tagmanifest#tagmanifest-}
       "${algorithm%.txt}sum" -c "$tagmanifest"
     done

   When no payload path holds "%", `sha256sum -c manifest-sha256.txt` (or
   md5sum, sha1sum, sha512sum with the bag's other manifests) checks the
   payload once more in one command. A "%" in a manifest path is always
   percent-encoded, which those tools do not decode; step 2 checked those
   files already.

Every blob can also be audited on its own: the SHA-256 of each file under
blobs/sha256/ is its own name.

     cd "$SITE/blobs/sha256" && for f in @BLOB_GLOB@; do
       [ "$(sha256sum < "$f" | cut -c1-64)" = "${f##*/}" ] || echo "DAMAGED: $f"
     done
)README";

void Fill(std::string& text, std::string_view name, std::string_view value) {
  const std::string mark = "@" + std::string(name) + "@";
  for (size_t at = text.find(mark); at != std::string::npos; at = text.find(mark, at)) {
    text.replace(at, mark.size(), value);
    at += value.size();
  }
}

}  // namespace

std::string SiteReadmeText(int layout_version) {
  std::string text(kReadmeTemplate);
  const bool two_levels = layout_version == 1;
  Fill(text, "VERSION", std::to_string(layout_version));
  Fill(text, "BLOBS_ENTRY",
       two_levels
           ? "  blobs/sha256/ab/cd/abcd...         every payload file, named by the SHA-256 of\n"
             "                                     its bytes (first 2 hex digits / next 2 / all 64)"
           : "  blobs/sha256/ab/abcd...            every payload file, named by the SHA-256 of\n"
             "                                     its bytes (first 2 hex digits / all 64)");
  Fill(text, "BLOB_PATH_WORDS",
       two_levels ? "blobs/sha256/<first 2 hex>/<next 2 hex>/<digest>"
                  : "blobs/sha256/<first 2 hex>/<digest>");
  Fill(text, "BLOB_PATH_SHELL",
       two_levels ? "blobs/sha256/${digest:0:2}/${digest:2:2}/$digest"
                  : "blobs/sha256/${digest:0:2}/$digest");
  Fill(text, "BLOB_GLOB", two_levels ? "*/*/*" : "*/*");
  return text;
}

}  // namespace cairn::repo::layout
