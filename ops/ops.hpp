// ops: differentiable free functions over Variables.
#pragma once

#include "xtgrad/ops/activations.hpp"
#include "xtgrad/ops/conv.hpp"
#include "xtgrad/ops/dropout.hpp"
#include "xtgrad/ops/elementwise.hpp"
#include "xtgrad/ops/embedding.hpp"
#include "xtgrad/ops/linalg.hpp"
#include "xtgrad/ops/losses.hpp"
#include "xtgrad/ops/normalization.hpp"
#include "xtgrad/ops/norms.hpp"
#include "xtgrad/ops/reductions.hpp"
#include "xtgrad/ops/shape_checks.hpp"
