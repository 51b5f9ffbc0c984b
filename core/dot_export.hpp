// Graphviz export of the graph behind a Variable.
#pragma once

#include <string>

#include "xtgrad/core/variable.hpp"

namespace xtgrad {

// DOT text: one node per graph node (op name and shape; parameters as filled ellipses with
// their names, constants grey) and an edge from each input to the op that used it.
template <class T>
std::string to_dot(const BasicVariable<T>& output);

}  // namespace xtgrad
