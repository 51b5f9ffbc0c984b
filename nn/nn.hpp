// nn: modules, initializers, optimizers, data and the training loop.
#pragma once

#include "xtgrad/nn/batches.hpp"
#include "xtgrad/nn/checkpoint.hpp"
#include "xtgrad/nn/gradient_reducer.hpp"
#include "xtgrad/nn/idx.hpp"
#include "xtgrad/nn/init.hpp"
#include "xtgrad/nn/layers.hpp"
#include "xtgrad/nn/mnist.hpp"
#include "xtgrad/nn/module.hpp"
#include "xtgrad/nn/npz.hpp"
#include "xtgrad/nn/optimizers.hpp"
#include "xtgrad/nn/serialize.hpp"
#include "xtgrad/nn/train.hpp"
