#include "keras_api/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "core/errors.h"

namespace horn::keras {
namespace {

std::string error_text(int err) { return std::strerror(err); }

std::string directory_of(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string base_name(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Closes the descriptor and removes the temporary file unless released: every failure path
// of a write leaves nothing behind.
class TemporaryFile {
 public:
  TemporaryFile(std::string path, int fd, const FileSystemCalls& calls)
      : path_(std::move(path)), fd_(fd), calls_(calls) {}
  ~TemporaryFile() {
    if (fd_ >= 0) calls_.close(fd_);
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  TemporaryFile(const TemporaryFile&) = delete;
  TemporaryFile& operator=(const TemporaryFile&) = delete;
  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  // close() reports delayed write errors (NFS, quotas); its result must be checked, and the
  // descriptor is gone whatever it returns.
  int close() {
    const int rc = calls_.close(fd_);
    fd_ = -1;
    return rc;
  }
  void keep() { path_.clear(); }

 private:
  std::string path_;
  int fd_;
  const FileSystemCalls& calls_;
};

// O_EXCL makes the name ours alone; pid, a per-process counter and the clock make a
// collision (another saver, a stale file) rare, and a collision only costs a retry.
TemporaryFile create_temporary(const std::string& path, const std::string& what,
                               const FileSystemCalls& calls) {
  static std::atomic<uint64_t> counter{0};
  const std::string dir = directory_of(path);
  for (int attempt = 0;; ++attempt) {
    const uint64_t stamp = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    const std::string tmp = str_cat(dir, "/.", base_name(path), ".tmp-", ::getpid(), "-", counter++, "-",
                                    std::hex, stamp & 0xffffff);
    const int fd = calls.open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0) return TemporaryFile(tmp, fd, calls);
    const int err = errno;
    if (err == EEXIST && attempt < 100) continue;
    fail("cannot write ", what, " '", path, "': cannot create a temporary file in '", dir,
         "': ", error_text(err));
  }
}

}  // namespace

const FileSystemCalls& posix_calls() {
  // ::open is variadic; FileSystemCalls needs a plain function pointer.
  static const FileSystemCalls calls{
      [](const char* path, int flags, mode_t mode) { return ::open(path, flags, mode); }, ::write, ::fsync,
      ::close, ::rename};
  return calls;
}

std::vector<char> read_whole_file(const std::string& path, const std::string& what,
                                  const FileSystemCalls& calls) {
  const int fd = calls.open(path.c_str(), O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0) {
    const int err = errno;
    fail("cannot open ", what, " '", path, "': ", error_text(err));
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    fail("cannot read ", what, " '", path, "': ", error_text(err));
  }
  if (S_ISDIR(st.st_mode)) fail("cannot read ", what, " '", path, "': it is a directory, not a file");
  std::vector<char> bytes;
  if (S_ISREG(st.st_mode)) bytes.reserve(static_cast<size_t>(st.st_size));
  char chunk[1 << 16];
  for (;;) {
    const ssize_t got = ::read(fd, chunk, sizeof chunk);
    if (got == 0) break;
    if (got < 0) {
      const int err = errno;
      if (err == EINTR) continue;
      fail("cannot read ", what, " '", path, "': ", error_text(err), " after ", bytes.size(), " bytes");
    }
    bytes.insert(bytes.end(), chunk, chunk + got);
  }
  return bytes;
}

void write_file_atomically(const std::string& path, std::span<const char> bytes, const std::string& what,
                           const FileSystemCalls& calls) {
  auto fail_with = [&](const std::string& step, int err) {
    fail("cannot write ", what, " '", path, "': ", step, ": ", error_text(err),
         "; the previous file is unchanged");
  };
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    fail("cannot write ", what, " '", path, "': it is a directory");
  TemporaryFile tmp = create_temporary(path, what, calls);
  for (size_t done = 0; done < bytes.size();) {
    const ssize_t n = calls.write(tmp.fd(), bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      const int err = errno;
      if (err == EINTR) continue;
      fail_with(str_cat("writing ", bytes.size(), " bytes failed after ", done), err);
    }
    if (n == 0) fail_with(str_cat("writing ", bytes.size(), " bytes stalled after ", done), EIO);
    done += static_cast<size_t>(n);
  }
  if (calls.fsync(tmp.fd()) != 0) fail_with("fsync failed", errno);
  if (tmp.close() != 0) fail_with("close failed", errno);
  if (calls.rename(tmp.path().c_str(), path.c_str()) != 0)
    fail_with("rename of '" + tmp.path() + "' failed", errno);
  tmp.keep();
  // The rename is durable only once the directory entry is: sync the directory too. Some
  // file systems cannot fsync a directory (EINVAL); there is nothing more to do there.
  const int dir = ::open(directory_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) {
    const int err = errno;
    fail("wrote ", what, " '", path, "' but cannot open its directory to sync it: ", error_text(err));
  }
  const int rc = calls.fsync(dir), err = errno;
  ::close(dir);
  if (rc != 0 && err != EINVAL)
    fail("wrote ", what, " '", path, "' but syncing its directory failed: ", error_text(err),
         "; the file may not survive a power loss");
}

}  // namespace horn::keras
