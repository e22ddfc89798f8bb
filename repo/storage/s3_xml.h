// A deliberately small reader for the few S3 XML answers Cairn parses
// (ListObjectsV2, ListMultipartUploads, InitiateMultipartUpload, CopyObject
// results and error documents). These documents are flat and machine-made: it
// finds elements by exact name, never evaluates DTDs, and decodes the five
// predefined entities and numeric character references.
#ifndef CAIRN_REPO_STORAGE_S3_XML_H_
#define CAIRN_REPO_STORAGE_S3_XML_H_

#include <string>
#include <string_view>
#include <vector>

namespace cairn::repo {

// The raw inner text of every <tag>...</tag> (also <tag attr="..">...</tag>)
// in `xml`, in order. Elements named `tag` must not nest in themselves.
std::vector<std::string_view> XmlElements(std::string_view xml, std::string_view tag);

// The decoded text of the first <tag> in `xml`; "" if there is none.
std::string XmlText(std::string_view xml, std::string_view tag);

// Decodes &amp; &lt; &gt; &quot; &apos; &#N; &#xH; (UTF-8 out). An unknown or
// broken entity is kept as written.
std::string XmlDecode(std::string_view text);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_STORAGE_S3_XML_H_
