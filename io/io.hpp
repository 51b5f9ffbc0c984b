// io: reading and writing files — numpy .npy/.npz archives, IDX files, MNIST (and the
// conversions of its images and labels to tensors), files written whole or not at all, and
// plots drawn by gnuplot.
// (Saving a module's parameters or a training checkpoint is nn's: nn/serialize.hpp and
// nn/checkpoint.hpp, which write through io/.)
#pragma once

#include "xtgrad/io/atomic_file.hpp"
#include "xtgrad/io/gnuplot.hpp"
#include "xtgrad/io/idx.hpp"
#include "xtgrad/io/mnist.hpp"
#include "xtgrad/io/npz.hpp"
