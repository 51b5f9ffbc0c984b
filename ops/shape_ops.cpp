#include "xtgrad/ops/shape_ops.hpp"

#include <algorithm>
#include <numeric>
#include <stdexcept>
#include <string>

#include "xtgrad/core/accumulate.hpp"
#include "xtgrad/ops/linalg.hpp"
#include "xtgrad/ops/shape_checks.hpp"
#include "xtgrad/ops/take.hpp"

namespace xtgrad {
namespace {

// Maps an axis in [−(rank+1), rank] (a position for a new axis) to [0, rank].
std::size_t insertion_axis(const char* op, const Shape& shape, int axis) {
  const int r = static_cast<int>(shape.size());
  const int a = axis < 0 ? axis + r + 1 : axis;
  if (a < 0 || a > r) {
    throw std::invalid_argument(std::string(op) + ": axis " + std::to_string(axis) +
                                " is out of range for a new axis of shape " + shape_str(shape));
  }
  return static_cast<std::size_t>(a);
}

// dst[k] (+)= src[k'] with dst the permutation of src: dst axis d is src axis perm[d].
template <class Scalar>
void permute_copy(const Scalar* src, const Shape& src_shape, const std::vector<std::size_t>& perm, Scalar* dst,
                  bool add) {
  const std::size_t r = src_shape.size();
  std::vector<std::size_t> src_stride(r, 1), dst_shape(r), idx(r, 0), step(r);
  for (std::size_t d = r; d-- > 1;) src_stride[d - 1] = src_stride[d] * src_shape[d];
  for (std::size_t d = 0; d < r; ++d) {
    dst_shape[d] = src_shape[perm[d]];
    step[d] = src_stride[perm[d]];
  }
  const std::size_t n = element_count(src_shape);
  std::size_t off = 0;
  for (std::size_t k = 0; k < n; ++k) {
    dst[k] = add ? dst[k] + src[off] : src[off];
    for (std::size_t d = r; d-- > 0;) {
      off += step[d];
      if (++idx[d] < dst_shape[d]) break;
      off -= step[d] * idx[d];
      idx[d] = 0;
    }
  }
}

// Joins `xs` along `axis` of the output shape `out_shape`; extents[i] is input i's share of that
// axis (1 for stack, whose inputs lack the axis: their memory layout is the same).
template <class Scalar>
BasicVariable<Scalar> join(const char* op, const std::vector<BasicVariable<Scalar>>& xs, const Shape& out_shape,
                           std::size_t axis, std::vector<std::size_t> extents) {
  using Tensor = TensorOf<Scalar>;
  using Variable = BasicVariable<Scalar>;
  using Node = BasicNode<Scalar>;
  std::size_t outer = 1, inner = 1;
  for (std::size_t d = 0; d < axis; ++d) outer *= out_shape[d];
  for (std::size_t d = axis + 1; d < out_shape.size(); ++d) inner *= out_shape[d];
  const std::size_t row = out_shape[axis] * inner;  // one outer slice of the output
  Tensor y = empty_tensor<Scalar>(out_shape);
  std::size_t at = 0;  // where input i starts within an outer slice
  for (std::size_t i = 0; i < xs.size(); ++i) {
    const std::size_t block = extents[i] * inner;
    const Scalar* src = xs[i].value().data();
    for (std::size_t o = 0; o < outer; ++o) std::copy(src + o * block, src + (o + 1) * block, y.data() + o * row + at);
    at += block;
  }
  return make_result(op, std::move(y), xs, [extents = std::move(extents), outer, inner, row, axis](Node& self) {
    // dxᵢ = gᵢ: input i's block of every outer slice of g
    if (self.grad_node) {  // create_graph: narrow g along the axis, reshaped to input i
      const Variable g(self.grad_node);
      std::int64_t start = 0;
      for (std::size_t i = 0; i < extents.size(); ++i) {
        if (self.parent_requires_grad(i)) {
          add_variable_to_parent(
              self, i, reshape(narrow(g, int(axis), start, extents[i]), shape_of(self.parents[i]->value)));
        }
        start += static_cast<std::int64_t>(extents[i]);
      }
      return;
    }
    std::size_t at = 0;
    for (std::size_t i = 0; i < extents.size(); ++i) {
      const std::size_t block = extents[i] * inner;
      if (self.parent_requires_grad(i)) {
        bool accumulate = false;
        Scalar* dx = grad_target(self, i, accumulate);
        for (std::size_t o = 0; o < outer; ++o) {
          const Scalar* g = self.grad.data() + o * row + at;
          Scalar* d = dx + o * block;
          if (accumulate) {
            for (std::size_t j = 0; j < block; ++j) d[j] += g[j];
          } else {
            std::copy(g, g + block, d);
          }
        }
      }
      at += block;
    }
  });
}

template <class Scalar>
void check_nonempty_list(const char* op, const std::vector<BasicVariable<Scalar>>& xs) {
  if (xs.empty()) throw std::invalid_argument(std::string(op) + ": needs at least one input");
}

}  // namespace

template <class Scalar>
BasicVariable<Scalar> squeeze(const BasicVariable<Scalar>& x) {
  Shape s;
  for (std::size_t e : x.value().shape()) {
    if (e != 1) s.push_back(e);
  }
  return reshape(x, s);
}

template <class Scalar>
BasicVariable<Scalar> squeeze(const BasicVariable<Scalar>& x, int axis) {
  const std::size_t a = normalize_axis("squeeze", x.value(), axis);
  Shape s = shape_of(x.value());
  if (s[a] != 1) return reshape(x, s);
  s.erase(s.begin() + static_cast<std::ptrdiff_t>(a));
  return reshape(x, s);
}

template <class Scalar>
BasicVariable<Scalar> unsqueeze(const BasicVariable<Scalar>& x, int axis) {
  Shape s = shape_of(x.value());
  const std::size_t a = insertion_axis("unsqueeze", s, axis);
  s.insert(s.begin() + static_cast<std::ptrdiff_t>(a), 1);
  return reshape(x, s);
}

template <class Scalar>
BasicVariable<Scalar> flatten(const BasicVariable<Scalar>& x, int start_axis, int end_axis) {
  if (x.dim() == 0) return reshape(x, {1});
  const std::size_t a = normalize_axis("flatten", x.value(), start_axis);
  const std::size_t b = normalize_axis("flatten", x.value(), end_axis);
  if (a > b) {
    throw std::invalid_argument("flatten: start axis " + std::to_string(start_axis) + " comes after end axis " +
                                std::to_string(end_axis) + " for shape " + shape_str(x.value()));
  }
  const Shape in = shape_of(x.value());
  Shape s(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(a));
  s.push_back(std::accumulate(in.begin() + static_cast<std::ptrdiff_t>(a),
                              in.begin() + static_cast<std::ptrdiff_t>(b) + 1, std::size_t(1), std::multiplies<>()));
  s.insert(s.end(), in.begin() + static_cast<std::ptrdiff_t>(b) + 1, in.end());
  return reshape(x, s);
}

template <class Scalar>
BasicVariable<Scalar> permute(const BasicVariable<Scalar>& x, const std::vector<int>& perm) {
  using Tensor = TensorOf<Scalar>;
  using Variable = BasicVariable<Scalar>;
  using Node = BasicNode<Scalar>;
  const Tensor& v = x.value();
  if (perm.size() != v.dimension()) {
    throw std::invalid_argument("permute: " + std::to_string(perm.size()) + " axes given for shape " + shape_str(v));
  }
  std::vector<std::size_t> p(perm.size()), inverse(perm.size());
  std::vector<bool> seen(perm.size(), false);
  for (std::size_t d = 0; d < perm.size(); ++d) {
    p[d] = normalize_axis("permute", v, perm[d]);
    if (seen[p[d]]) {
      throw std::invalid_argument("permute: axis " + std::to_string(perm[d]) + " is given twice for shape " +
                                  shape_str(v));
    }
    seen[p[d]] = true;
    inverse[p[d]] = d;
  }
  const Shape in = shape_of(v);
  Shape out(in.size());
  for (std::size_t d = 0; d < in.size(); ++d) out[d] = in[p[d]];
  Tensor y = empty_tensor<Scalar>(out);
  permute_copy(v.data(), in, p, y.data(), false);
  return make_result("permute", std::move(y), {x}, [inverse = std::move(inverse), out](Node& self) {
    // dx = g permuted by the inverse permutation
    if (self.grad_node) {
      add_variable_to_parent(self, 0, permute(Variable(self.grad_node), std::vector<int>(inverse.begin(), inverse.end())));
      return;
    }
    Scalar beta = 0;
    Scalar* dx = grad_target(self, 0, beta);
    permute_copy(self.grad.data(), out, inverse, dx, beta != 0);
  });
}

template <class Scalar>
BasicVariable<Scalar> swap_axes(const BasicVariable<Scalar>& x, int a, int b) {
  const std::size_t i = normalize_axis("swap_axes", x.value(), a), j = normalize_axis("swap_axes", x.value(), b);
  std::vector<int> perm(x.dim());
  std::iota(perm.begin(), perm.end(), 0);
  std::swap(perm[i], perm[j]);
  return permute(x, perm);
}

namespace {

// concat and stack for either precision (the public overloads below forward here).
template <class Scalar>
BasicVariable<Scalar> concat_of(const std::vector<BasicVariable<Scalar>>& xs, int axis) {
  using Tensor = TensorOf<Scalar>;
  check_nonempty_list("concat", xs);
  const Tensor& first = xs[0].value();
  if (first.dimension() == 0) throw std::invalid_argument("concat: inputs must have at least one axis, got shape ()");
  const std::size_t a = normalize_axis("concat", first, axis);
  Shape out = shape_of(first);
  out[a] = 0;
  std::vector<std::size_t> extents;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    const Tensor& v = xs[i].value();
    bool ok = v.dimension() == first.dimension();
    for (std::size_t d = 0; ok && d < v.dimension(); ++d) ok = d == a || v.shape()[d] == first.shape()[d];
    if (!ok) {
      throw std::invalid_argument("concat: input " + std::to_string(i) + " has shape " + shape_str(v) +
                                  ", input 0 has shape " + shape_str(first) + ": only axis " + std::to_string(axis) +
                                  " may differ");
    }
    extents.push_back(v.shape()[a]);
    out[a] += v.shape()[a];
  }
  return join("concat", xs, out, a, std::move(extents));
}

template <class Scalar>
BasicVariable<Scalar> stack_of(const std::vector<BasicVariable<Scalar>>& xs, int axis) {
  check_nonempty_list("stack", xs);
  const Shape in = shape_of(xs[0].value());
  const std::size_t a = insertion_axis("stack", in, axis);
  for (std::size_t i = 1; i < xs.size(); ++i) {
    if (shape_of(xs[i].value()) != in) {
      throw std::invalid_argument("stack: input " + std::to_string(i) + " has shape " + shape_str(xs[i].value()) +
                                  ", input 0 has shape " + shape_str(in) + ": all must be equal");
    }
  }
  Shape out = in;
  out.insert(out.begin() + static_cast<std::ptrdiff_t>(a), xs.size());
  return join("stack", xs, out, a, std::vector<std::size_t>(xs.size(), 1));
}

}  // namespace

BasicVariable<float> concat(const std::vector<BasicVariable<float>>& xs, int axis) { return concat_of(xs, axis); }
BasicVariable<double> concat(const std::vector<BasicVariable<double>>& xs, int axis) { return concat_of(xs, axis); }
BasicVariable<float> stack(const std::vector<BasicVariable<float>>& xs, int axis) { return stack_of(xs, axis); }
BasicVariable<double> stack(const std::vector<BasicVariable<double>>& xs, int axis) { return stack_of(xs, axis); }

template <class Scalar>
BasicVariable<Scalar> slice(const BasicVariable<Scalar>& x, int axis, std::int64_t start, std::int64_t stop,
                            std::int64_t step) {
  const std::size_t a = normalize_axis("slice", x.value(), axis);
  if (step < 1) {
    throw std::invalid_argument("slice: step must be at least 1, got " + std::to_string(step) + " (shape " +
                                shape_str(x.value()) + ")");
  }
  const auto n = static_cast<std::int64_t>(x.value().shape()[a]);
  const auto clamp_index = [n](std::int64_t i) { return std::clamp(i < 0 ? i + n : i, std::int64_t(0), n); };
  const std::int64_t b = clamp_index(start), e = clamp_index(stop);
  std::vector<std::size_t> idx;
  for (std::int64_t i = b; i < e; i += step) idx.push_back(static_cast<std::size_t>(i));
  return take_along_axis("slice", x, a, std::move(idx));
}

template <class Scalar>
BasicVariable<Scalar> narrow(const BasicVariable<Scalar>& x, int axis, std::int64_t start, std::size_t length) {
  const std::size_t a = normalize_axis("narrow", x.value(), axis);
  const auto n = static_cast<std::int64_t>(x.value().shape()[a]);
  const std::int64_t b = start < 0 ? start + n : start;
  if (b < 0 || b + static_cast<std::int64_t>(length) > n) {
    throw std::invalid_argument("narrow: start " + std::to_string(start) + " and length " + std::to_string(length) +
                                " do not fit axis " + std::to_string(axis) + " of shape " + shape_str(x.value()));
  }
  return take_range("narrow", x, a, static_cast<std::size_t>(b), length);
}

template <class Scalar>
BasicVariable<Scalar> rows(const BasicVariable<Scalar>& x, std::int64_t start, std::int64_t stop) {
  if (x.value().dimension() == 0) {
    throw std::invalid_argument("rows: a 0-d value has no rows, got " + shape_str(x.value()));
  }
  const auto n = static_cast<std::int64_t>(x.value().shape()[0]);
  const auto clamp_index = [n](std::int64_t i) { return std::clamp(i < 0 ? i + n : i, std::int64_t(0), n); };
  const std::int64_t b = clamp_index(start), e = std::max(b, clamp_index(stop));
  return take_range("rows", x, 0, static_cast<std::size_t>(b), static_cast<std::size_t>(e - b));
}

// The member form, declared in core/variable.hpp (core includes no op).
template <class Scalar>
BasicVariable<Scalar> BasicVariable<Scalar>::rows(std::int64_t start, std::int64_t stop) const {
  return xtgrad::rows(*this, start, stop);
}

template <class Scalar>
std::vector<BasicVariable<Scalar>> split(const BasicVariable<Scalar>& x, std::size_t size, int axis) {
  const std::size_t a = normalize_axis("split", x.value(), axis);
  if (size == 0) throw std::invalid_argument("split: size must be positive (shape " + shape_str(x.value()) + ")");
  const std::size_t n = x.value().shape()[a];
  std::vector<BasicVariable<Scalar>> parts;  // the one allocation: the vector returned
  parts.reserve(n == 0 ? 1 : (n + size - 1) / size);
  if (n == 0) parts.push_back(take_range("split", x, a, 0, 0));
  for (std::size_t at = 0; at < n; at += size) parts.push_back(take_range("split", x, a, at, std::min(size, n - at)));
  return parts;
}

template <class Scalar>
std::vector<BasicVariable<Scalar>> split_sizes(const BasicVariable<Scalar>& x, const std::vector<std::size_t>& sizes,
                                               int axis) {
  const std::size_t a = normalize_axis("split_sizes", x.value(), axis);
  const std::size_t total = std::accumulate(sizes.begin(), sizes.end(), std::size_t(0));
  if (total != x.value().shape()[a]) {
    throw std::invalid_argument("split_sizes: sizes add up to " + std::to_string(total) + ", axis " +
                                std::to_string(axis) + " of shape " + shape_str(x.value()) + " has " +
                                std::to_string(x.value().shape()[a]));
  }
  std::vector<BasicVariable<Scalar>> parts;
  std::int64_t at = 0;
  for (std::size_t s : sizes) {
    parts.push_back(narrow(x, axis, at, s));
    at += static_cast<std::int64_t>(s);
  }
  return parts;
}

template <class Scalar>
void chunk_into(const BasicVariable<Scalar>& x, std::size_t pieces, int axis, BasicVariable<Scalar>* out) {
  const std::size_t a = normalize_axis("chunk", x.value(), axis);
  const std::size_t n = x.value().shape()[a];
  const std::size_t size = pieces == 0 ? 0 : (n + pieces - 1) / pieces;
  if (pieces == 0 || n == 0 || (pieces - 1) * size >= n) {
    throw std::invalid_argument("chunk: axis " + std::to_string(axis) + " of shape " + shape_str(x.value()) +
                                " cannot make " + std::to_string(pieces) + " non-empty pieces of at most " +
                                std::to_string(size) + " elements");
  }
  for (std::size_t i = 0; i < pieces; ++i) {
    out[i] = take_range("chunk", x, a, i * size, std::min(size, n - i * size));
  }
}

#define XTGRAD_INSTANTIATE(T)                                                                                 \
  template void chunk_into(const BasicVariable<T>&, std::size_t, int, BasicVariable<T>*);                    \
  template BasicVariable<T> squeeze(const BasicVariable<T>&);                                                 \
  template BasicVariable<T> squeeze(const BasicVariable<T>&, int);                                            \
  template BasicVariable<T> unsqueeze(const BasicVariable<T>&, int);                                          \
  template BasicVariable<T> flatten(const BasicVariable<T>&, int, int);                                       \
  template BasicVariable<T> permute(const BasicVariable<T>&, const std::vector<int>&);                                  \
  template BasicVariable<T> swap_axes(const BasicVariable<T>&, int, int);                                     \
  template BasicVariable<T> slice(const BasicVariable<T>&, int, std::int64_t, std::int64_t, std::int64_t);    \
  template BasicVariable<T> rows(const BasicVariable<T>&, std::int64_t, std::int64_t);                       \
  template BasicVariable<T> BasicVariable<T>::rows(std::int64_t, std::int64_t) const;                       \
  template BasicVariable<T> narrow(const BasicVariable<T>&, int, std::int64_t, std::size_t);                  \
  template std::vector<BasicVariable<T>> split(const BasicVariable<T>&, std::size_t, int);                    \
  template std::vector<BasicVariable<T>> split_sizes(const BasicVariable<T>&, const std::vector<std::size_t>&, \
                                                     int);
XTGRAD_INSTANTIATE(float)
XTGRAD_INSTANTIATE(double)
#undef XTGRAD_INSTANTIATE

}  // namespace xtgrad
