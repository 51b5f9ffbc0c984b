// ops: differentiable free functions over Variables.
#pragma once

#include "xtgrad/ops/activations.hpp"
#include "xtgrad/ops/activations_extra.hpp"
#include "xtgrad/ops/elementwise.hpp"
#include "xtgrad/ops/elementwise_math.hpp"
#include "xtgrad/ops/indexing.hpp"
#include "xtgrad/ops/linalg.hpp"
#include "xtgrad/ops/losses.hpp"
#include "xtgrad/ops/losses_extra.hpp"
#include "xtgrad/ops/matmul_nd.hpp"
#include "xtgrad/ops/norms.hpp"
#include "xtgrad/ops/reductions.hpp"
#include "xtgrad/ops/reductions_extra.hpp"
#include "xtgrad/ops/shape_ops.hpp"
