// core: tensors, recycled buffers, the graph, backward and grad(), no-grad mode, gradient
// checks, Hessian-vector products, graph export, the thread pool, BLAS settings and the inside-BLAS marker,
// version, and the float defaults (defaults.hpp: Variable, Tensor, ...). (accumulate.hpp and
// xt.hpp are for ops' sources: they pull in xtensor's expression headers.)
#pragma once

#include "xtgrad/core/blas_scope.hpp"
#include "xtgrad/core/broadcast.hpp"
#include "xtgrad/core/buffer_cache.hpp"
#include "xtgrad/core/defaults.hpp"
#include "xtgrad/core/dot_export.hpp"
#include "xtgrad/core/errors.hpp"
#include "xtgrad/core/gemm.hpp"
#include "xtgrad/core/grad_mode.hpp"
#include "xtgrad/core/gradcheck.hpp"
#include "xtgrad/core/hessian.hpp"
#include "xtgrad/core/index.hpp"
#include "xtgrad/core/node.hpp"
#include "xtgrad/core/parallel.hpp"
#include "xtgrad/core/random.hpp"
#include "xtgrad/core/small_blocks.hpp"
#include "xtgrad/core/tensor.hpp"
#include "xtgrad/core/variable.hpp"
#include "xtgrad/core/version.hpp"
