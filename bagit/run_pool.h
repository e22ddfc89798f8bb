// RunPool: a small fixed pool of threads over an index range, for the work
// that overlaps I/O waits (a disk's latency, fsync, a remote site's latency)
// and hashing: the bag walker's payload files (validation, deposit) and the
// repository's replication copies.
#ifndef CAIRN_BAGIT_RUN_POOL_H_
#define CAIRN_BAGIT_RUN_POOL_H_

#include <cstddef>
#include <functional>

#include "bagit/status.h"

namespace cairn::bagit {

// Runs fn(i) for every i in [0, count) on `threads` workers (at least 1; the
// calling thread is one of them). Stops handing out work at the first non-OK
// Status and returns it once every worker has finished its current item.
Status RunPool(size_t count, unsigned threads, const std::function<Status(size_t)>& fn);

}  // namespace cairn::bagit

#endif  // CAIRN_BAGIT_RUN_POOL_H_
