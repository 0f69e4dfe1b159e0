// Saving through failures: a directory, a missing directory, permissions, a full disk and
// failing fsync/close/rename all reach the user as an Error naming the path; the previous
// file stays intact and no temporary file is left. Concurrent savers never collide.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <thread>

#include "keras_api/keras.h"
#include "keras_api/model_file.h"
#include "tests/test_util.h"

namespace horn::keras {
namespace {
using testing::expect_error;

std::string fresh_dir(const std::string& name) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string dir = std::string(tmp ? tmp : "/tmp") + "/" + name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

std::string contents(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::vector<std::string> entries(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) names.push_back(e.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

Sequential model(uint64_t seed) {
  Sequential m({.seed = seed});
  m.add(Dense(8, {.input_dim = 4, .activation = "relu"}));
  m.add(Dense(3, {.activation = "softmax"}));
  m.compile({.loss = "categorical_crossentropy", .optimizer = "adam"});
  return m;
}

ModelFile weights_of(Sequential& m) {
  ModelFile f;
  f.settings = {{"kind", "weights"}};
  std::vector<Tensor> w = m.get_weights();
  for (size_t i = 0; i < w.size(); ++i) f.tensors.emplace_back("w" + std::to_string(i), w[i]);
  return f;
}

// Fault injection: each failing call sets errno as the kernel would.
ssize_t write_half_then_enospc(int fd, const void* data, size_t n) {
  static thread_local int calls = 0;
  if (calls++ % 2 == 0) return ::write(fd, data, n / 2);
  errno = ENOSPC;
  return -1;
}
int fsync_eio(int) { errno = EIO; return -1; }
int close_eio(int fd) { ::close(fd); errno = EIO; return -1; }
int rename_exdev(const char*, const char*) { errno = EXDEV; return -1; }
int open_eacces(const char*, int, mode_t) { errno = EACCES; return -1; }
int rename_eacces(const char*, const char*) { errno = EACCES; return -1; }

// The real system calls but for the ones `change` replaces.
template <typename Change>
FileSystemCalls posix_but(Change change) {
  FileSystemCalls calls = posix_calls();
  change(calls);
  return calls;
}

TEST(DurableSave, EveryWriteFailureKeepsThePreviousFileAndLeavesNoTemporary) {
  const std::string dir = fresh_dir("faults");
  const std::string path = dir + "/model.horn";
  Sequential a = model(1), b = model(2);
  a.save(path);
  const std::string before = contents(path);
  const std::vector<std::pair<FileSystemCalls, std::string>> faults = {
      {posix_but([](auto& c) { c.write = write_half_then_enospc; }), "No space left on device"},
      {posix_but([](auto& c) { c.fsync = fsync_eio; }), "fsync failed: Input/output error"},
      {posix_but([](auto& c) { c.close = close_eio; }), "close failed: Input/output error"},
      {posix_but([](auto& c) { c.rename = rename_exdev; }), "rename"},
      {posix_but([](auto& c) { c.rename = rename_eacces; }), "Permission denied"},
  };
  for (const auto& [calls, message] : faults) {
    expect_error([&] { write_model_file(path, weights_of(b), calls); }, {path, message, "previous file is unchanged"});
    EXPECT_EQ(contents(path), before) << message;
    EXPECT_EQ(entries(dir), std::vector<std::string>{"model.horn"}) << "a temporary file was left after: " << message;
  }
  b.save(path);  // and a healthy save replaces it
  EXPECT_NE(contents(path), before);
  EXPECT_EQ(entries(dir), std::vector<std::string>{"model.horn"});
}

TEST(DurableSave, DirectoriesAndMissingDirectoriesAreErrorsNamingThePath) {
  const std::string dir = fresh_dir("dirs");
  Sequential m = model(1);
  expect_error([&] { m.save(dir); }, {dir, "is a directory"});
  expect_error([&] { m.save_weights(dir + "/no/such/dir/w.horn"); },
               {dir + "/no/such/dir/w.horn", "No such file or directory"});
  EXPECT_TRUE(entries(dir).empty());
}

// Root bypasses file permissions, and CI runs as root: there EACCES comes from injected calls,
// as the kernel gives it for a save into a read-only directory (creating the temporary file) and
// for reading an unreadable file. The test below meets the real thing when run as a user.
TEST(DurableSave, PermissionDeniedIsAnErrorNamingThePathEvenAsRoot) {
  const std::string dir = fresh_dir("denied");
  const std::string path = dir + "/m.horn";
  Sequential a = model(1), b = model(2);
  a.save(path);
  const std::string before = contents(path);
  const FileSystemCalls denied = posix_but([](auto& c) { c.open = open_eacces; });
  expect_error([&] { write_model_file(path, weights_of(b), denied); },
               {"cannot write model file '" + path + "'", "cannot create a temporary file in '" + dir + "'",
                "Permission denied"});
  EXPECT_EQ(contents(path), before);
  EXPECT_EQ(entries(dir), std::vector<std::string>{"m.horn"});
  expect_error([&] { read_model_file(path, denied); },
               {"cannot open model file '" + path + "'", "Permission denied"});
  load_model(path);  // the file itself was never harmed
}

TEST(DurableSave, PermissionErrorsNameThePath) {
  if (::geteuid() == 0) GTEST_SKIP() << "running as root, which bypasses file permissions; run as a user to test";
  const std::string dir = fresh_dir("readonly");
  Sequential m = model(1);
  m.save(dir + "/m.horn");
  const std::string before = contents(dir + "/m.horn");
  ::chmod(dir.c_str(), 0555);
  expect_error([&] { m.save(dir + "/m.horn"); }, {dir + "/m.horn", "Permission denied"});
  ::chmod(dir.c_str(), 0755);
  EXPECT_EQ(contents(dir + "/m.horn"), before);
  ::chmod((dir + "/m.horn").c_str(), 0);
  expect_error([&] { load_model(dir + "/m.horn"); }, {dir + "/m.horn", "Permission denied"});
}

TEST(DurableSave, ConcurrentSaversToOnePathEachInstallAWholeFile) {
  const std::string dir = fresh_dir("concurrent");
  const std::string path = dir + "/shared.horn";
  constexpr int kSavers = 4, kSaves = 8;
  std::vector<Sequential> models;
  for (int i = 0; i < kSavers; ++i) models.push_back(model(100 + i));
  std::vector<std::string> errors(kSavers);
  std::vector<std::thread> threads;
  for (int i = 0; i < kSavers; ++i)
    threads.emplace_back([&, i] {
      try {
        for (int s = 0; s < kSaves; ++s) models[i].save_weights(path);
      } catch (const std::exception& e) {
        errors[i] = e.what();
      }
    });
  for (auto& t : threads) t.join();
  for (const auto& e : errors) EXPECT_EQ(e, "");
  EXPECT_EQ(entries(dir), std::vector<std::string>{"shared.horn"});
  // The survivor is one saver's complete file: its weights load and match that model.
  Sequential reader = model(0);
  reader.load_weights(path);
  int matches = 0;
  for (auto& m : models) {
    bool same = true;
    for (size_t w = 0; w < m.get_weights().size(); ++w)
      same &= m.get_weights()[w].bitwise_equal(reader.get_weights()[w]);
    matches += same;
  }
  EXPECT_EQ(matches, 1);
}

}  // namespace
}  // namespace horn::keras
