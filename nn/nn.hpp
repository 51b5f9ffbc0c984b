// nn: modules, initializers, optimizers, data and the training loop, for float and double
// (BasicX<T>); the float names (Linear, SGD, Dataset, ...) go with core/defaults.hpp's
// Variable and Tensor, which this umbrella brings along.
#pragma once

#include "xtgrad/core/defaults.hpp"

// io/ (npz, IDX, MNIST, atomic writes) moved out of nn/; nn.hpp still includes it, so that
// a program that included nn.hpp for load_mnist or read_npz keeps compiling.
#include "xtgrad/io/io.hpp"
#include "xtgrad/nn/activations.hpp"
#include "xtgrad/nn/attention.hpp"
#include "xtgrad/nn/batches.hpp"
#include "xtgrad/nn/checkpoint.hpp"
#include "xtgrad/nn/clip.hpp"
#include "xtgrad/nn/conv.hpp"
#include "xtgrad/nn/data_loader.hpp"
#include "xtgrad/nn/batch_shard.hpp"
#include "xtgrad/nn/dropout.hpp"
#include "xtgrad/nn/early_stopping.hpp"
#include "xtgrad/nn/gradient_reducer.hpp"
#include "xtgrad/nn/init.hpp"
#include "xtgrad/nn/layers.hpp"
#include "xtgrad/nn/metrics.hpp"
#include "xtgrad/nn/models.hpp"
#include "xtgrad/nn/module.hpp"
#include "xtgrad/nn/normalization.hpp"
#include "xtgrad/nn/optimizers.hpp"
#include "xtgrad/nn/sam.hpp"
#include "xtgrad/nn/prune.hpp"
#include "xtgrad/nn/recurrent.hpp"
#include "xtgrad/nn/schedulers.hpp"
#include "xtgrad/nn/serialize.hpp"
#include "xtgrad/nn/stop_signals.hpp"
#include "xtgrad/nn/summary.hpp"
#include "xtgrad/nn/train.hpp"
#include "xtgrad/nn/training_errors.hpp"
