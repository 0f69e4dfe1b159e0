// Reading an untrusted HDF5 image without letting libhdf5 hang or crash the process.
//
// libhdf5 parses a file's structure itself, and on some damaged files Debian's 1.10.8 never
// returns (a corrupt global heap makes H5HG_read loop inside H5Aread of a variable-length
// string: tests/fuzz/libhdf5_hangs/h5hg_read_loop.h5) or may crash. Horn cannot check that
// structure before libhdf5 does, so every read of a file's HDF5 image (.h5 models, the
// model.weights.h5 of .keras models) runs twice: first in a forked child process with a time
// limit, then, only when the child finished (with the model or with an ordinary error), in
// this process. A child that is still running at the limit is killed and the read fails with
// DamagedHdf5Error, as it does when the child dies by a signal (a child blocked at a lock
// inherited from the fork is retried, then a plain Error: child_process.h). The cost: a fork
// and a second parse, measured by bench/model_load_bench.cc (bench/README.md): about 20 ms more
// for a small model, about twice the time for a 40 MB one, and a fork that grows with the
// process's resident memory (0.1 s with 1 GB). Sending the child's result back instead of
// parsing twice would save the second parse; it is not done.
//
// Limits: it bounds the time, not the memory, libhdf5 takes (the child may use as much memory
// as the read in this process would); the limit is wall-clock time, so a machine loaded far
// beyond its cores can make a sound but large file fail (raise the limits then). The child is
// forked from a possibly multi-threaded process: only the reading thread exists there, so the
// read must need no oneTBB task and no lock but hdf5_mutex(), held across the fork. Code
// outside Horn that calls libhdf5 from another thread at the same time is not covered.
#pragma once
#include <cstddef>
#include <functional>
#include <mutex>

#include "keras_api/hdf5_file.h"
#include "keras_api/hdf5_limits.h"

namespace horn::keras::hdf5 {

// Runs `read` in a child process (see above); returns when it finished, throws
// DamagedHdf5Error when it did not. `image_bytes` sets the limit. The caller holds hdf5_mutex().
void check_in_child(size_t image_bytes, const std::function<void()>& read);

// read() on an untrusted image of `image_bytes` bytes: checked in a child, then run here, all
// under hdf5_mutex(). read() must be repeatable (the child's changes to memory are lost).
template <typename Read>
auto read_untrusted(size_t image_bytes, Read&& read) -> decltype(read()) {
  std::lock_guard<std::mutex> lock(hdf5_mutex());
  check_in_child(image_bytes, [&] { read(); });
  return read();
}

}  // namespace horn::keras::hdf5
