#include "xtgrad/core/grad_mode.hpp"

namespace xtgrad {
namespace {
thread_local bool grad_enabled = true;
}

bool is_grad_enabled() { return grad_enabled; }

NoGrad::NoGrad() : previous_(grad_enabled) { grad_enabled = false; }
NoGrad::~NoGrad() { grad_enabled = previous_; }

}  // namespace xtgrad
