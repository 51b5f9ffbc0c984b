// The default precision's names: float, as `std::string` names `std::basic_string<char>`.
// A program that trains in float writes `Variable`, `Tensor`, `nn::Linear`; one that needs
// double writes `BasicVariable<double>`, `TensorOf<double>`, `nn::BasicLinear<double>`, and
// both live side by side in one program. core/ and ops/ never use these names: everything
// there is a template over the scalar.
#pragma once

#include "xtgrad/core/hessian.hpp"
#include "xtgrad/core/variable.hpp"

namespace xtgrad {

using Scalar = float;
using Tensor = TensorOf<Scalar>;
using Node = BasicNode<Scalar>;
using NodePtr = NodePtrOf<Scalar>;
using NodeList = NodeListOf<Scalar>;
using BackwardFn = BasicBackwardFn<Scalar>;
using GradHook = GradHookOf<Scalar>;
using PostAccumulateGradHook = PostAccumulateGradHookOf<Scalar>;
using Variable = BasicVariable<Scalar>;
using GradOptions = BasicGradOptions<Scalar>;
using HookHandle = BasicHookHandle<Scalar>;
using NamedParameter = NamedParameterOf<Scalar>;
using NamedParameters = NamedParametersOf<Scalar>;
using ScalarFunction = ScalarFunctionOf<Scalar>;

}  // namespace xtgrad
