// The repository's worker counts for RunPool (bagit/run_pool.h, its one home:
// the bag walker uses it too): deposit staging and replication copies.
#ifndef CAIRN_REPO_RUN_POOL_H_
#define CAIRN_REPO_RUN_POOL_H_

#include "bagit/run_pool.h"

namespace cairn::repo {

using bagit::RunPool;

// Workers for storage-bound work on a machine with `cores` cores: fsync and
// remote latency leave cores idle, so a few more workers than cores keep the
// disk and the hashing busy. At least 4, at most 16.
unsigned IoWorkers(unsigned cores);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_RUN_POOL_H_
