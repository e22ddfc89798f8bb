// WriteFull: every byte in order, whatever the size (large writes go through
// the thread's bounce buffer piece by piece), into a file and into a pipe.
#include "bagit/fd_io.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "tests/util/test_util.h"

namespace cairn {
namespace {

using cairn::testing::TempDir;

std::string Pattern(size_t size) {
  std::string s(size, '\0');
  for (size_t i = 0; i < size; ++i) s[i] = static_cast<char>((i * 131 + i / 4099) & 0xff);
  return s;
}

std::span<const std::byte> Bytes(const std::string& s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

TEST(WriteFullTest, SmallAndLargeWritesReachTheFileInOrder) {
  TempDir tmp;
  const std::string path = (tmp.path() / "out").string();
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  // Below, at and above the bounce size, and not a multiple of it.
  const std::string a = Pattern(1000), b = Pattern(kWriteBounce),
                    c = Pattern(3 * kWriteBounce + 12345), d = Pattern(kWriteBounce + 1);
  for (const std::string* s : {&a, &b, &c, &d}) EXPECT_EQ(WriteFull(fd, Bytes(*s)), 0);
  ASSERT_EQ(::close(fd), 0);
  std::string back;
  fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  std::string buffer(1 << 16, '\0');
  for (ssize_t n; (n = ::read(fd, buffer.data(), buffer.size())) > 0;) back.append(buffer, 0, n);
  ::close(fd);
  EXPECT_TRUE(back == a + b + c + d) << back.size() << " bytes read back";
}

TEST(WriteFullTest, LargeWriteThroughAPipeArrivesWholeAndAFailureIsReported) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  const std::string data = Pattern(5 * kWriteBounce + 7);
  std::string received;
  std::thread reader([&] {
    std::string buffer(4096, '\0');  // small reads: the writer waits on a full pipe
    for (ssize_t n; (n = ::read(pipe_fds[0], buffer.data(), buffer.size())) > 0;) {
      received.append(buffer, 0, n);
    }
  });
  EXPECT_EQ(WriteFull(pipe_fds[1], Bytes(data)), 0);
  ::close(pipe_fds[1]);
  reader.join();
  ::close(pipe_fds[0]);
  EXPECT_TRUE(received == data) << received.size() << " bytes received";
  EXPECT_EQ(WriteFull(-1, Bytes(data)), EBADF);
}

}  // namespace
}  // namespace cairn
