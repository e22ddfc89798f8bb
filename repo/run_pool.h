// RunPool: a small fixed pool of threads over an index range, shared by the
// parts of the repository that overlap I/O waits (fsync, a remote site's
// latency) and hashing: deposit staging and replication copies.
#ifndef CAIRN_REPO_RUN_POOL_H_
#define CAIRN_REPO_RUN_POOL_H_

#include <cstddef>
#include <functional>

#include "bagit/status.h"

namespace cairn::repo {

// Runs fn(i) for every i in [0, count) on `threads` workers (at least 1; the
// calling thread is one of them). Stops handing out work at the first non-OK
// Status and returns it once every worker has finished its current item.
Status RunPool(size_t count, unsigned threads, const std::function<Status(size_t)>& fn);

// Workers for storage-bound work on a machine with `cores` cores: fsync and
// remote latency leave cores idle, so a few more workers than cores keep the
// disk and the hashing busy. At least 4, at most 16.
unsigned IoWorkers(unsigned cores);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_RUN_POOL_H_
