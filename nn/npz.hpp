// Moved to <xtgrad/io/npz.hpp> (io/: reading and writing files); this forwarding header will be
// removed in the next minor release.
#pragma once

#include "xtgrad/io/npz.hpp"
