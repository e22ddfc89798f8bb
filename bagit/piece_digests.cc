#include "bagit/piece_digests.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <span>
#include <thread>

#include "bagit/fd_io.h"

namespace cairn::bagit {
namespace {

// Each read fills one slot; a slot stays in the L2 cache of the core that
// read it while both hashes go over it.
constexpr size_t kSlotBytes = 256 << 10;
constexpr size_t kSlots = 4;

// The slots handed from the reading thread to the piece thread. Slot n % kSlots
// holds read number n; the reader reuses it once the piece thread is done with
// it (and it has hashed it itself, which it does before reading on).
struct Ring {
  std::mutex mu;
  std::condition_variable filled;  // a read was published, or the reads ended
  std::condition_variable freed;   // the piece thread finished a slot
  std::array<size_t, kSlots> length{};
  uint64_t published = 0;  // reads published so far
  uint64_t pieced = 0;     // reads the piece thread has finished
  bool ended = false;      // no read will be published any more
};

struct FreeDeleter {
  void operator()(std::byte* p) const { std::free(p); }
};

// The piece thread: hashes every published read into piece digests.
void HashPieces(Ring& ring, const std::byte* slots, uint64_t piece_size,
                std::vector<std::string>* pieces) {
  MultiHasher piece(Only(Algorithm::kSha256));
  uint64_t in_piece = 0;
  for (uint64_t n = 0;; ++n) {
    size_t length = 0;
    {
      std::unique_lock lock(ring.mu);
      ring.filled.wait(lock, [&] { return ring.published > n || ring.ended; });
      if (ring.published <= n) break;
      length = ring.length[n % kSlots];
    }
    const std::byte* p = slots + (n % kSlots) * kSlotBytes;
    while (length > 0) {
      size_t take = static_cast<size_t>(std::min<uint64_t>(length, piece_size - in_piece));
      piece.Update(std::span<const std::byte>(p, take));
      in_piece += take;
      p += take;
      length -= take;
      if (in_piece == piece_size) {
        pieces->push_back(piece.Finish()[Algorithm::kSha256]);
        in_piece = 0;
      }
    }
    {
      std::lock_guard lock(ring.mu);
      ring.pieced = n + 1;
    }
    ring.freed.notify_one();
  }
  if (in_piece > 0) pieces->push_back(piece.Finish()[Algorithm::kSha256]);
}

}  // namespace

Result<std::vector<std::string>> HashOpenFileInPieces(int fd, const std::string& path,
                                                      uint64_t piece_size, MultiHasher& hasher) {
  if (piece_size == 0) return Status::InvalidArgument("piece size 0 for " + path);
  std::unique_ptr<std::byte, FreeDeleter> slots(
      static_cast<std::byte*>(std::aligned_alloc(4096, kSlots * kSlotBytes)));
  if (!slots) return Status::NoSpace("no memory to hash " + path);
  Ring ring;
  std::vector<std::string> pieces;
  std::thread piece_thread(HashPieces, std::ref(ring), slots.get(), piece_size, &pieces);
  Status status;
  uint64_t offset = 0;
  for (uint64_t n = 0;; ++n) {
    {
      std::unique_lock lock(ring.mu);
      ring.freed.wait(lock, [&] { return n - ring.pieced < kSlots; });
    }
    std::byte* slot = slots.get() + (n % kSlots) * kSlotBytes;
    ssize_t got = PreadSome(fd, std::span<std::byte>(slot, kSlotBytes), offset);
    if (got <= 0) {
      if (got < 0) status = Status::FromErrno(errno, "read", path);
      break;
    }
    {
      std::lock_guard lock(ring.mu);
      ring.length[n % kSlots] = static_cast<size_t>(got);
      ring.published = n + 1;
    }
    ring.filled.notify_one();
    hasher.Update(std::span<const std::byte>(slot, static_cast<size_t>(got)));
    offset += static_cast<uint64_t>(got);
  }
  {
    std::lock_guard lock(ring.mu);
    ring.ended = true;
  }
  ring.filled.notify_one();
  piece_thread.join();
  if (!status.ok()) return status;
  return pieces;
}

}  // namespace cairn::bagit
