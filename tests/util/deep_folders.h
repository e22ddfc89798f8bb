// Folders nested deeper than PATH_MAX, for the tests of the rule source.path-too-long: no
// path reaches their depths, so they are made and removed through file descriptors.
#ifndef CAIRN_TESTS_UTIL_DEEP_FOLDERS_H_
#define CAIRN_TESTS_UTIL_DEEP_FOLDERS_H_

#include <boost/filesystem.hpp>
#include <string>

namespace cairn::testing {

// Makes `depth` nested folders named `name` under the folder `top` (which must exist), and a
// file deep.txt ("deep\n") in the deepest. Fails the calling test (ADD_FAILURE) if it cannot.
void MakeDeepFolders(const boost::filesystem::path& top, const std::string& name, int depth);

// Removes what MakeDeepFolders made under `top`, so that the test's folder can be removed.
void RemoveDeepFolders(const boost::filesystem::path& top, const std::string& name);

// The path, relative to `root`, of the first of the folders named `name` under `root / rel`
// whose full path is PATH_MAX long or longer: the entry a walker must refuse.
std::string FirstPathPastPathMax(const boost::filesystem::path& root, std::string rel,
                                 const std::string& name);

}  // namespace cairn::testing

#endif  // CAIRN_TESTS_UTIL_DEEP_FOLDERS_H_
