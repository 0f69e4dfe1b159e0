#include "core/memory_tuning.h"

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
