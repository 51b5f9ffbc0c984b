// More elementwise ops: clamp (clip), where, masked_fill, tril/triu, maximum/minimum, log1p,
// expm1, sin, cos, pow with a tensor exponent, reciprocal, sign. Binary ops broadcast as numpy does.
#pragma once

#include <cstdint>
#include <optional>
#include <type_traits>
#include <utility>

#include "xtgrad/core/variable.hpp"

namespace xtgrad {

// min(max(x, lo), hi), either bound optional; dx = g where lo ≤ x ≤ hi (bounds included, as
// PyTorch), 0 outside. NaN stays NaN. Throws if lo > hi (PyTorch returns hi everywhere).
template <class T>
BasicVariable<T> clamp(const BasicVariable<T>& x, std::optional<double> lo, std::optional<double> hi);
// a where condition ≠ 0, else b; all three broadcast together. da = g·[c], db = g·[¬c]. The op
// itself; call it as where(condition, a, b) (below).
template <class T>
BasicVariable<T> where_op(const TensorOf<T>& condition, const BasicVariable<T>& a, const BasicVariable<T>& b);

// What where() takes as its condition: a Tensor or any xtensor expression (`x.value() > 0`, a
// bool array; converted to T), or a Variable (its value; no gradient flows to it).
template <class C>
struct IsWhereCondition : std::bool_constant<xt::is_xexpression<C>::value> {};
template <class U>
struct IsWhereCondition<BasicVariable<U>> : std::true_type {};
template <class T, class C>
decltype(auto) where_condition(C&& condition) {
  using D = std::decay_t<C>;
  if constexpr (std::is_same_v<D, TensorOf<T>>) {
    return static_cast<const TensorOf<T>&>(condition);
  } else if constexpr (std::is_same_v<D, BasicVariable<T>>) {
    return static_cast<const TensorOf<T>&>(condition.value());
  } else if constexpr (xt::is_xexpression<D>::value) {
    return TensorOf<T>(std::forward<C>(condition));
  } else {
    return TensorOf<T>(condition.value());  // a Variable of the other precision
  }
}

// where(condition, a, b): a where condition ≠ 0 (NaN counts as true), else b; a or b may be a
// number (a constant). Written so that an unqualified call under `using namespace xtgrad;` picks
// these, not xt::where (which a Tensor condition brings in by argument-dependent lookup): the
// Variables are taken by value (a handle copy) and the condition by forwarding reference, so
// every argument binds as well as to xt::where(E1&&, E2&&, E3&&), and these are the more
// specialised templates.
template <class C, class T, std::enable_if_t<IsWhereCondition<std::decay_t<C>>::value, int> = 0>
BasicVariable<T> where(C&& condition, BasicVariable<T> a, BasicVariable<T> b) {
  return where_op<T>(where_condition<T>(std::forward<C>(condition)), a, b);
}
template <class C, class T, class S,
          std::enable_if_t<IsWhereCondition<std::decay_t<C>>::value && std::is_arithmetic_v<S>, int> = 0>
BasicVariable<T> where(C&& condition, BasicVariable<T> a, S b) {
  return where_op<T>(where_condition<T>(std::forward<C>(condition)), a, BasicVariable<T>::scalar(T(b)));
}
template <class C, class T, class S,
          std::enable_if_t<IsWhereCondition<std::decay_t<C>>::value && std::is_arithmetic_v<S>, int> = 0>
BasicVariable<T> where(C&& condition, S a, BasicVariable<T> b) {
  return where_op<T>(where_condition<T>(std::forward<C>(condition)), BasicVariable<T>::scalar(T(a)), b);
}
// x with `value` wherever mask ≠ 0 (NaN counts as true); the mask broadcasts to x's shape (x does
// not grow). dx = g·[mask = 0]. PyTorch's masked_fill (mask a bool tensor there).
template <class T>
BasicVariable<T> masked_fill(const BasicVariable<T>& x, const NonDeduced<TensorOf<T>>& mask, double value);
// x with the elements above the k-th diagonal of its last two axes zeroed (kept: j − i ≤ k);
// k = 0 the main diagonal, k > 0 above it, k < 0 below. dx = g on the kept elements. x rank ≥ 2.
template <class T>
BasicVariable<T> tril(const BasicVariable<T>& x, std::int64_t k = 0);
// x with the elements below the k-th diagonal of its last two axes zeroed (kept: j − i ≥ k).
template <class T>
BasicVariable<T> triu(const BasicVariable<T>& x, std::int64_t k = 0);
// clamp(x, lo, hi) under PyTorch's other name (torch.clip).
template <class T>
BasicVariable<T> clip(const BasicVariable<T>& x, std::optional<double> lo, std::optional<double> hi) {
  return clamp(x, lo, hi);
}
// Elementwise max(a, b), NaN if either is NaN; on ties each input gets g/2 (as PyTorch).
template <class T>
BasicVariable<T> maximum(const BasicVariable<T>& a, const BasicVariable<T>& b);
// Elementwise min(a, b), NaN if either is NaN; on ties each input gets g/2 (as PyTorch).
template <class T>
BasicVariable<T> minimum(const BasicVariable<T>& a, const BasicVariable<T>& b);
template <class T>
BasicVariable<T> log1p(const BasicVariable<T>& x);  // ln(1 + x), accurate for small x; dx = g/(1 + x)
template <class T>
BasicVariable<T> expm1(const BasicVariable<T>& x);  // eˣ − 1, accurate for small x; dx = g·eˣ
template <class T>
BasicVariable<T> sin(const BasicVariable<T>& x);    // sin x; dx = g·cos x
template <class T>
BasicVariable<T> cos(const BasicVariable<T>& x);    // cos x; dx = −g·sin x
// xᵖ with a tensor exponent (broadcast). dx = g·p·xᵖ⁻¹ (0 where p = 0); dp = g·xᵖ·ln x
// (0 where x = 0 and p ≥ 0), as PyTorch.
template <class T>
BasicVariable<T> pow(const BasicVariable<T>& x, const BasicVariable<T>& p);
template <class T>
BasicVariable<T> reciprocal(const BasicVariable<T>& x);  // 1/x; dx = −g/x²
// −1, 0 or +1 (NaN stays NaN). A constant: no gradient flows through it (PyTorch: zeros).
template <class T>
BasicVariable<T> sign(const BasicVariable<T>& x);

}  // namespace xtgrad
