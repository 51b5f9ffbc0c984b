// Everything public is reachable from the one umbrella header, and it needs C++17.
#include <xtgrad/xtgrad.hpp>

#include <gtest/gtest.h>

static_assert(__cplusplus >= 201703L, "xtgrad needs C++17");

namespace {

TEST(PublicHeader, ReachesEveryPublicFunction) {
  // a sample from each core and ops header that core.hpp / ops.hpp used to miss, and the new API
  EXPECT_NE(&xtgrad::set_blas_threads, nullptr);
  EXPECT_NE(&xtgrad::gemm_uses_threads, nullptr);
  EXPECT_FALSE(xtgrad::blas_core_name().empty());
  EXPECT_NE(&xtgrad::allocate_small_block, nullptr);
  EXPECT_NE(&xtgrad::broadcast_shape<float>, nullptr);
  EXPECT_NE(static_cast<xtgrad::GradcheckReport (*)(const xtgrad::GradcheckFunction&,
                                                    const std::vector<xtgrad::TensorOf<double>>&,
                                                    const xtgrad::GradcheckOptions&)>(&xtgrad::gradgradcheck),
            nullptr);
  EXPECT_NE(static_cast<std::vector<xtgrad::Tensor> (*)(const xtgrad::ScalarFunction&, const std::vector<xtgrad::Variable>&,
                                                         const std::vector<xtgrad::Tensor>&)>(&xtgrad::hessian_vector_product),
            nullptr);
  EXPECT_NE(&xtgrad::hessian<double>, nullptr);
  EXPECT_NE(static_cast<xtgrad::Variable (*)(const xtgrad::Variable&, const xtgrad::Shape&)>(&xtgrad::sum_to), nullptr);
  xtgrad::Variable x = xtgrad::Variable::parameter(xtgrad::Tensor{1.0, 2.0});
  EXPECT_EQ(xtgrad::grad({xtgrad::sum(x * x)}, {x})[0].value()(1), 4.0);
}

}  // namespace
