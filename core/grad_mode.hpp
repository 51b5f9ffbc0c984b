// Whether ops record the graph on this thread; `NoGrad` switches recording off for a scope.
#pragma once

#include "xtgrad/core/tensor.hpp"

namespace xtgrad {

// True unless a NoGrad guard is alive on this thread.
bool is_grad_enabled();

// RAII: while alive, ops on this thread record no parents and no backward closures
// (evaluation, optimizer updates). Nests; restores the previous mode on destruction.
class NoGrad {
 public:
  NoGrad();
  ~NoGrad();
  NoGrad(const NoGrad&) = delete;
  NoGrad& operator=(const NoGrad&) = delete;

 private:
  bool previous_;
};

}  // namespace xtgrad
