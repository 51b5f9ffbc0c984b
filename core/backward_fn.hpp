// BasicBackwardFn<T>: the closure a node runs in the backward sweep. Like std::function<void(BasicNode<T>&)>
// but move-only (a closure may own saved tensors) and stored in a recycled small block, so
// building a graph step after step does not call malloc for its closures.
#pragma once

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

#include "xtgrad/core/small_blocks.hpp"

namespace xtgrad {

template <class T>
struct BasicNode;

template <class T>
class BasicBackwardFn {
 public:
  BasicBackwardFn() = default;
  BasicBackwardFn(std::nullptr_t) {}  // NOLINT: an empty closure, as std::function
  // Any callable with signature void(BasicNode<T>&).
  template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, BasicBackwardFn> &&
                                              std::is_invocable_r_v<void, std::decay_t<F>&, BasicNode<T>&>>>
  BasicBackwardFn(F&& f) {  // NOLINT: implicit, as std::function
    using Fn = std::decay_t<F>;
    static_assert(alignof(Fn) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__, "over-aligned closure");
    void* block = allocate_small_block(sizeof(Fn));
    try {
      ::new (block) Fn(std::forward<F>(f));
    } catch (...) {
      free_small_block(block, sizeof(Fn));
      throw;
    }
    callable_ = block;
    ops_ = &kOps<Fn>;
  }
  BasicBackwardFn(BasicBackwardFn&& other) noexcept
      : callable_(std::exchange(other.callable_, nullptr)), ops_(std::exchange(other.ops_, nullptr)) {}
  BasicBackwardFn& operator=(BasicBackwardFn&& other) noexcept {
    if (this != &other) {
      reset();
      callable_ = std::exchange(other.callable_, nullptr);
      ops_ = std::exchange(other.ops_, nullptr);
    }
    return *this;
  }
  BasicBackwardFn& operator=(std::nullptr_t) noexcept {
    reset();
    return *this;
  }
  BasicBackwardFn(const BasicBackwardFn&) = delete;
  BasicBackwardFn& operator=(const BasicBackwardFn&) = delete;
  ~BasicBackwardFn() { reset(); }

  explicit operator bool() const noexcept { return ops_ != nullptr; }
  // Runs the closure; it must not be empty.
  void operator()(BasicNode<T>& self) const { ops_->call(callable_, self); }

 private:
  struct Ops {
    void (*call)(void* callable, BasicNode<T>& self);
    void (*destroy)(void* callable) noexcept;
    std::size_t size;
  };
  template <class Fn>
  static constexpr Ops kOps = {[](void* c, BasicNode<T>& self) { (*static_cast<Fn*>(c))(self); },
                               [](void* c) noexcept { static_cast<Fn*>(c)->~Fn(); }, sizeof(Fn)};

  void reset() noexcept {
    if (!ops_) return;
    const Ops* ops = std::exchange(ops_, nullptr);
    void* callable = std::exchange(callable_, nullptr);
    ops->destroy(callable);
    free_small_block(callable, ops->size);
  }

  void* callable_ = nullptr;
  const Ops* ops_ = nullptr;
};

}  // namespace xtgrad
