// libFuzzer target: reading a serialized bag. The input is an archive (tar,
// tar.gz, zip, ...) given to the whole archive validator (bagit::
// ValidateBagArchive), which walks every member through libarchive and every
// tag file through the parsers. The bytes sit in a memfd, named by its
// /proc/self/fd path, so nothing touches the disk. Built only with
// -DCAIRN_FUZZ=ON (clang).
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "bagit/validator.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  int fd = memfd_create("fuzz-archive", MFD_CLOEXEC);
  if (fd < 0) return 0;
  size_t done = 0;
  while (done < size) {
    ssize_t n = write(fd, data + done, size - done);
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  cairn::bagit::ValidateOptions options;
  (void)cairn::bagit::ValidateBagArchive("/proc/self/fd/" + std::to_string(fd), options);
  close(fd);
  return 0;
}
