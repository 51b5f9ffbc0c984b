// Moved to <xtgrad/io/mnist.hpp> (io/: reading and writing files); this forwarding header will be
// removed in the next minor release.
#pragma once

#include "xtgrad/io/mnist.hpp"
