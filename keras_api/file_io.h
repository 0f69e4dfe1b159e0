// Whole-file reads and durable, atomic whole-file writes, with errors naming the path.
//
// write_file_atomically(path, bytes) guarantees:
//   - readers of `path` see either the previous file or the complete new one, never a mix;
//   - after it returns, the new file survives a process crash and a power loss (the file and
//     its directory are fsync'ed; on file systems that honour fsync);
//   - when it throws, `path` is untouched and no temporary file is left behind;
//   - concurrent writers to one path (threads or processes) each use their own temporary
//     file, so each either installs its complete file or fails clearly; the last rename wins.
#pragma once
#include <sys/types.h>

#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace horn::keras {

// The system calls reads and writes go through. Tests replace some of them to inject faults
// (ENOSPC from write, EIO from fsync or close, EACCES from open even when run as root, ...);
// each has the POSIX contract.
struct FileSystemCalls {
  int (*open)(const char* path, int flags, mode_t mode);
  ssize_t (*write)(int fd, const void* data, size_t n);
  int (*fsync)(int fd);
  int (*close)(int fd);
  int (*rename)(const char* from, const char* to);
};
const FileSystemCalls& posix_calls();

// The file's bytes; throws an Error naming `what` and `path` when it is missing, a
// directory, unreadable or fails while being read.
std::vector<char> read_whole_file(const std::string& path, const std::string& what,
                                  const FileSystemCalls& calls = posix_calls());

// Writes `bytes` to `path` through a unique temporary file in the same directory.
void write_file_atomically(const std::string& path, std::span<const char> bytes, const std::string& what,
                           const FileSystemCalls& calls = posix_calls());

}  // namespace horn::keras
