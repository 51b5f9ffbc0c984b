// regularizers: penalties as graph nodes (norm penalties, group lasso), the input-space ones (input-gradient penalty, FGSM,
// max-norm), the proximal L1 step, parameter selection, the CLI
// spec parser and the sparsity report.
#pragma once

#include "xtgrad/regularizers/group_lasso.hpp"
#include "xtgrad/regularizers/input_space.hpp"
#include "xtgrad/regularizers/mixup.hpp"
#include "xtgrad/regularizers/prox.hpp"
#include "xtgrad/regularizers/regularizer.hpp"
#include "xtgrad/regularizers/selection.hpp"
#include "xtgrad/regularizers/sparsity.hpp"
#include "xtgrad/regularizers/spec.hpp"
