// The bfloat16 dtype: rounding, tensors, Cast both ways, and the clear refusals of ops that
// have no bfloat16 kernel.
#include <bit>
#include <cmath>
#include <limits>

#include "core/bfloat16.h"
#include "tests/test_util.h"

namespace horn {
namespace {
using testing::eval;
using testing::expect_error;
using testing::F;

constexpr DType bf16 = DType::kBFloat16;

uint16_t bits(bfloat16 x) { return std::bit_cast<uint16_t>(x); }
bfloat16 from_float(float f) { return bfloat16(f); }
float from_bits(uint32_t b) { return std::bit_cast<float>(b); }

TEST(BFloat16, IsATwoByteDTypeWithAName) {
  EXPECT_EQ(dtype_size(bf16), 2u);
  EXPECT_EQ(dtype_name(bf16), "bfloat16");
  EXPECT_EQ(dtype_from_name("bfloat16"), bf16);
  EXPECT_TRUE(is_any_float(bf16));
  EXPECT_FALSE(is_floating(bf16)) << "no float kernels compute in bfloat16";
}

TEST(BFloat16, RoundsFloat32ToNearestEven) {
  EXPECT_EQ(bits(from_float(1.0f)), 0x3f80);
  // 1 + 2^-8 lies halfway between 1 (even) and 1 + 2^-7: to even.
  EXPECT_EQ(bits(from_float(from_bits(0x3f808000))), 0x3f80);
  // 1 + 3 * 2^-8 lies halfway between 1 + 2^-7 (odd) and 1 + 2^-6: to even, up.
  EXPECT_EQ(bits(from_float(from_bits(0x3f818000))), 0x3f82);
  // Just above halfway: up.
  EXPECT_EQ(bits(from_float(from_bits(0x3f808001))), 0x3f81);
  EXPECT_EQ(bits(from_float(-2.5f)), 0xc020);
  EXPECT_TRUE(std::isnan(static_cast<float>(from_float(std::numeric_limits<float>::quiet_NaN()))));
  EXPECT_EQ(static_cast<float>(from_float(INFINITY)), INFINITY);
  EXPECT_EQ(static_cast<float>(from_float(std::numeric_limits<float>::max())), INFINITY) << "rounds up";
}

TEST(BFloat16, TensorsPrintAndConvert) {
  Tensor t(Shape{3}, std::vector<bfloat16>{bfloat16(1.0f), bfloat16(-0.5f), bfloat16(3.14159f)});
  EXPECT_EQ(t.dtype(), bf16);
  EXPECT_EQ(t.nbytes(), 6u);
  EXPECT_EQ(t.to_string(), "[1, -0.5, 3.14062]");
  EXPECT_EQ(t.value_as_double(2), 3.140625);
  Tensor f = t.cast(DType::kFloat32);
  EXPECT_EQ(f.data<float>()[2], 3.140625f);
  EXPECT_EQ(Tensor::ones(bf16, {2}).to_string(), "[1, 1]");
}

TEST(BFloat16, CastBothWaysInAGraphAndFetch) {
  Graph g;
  Output x = ops::Placeholder(g, DType::kFloat32, {-1}, "x");
  Output narrow = ops::Cast(x, bf16, "narrow");
  Output wide = ops::Cast(narrow, DType::kFloat32, "wide");
  EXPECT_EQ(narrow.dtype(), bf16);
  const std::vector<float> in{1.0f, from_bits(0x3f808001), -1e-3f, 65504.0f, 0.0f};
  for (bool optimize : {true, false}) {
    Session s(g, {.optimize = optimize});
    std::vector<Tensor> out = s.run({{x, F({5}, in)}}, {narrow, wide});
    ASSERT_EQ(out[0].dtype(), bf16);
    for (int i = 0; i < 5; ++i) {
      EXPECT_EQ(bits(out[0].data<bfloat16>()[i]), bits(bfloat16(in[i]))) << i;
      EXPECT_EQ(out[1].data<float>()[i], static_cast<float>(bfloat16(in[i]))) << i;
    }
  }
  // A bfloat16 placeholder is fed bfloat16 values.
  Output p = ops::Placeholder(g, bf16, {2}, "p");
  Tensor fed = F({2}, {0.25f, 7}).cast(bf16);
  EXPECT_TRUE(eval(ops::Cast(p, DType::kFloat32), {{p, fed}}).bitwise_equal(F({2}, {0.25f, 7})));
  expect_error([&] { eval(p, {{p, F({2}, {1, 2})}}); }, {"'p'", "bfloat16", "float32"});
}

// RoundToBFloat16 (what the compiler fuses) is the two casts bit for bit: ties to even,
// carries into the exponent, infinities, NaNs of either sign, subnormals, float64 inputs;
// over more than one SIMD packet and a ragged tail.
TEST(BFloat16, RoundToBFloat16IsTheTwoCastsBitForBit) {
  std::vector<float> in{1.0f, from_bits(0x3f808000), from_bits(0x3f818000), from_bits(0x3f808001),
                        from_bits(0x7f7fffff), -std::numeric_limits<float>::infinity(),
                        std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::quiet_NaN(),
                        from_bits(0x00008000), from_bits(0x807fffff), -0.0f, 3.14159f};
  for (int i = 0; i < 27; ++i) in.push_back(std::ldexp(1.0f + i / 27.0f, i - 13) * (i % 2 ? -1 : 1));
  const int64_t n = static_cast<int64_t>(in.size());
  for (DType t : {DType::kFloat32, DType::kFloat64}) {
    Graph g;
    Output x = ops::Placeholder(g, t, {n}, "x");
    Output casts = ops::Cast(ops::Cast(x, bf16), t), round = ops::RoundToBFloat16(x);
    const std::vector<Tensor> out = Session(g).run({{x, F({n}, in).cast(t)}}, {casts, round});
    EXPECT_TRUE(out[0].bitwise_equal(out[1])) << dtype_name(t) << ": " << out[0].to_string() << " vs " << out[1].to_string();
  }
  // Both run Horn's vectorised rounding (core/bfloat16.h): bit for bit Eigen's scalar one.
  const Tensor narrow = F({n}, in).cast(bf16);
  for (int64_t i = 0; i < n; ++i) {
    EXPECT_EQ(bits(narrow.data<bfloat16>()[i]), bits(bfloat16(in[i]))) << i;
    EXPECT_EQ(std::bit_cast<uint32_t>(round_to_bfloat16(in[i])),
              std::bit_cast<uint32_t>(static_cast<float>(bfloat16(in[i]))))
        << i;
  }
}

TEST(BFloat16, FloatOpsRefuseItNamingTheNodeAndTheFix) {
  Graph g;
  Output x = ops::Cast(ops::Placeholder(g, DType::kFloat32, {2, 3}, "x"), bf16);
  expect_error([&] { ops::Exp(x, "activation"); }, {"Exp 'activation'", "bfloat16", "Cast it to float32"});
  Output w = ops::Placeholder(g, DType::kFloat32, {3, 4}, "w");
  expect_error([&] { ops::MatMul(x, w, false, false, "dense/MatMul"); },
               {"MatMul 'dense/MatMul'", "must both be bfloat16", "bfloat16[2,3]", "float32[3,4]"});
}

}  // namespace
}  // namespace horn
