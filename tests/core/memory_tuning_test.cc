#include "core/memory_tuning.h"

#include <cstdint>
#include <cstdlib>

#include "tests/test_util.h"

namespace horn {
namespace {

constexpr DType f32 = DType::kFloat32;

// Tensors of 16 KB and more go back to the pool when freed; the pool keeps no more than its
// limit and gives everything back on release.
TEST(MemoryTuning, BufferPoolIsBoundedAndCanBeReleased) {
  release_buffer_pool();
  EXPECT_EQ(buffer_pool_cached_bytes(), 0u);
  const size_t default_limit = buffer_pool_limit();
  { Tensor big(f32, {64 * 1024}); }  // 256 KB, now cached
  EXPECT_EQ(buffer_pool_cached_bytes(), size_t{256} << 10);
  { Tensor small(f32, {16}); }  // below the pooled size
  EXPECT_EQ(buffer_pool_cached_bytes(), size_t{256} << 10);

  set_buffer_pool_limit(size_t{300} << 10);  // room for one 256 KB buffer, not two
  {
    Tensor a(f32, {64 * 1024}), b(f32, {64 * 1024}), c(f32, {64 * 1024});
    EXPECT_EQ(buffer_pool_cached_bytes(), 0u) << "a took the cached buffer";
  }
  EXPECT_EQ(buffer_pool_cached_bytes(), size_t{256} << 10);
  set_buffer_pool_limit(size_t{100} << 10);  // lowering the limit frees what is above it
  EXPECT_EQ(buffer_pool_cached_bytes(), 0u);

  set_buffer_pool_limit(default_limit);
  { Tensor a(f32, {64 * 1024}), b(f32, {32 * 1024}); }
  EXPECT_EQ(buffer_pool_cached_bytes(), size_t{384} << 10);
  release_buffer_pool();
  EXPECT_EQ(buffer_pool_cached_bytes(), 0u);
  Tensor again = Tensor::ones(f32, {64 * 1024});  // allocating after a release still works
  EXPECT_EQ(again.data<float>()[64 * 1024 - 1], 1.0f);
}

// Buffers below 16 MB are rounded to 64 bytes; from 16 MB on to whole 2 MB pages, placed on
// a page boundary (so that transparent huge pages can back them), and usable to the last byte.
TEST(MemoryTuning, LargeBuffersTakeWholeHugePages) {
  EXPECT_EQ(buffer_memory_size(1), 64u);
  EXPECT_EQ(buffer_memory_size((size_t{16} << 20) - 1), size_t{16} << 20);
  EXPECT_EQ(buffer_memory_size(size_t{16} << 20), size_t{16} << 20);
  EXPECT_EQ(buffer_memory_size((size_t{16} << 20) + 1), size_t{18} << 20);
  for (size_t bytes : {size_t{1000}, (size_t{20} << 20) + 3}) {
    auto* p = static_cast<unsigned char*>(allocate_buffer_memory(bytes));
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % (bytes < (size_t{16} << 20) ? 64 : size_t{2} << 20), 0u);
    p[0] = 1;
    p[buffer_memory_size(bytes) - 1] = 2;
    EXPECT_EQ(p[0] + p[buffer_memory_size(bytes) - 1], 3);
    std::free(p);
  }
  Tensor big(f32, {5 << 20});  // 20 MB: pooled under its rounded size
  release_buffer_pool();
  { Tensor again(f32, {5 << 20}); }
  EXPECT_EQ(buffer_pool_cached_bytes(), buffer_memory_size(size_t{20} << 20));
  release_buffer_pool();
}

TEST(MemoryTuning, KeepFreedMemoryChangesNoResult) {
  Graph g;
  Output x = ops::Placeholder(g, f32, {-1, 256}, "x");
  Output y = ops::Sum(ops::MatMul(x, x, false, true));
  const Tensor xv = Tensor::uniform(f32, {256, 256}, -1, 1, 4);
  set_keep_freed_memory(true);
  const Tensor kept = testing::eval(y, {{x, xv}});
  set_keep_freed_memory(false);
  EXPECT_TRUE(testing::eval(y, {{x, xv}}).bitwise_equal(kept));
}

}  // namespace
}  // namespace horn
