// Evaluates random op graphs with xtgrad (double) for the differential test against PyTorch
// (diff_torch.py). Reads a JSON array of cases from the file given as the only argument (or
// stdin with "-"); writes one JSON line per case: the output's shape and values and the gradient
// of Σ output ⊙ weights with respect to every leaf (null where none flows).
//
// A case: {"leaves": [{"shape": [2, 3], "data": [...], "grad": true}, ...],
//          "nodes": [{"op": "exp", "in": [0]}, {"op": "sum_axes", "in": [1], "axes": [0], "keepdims": false}, ...],
//          "weights": [...]}   (a node's id is the number of leaves plus its position)
#include <cmath>
#include <cstdio>
#include <exception>
#include <fstream>
#include <iostream>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "xtgrad/core/core.hpp"
#include "xtgrad/ops/ops.hpp"

namespace {

using json = nlohmann::json;
using xtgrad::Reduction;
using xtgrad::Shape;
using Tensor = xtgrad::TensorOf<double>;  // the runner works in double, as torch.float64
using Variable = xtgrad::BasicVariable<double>;

Tensor tensor_of(const json& j) {
  Tensor t = Tensor::from_shape(j.at("shape").get<Shape>());
  const std::vector<double> data = j.at("data").get<std::vector<double>>();
  if (data.size() != t.size()) throw std::invalid_argument("diff_runner: data size does not match shape");
  std::copy(data.begin(), data.end(), t.data());
  return t;
}

std::optional<double> opt_double(const json& n, const char* key) {
  if (!n.contains(key) || n.at(key).is_null()) return std::nullopt;
  return n.at(key).get<double>();
}

std::optional<Tensor> opt_tensor(const json& n, const char* key) {
  if (!n.contains(key) || n.at(key).is_null()) return std::nullopt;
  return tensor_of(n.at(key));
}

Reduction reduction_of(const json& n) {
  const std::string r = n.value("reduction", "mean");
  if (r == "none") return Reduction::none;
  if (r == "sum") return Reduction::sum;
  if (r == "batchmean") return Reduction::batch_mean;
  return Reduction::mean;
}

using Labels = std::vector<std::size_t>;

// One node: op name, inputs by id, parameters.
Variable apply_node(const json& n, const std::vector<Variable>& v) {
  const std::string op = n.at("op").get<std::string>();
  std::vector<Variable> in;
  for (std::size_t id : n.at("in").get<std::vector<std::size_t>>()) in.push_back(v.at(id));
  const auto a = [&] { return in.at(0); };
  const auto b = [&] { return in.at(1); };
  const auto num = [&](const char* key) { return n.at(key).get<double>(); };
  const auto axis = [&] { return n.at("axis").get<int>(); };
  const auto keep = [&] { return n.value("keepdims", false); };
  const auto axes = [&] { return n.at("axes").get<std::vector<int>>(); };
  // elementwise
  if (op == "add") return a() + b();
  if (op == "sub") return a() - b();
  if (op == "mul") return a() * b();
  if (op == "div") return a() / b();
  if (op == "neg") return -a();
  if (op == "add_scalar") return a() + num("s");
  if (op == "mul_scalar") return a() * num("s");
  if (op == "rsub_scalar") return num("s") - a();
  if (op == "rdiv_scalar") return num("s") / a();
  if (op == "exp") return xtgrad::exp(a());
  if (op == "log") return xtgrad::log(a());
  if (op == "sqrt") return xtgrad::sqrt(a());
  if (op == "square") return xtgrad::square(a());
  if (op == "pow_scalar") return xtgrad::pow(a(), num("p"));
  if (op == "abs") return xtgrad::abs(a());
  if (op == "clamp") return xtgrad::clamp(a(), opt_double(n, "lo"), opt_double(n, "hi"));
  if (op == "where") return xtgrad::where(tensor_of(n.at("cond")), a(), b());
  if (op == "maximum") return xtgrad::maximum(a(), b());
  if (op == "minimum") return xtgrad::minimum(a(), b());
  if (op == "log1p") return xtgrad::log1p(a());
  if (op == "expm1") return xtgrad::expm1(a());
  if (op == "sin") return xtgrad::sin(a());
  if (op == "cos") return xtgrad::cos(a());
  if (op == "pow") return xtgrad::pow(a(), b());
  if (op == "reciprocal") return xtgrad::reciprocal(a());
  if (op == "sign") return xtgrad::sign(a());
  // activations
  if (op == "sigmoid") return xtgrad::sigmoid(a());
  if (op == "tanh") return xtgrad::tanh(a());
  if (op == "relu") return xtgrad::relu(a());
  if (op == "affine") return xtgrad::affine(a(), num("slope"), num("intercept"));
  if (op == "softmax") return xtgrad::softmax(a(), axis());
  if (op == "log_softmax") return xtgrad::log_softmax(a(), axis());
  if (op == "softplus") return xtgrad::softplus(a(), num("beta"), num("threshold"));
  if (op == "leaky_relu") return xtgrad::leaky_relu(a(), num("slope"));
  if (op == "elu") return xtgrad::elu(a(), num("alpha"));
  if (op == "gelu") return xtgrad::gelu(a(), xtgrad::GeluApproximation::none);
  if (op == "gelu_tanh") return xtgrad::gelu(a(), xtgrad::GeluApproximation::tanh);
  if (op == "silu") return xtgrad::silu(a());
  if (op == "hardtanh") return xtgrad::hardtanh(a(), num("lo"), num("hi"));
  if (op == "log_sigmoid") return xtgrad::log_sigmoid(a());
  // reductions
  if (op == "sum_all") return xtgrad::sum(a());
  if (op == "mean_all") return xtgrad::mean(a());
  if (op == "sum_axis") return xtgrad::sum(a(), axis(), keep());
  if (op == "mean_axis") return xtgrad::mean(a(), axis(), keep());
  if (op == "sum_axes") return xtgrad::sum(a(), xtgrad::Axes(axes()), keep());
  if (op == "mean_axes") return xtgrad::mean(a(), xtgrad::Axes(axes()), keep());
  if (op == "max_all") return xtgrad::max(a());
  if (op == "min_all") return xtgrad::min(a());
  if (op == "max_axis") return xtgrad::max(a(), axis(), keep());
  if (op == "min_axis") return xtgrad::min(a(), axis(), keep());
  if (op == "amax") return xtgrad::amax(a(), xtgrad::Axes(axes()), keep());
  if (op == "amin") return xtgrad::amin(a(), xtgrad::Axes(axes()), keep());
  if (op == "argmax_axis") return Variable(xtgrad::argmax(a(), axis(), keep()));
  if (op == "argmin_axis") return Variable(xtgrad::argmin(a(), axis(), keep()));
  if (op == "argmax_all") return Variable(xtgrad::argmax(a()));
  if (op == "prod_axes") return xtgrad::prod(a(), xtgrad::Axes(axes()), keep());
  if (op == "prod_all") return xtgrad::prod(a());
  // var/std: "correction" (PyTorch's), or the edge cases' "unbiased"
  const auto correction = [&] {
    if (n.contains("correction")) return xtgrad::Correction(num("correction"));
    return xtgrad::Correction(n.at("unbiased").get<bool>() ? 1 : 0);
  };
  if (op == "var") return xtgrad::var(a(), xtgrad::Axes(axes()), correction(), keep());
  if (op == "std") return xtgrad::std_dev(a(), xtgrad::Axes(axes()), correction(), keep());
  if (op == "logsumexp") return xtgrad::logsumexp(a(), xtgrad::Axes(axes()), keep());
  if (op == "l1") return xtgrad::l1(a());
  if (op == "squared_l2") return xtgrad::squared_l2(a());
  // issue 22 §3.8: norm, masked_fill, tril/triu, mish, relu6, rows
  if (op == "norm") {
    const json& p = n.at("p");  // a number, or "inf" / "-inf"
    const double inf = std::numeric_limits<double>::infinity();
    return xtgrad::norm(a(), p.is_string() ? (p.get<std::string>() == "inf" ? inf : -inf) : p.get<double>(),
                        xtgrad::Axes(axes()), keep());
  }
  if (op == "masked_fill") return xtgrad::masked_fill(a(), tensor_of(n.at("mask")), num("value"));
  if (op == "tril") return xtgrad::tril(a(), n.at("k").get<std::int64_t>());
  if (op == "triu") return xtgrad::triu(a(), n.at("k").get<std::int64_t>());
  if (op == "mish") return xtgrad::mish(a());
  if (op == "relu6") return xtgrad::relu6(a());
  if (op == "rows") return a().rows(n.at("start").get<std::int64_t>(), n.at("stop").get<std::int64_t>());
  // linear algebra and shapes
  if (op == "matmul") return xtgrad::matmul(a(), b());
  if (op == "linear") return in.size() == 2 ? xtgrad::linear(a(), b()) : xtgrad::linear(a(), b(), in.at(2));
  if (op == "matmul_nd") return xtgrad::matmul_nd(a(), b());
  if (op == "layer_norm") return xtgrad::layer_norm(a(), b(), in.at(2), num("eps"));
  if (op == "sdpa") {
    xtgrad::BasicAttentionOptions<double> o;
    o.causal = n.value("causal", false);
    o.scale = opt_double(n, "scale");
    o.mask = opt_tensor(n, "mask");
    o.heads = n.value("heads", std::size_t(0));
    if (n.value("mask_kind", std::string("additive")) == "boolean") o.mask_kind = xtgrad::AttentionMask::boolean;
    return xtgrad::scaled_dot_product_attention(a(), b(), in.at(2), o);
  }
  if (op == "transpose") return xtgrad::transpose(a());
  if (op == "reshape") return xtgrad::reshape(a(), n.at("shape").get<Shape>());
  if (op == "squeeze") return xtgrad::squeeze(a());
  if (op == "squeeze_axis") return xtgrad::squeeze(a(), axis());
  if (op == "unsqueeze") return xtgrad::unsqueeze(a(), axis());
  if (op == "flatten") return xtgrad::flatten(a(), n.at("start").get<int>(), n.at("end").get<int>());
  if (op == "permute") return xtgrad::permute(a(), axes());
  if (op == "swap_axes") return xtgrad::swap_axes(a(), n.at("a").get<int>(), n.at("b").get<int>());
  if (op == "concat") return xtgrad::concat(in, axis());
  if (op == "stack") return xtgrad::stack(in, axis());
  if (op == "slice") {
    return xtgrad::slice(a(), axis(), n.at("start").get<std::int64_t>(), n.at("stop").get<std::int64_t>(),
                         n.at("step").get<std::int64_t>());
  }
  if (op == "narrow") {
    return xtgrad::narrow(a(), axis(), n.at("start").get<std::int64_t>(), n.at("length").get<std::size_t>());
  }
  if (op == "split") {
    return xtgrad::split(a(), n.at("size").get<std::size_t>(), axis()).at(n.at("part").get<std::size_t>());
  }
  if (op == "split_sizes") {
    return xtgrad::split_sizes(a(), n.at("sizes").get<std::vector<std::size_t>>(), axis())
        .at(n.at("part").get<std::size_t>());
  }
  if (op == "index_select") return xtgrad::index_select(a(), axis(), n.at("indices").get<Labels>());
  if (op == "gather") return xtgrad::gather(a(), axis(), tensor_of(n.at("index")));
  if (op == "scatter_add") return xtgrad::scatter_add(a(), axis(), tensor_of(n.at("index")), b());
  if (op == "one_hot") {
    return Variable(xtgrad::one_hot<double>(n.at("labels").get<Labels>(), n.at("classes").get<std::size_t>()));
  }
  // losses
  if (op == "cross_entropy_targets") return xtgrad::cross_entropy(a(), b());
  if (op == "cross_entropy_labels") return xtgrad::cross_entropy(a(), n.at("labels").get<Labels>());
  if (op == "cross_entropy_opts") {
    xtgrad::BasicCrossEntropyOptions<double> o;
    o.weight = opt_tensor(n, "weight");
    if (n.contains("ignore_index") && !n.at("ignore_index").is_null()) {
      o.ignore_index = n.at("ignore_index").get<std::size_t>();
    }
    o.label_smoothing = n.value("label_smoothing", 0.0);
    o.reduction = reduction_of(n);
    return xtgrad::cross_entropy(a(), n.at("labels").get<Labels>(), o);
  }
  if (op == "nll_loss") {
    xtgrad::BasicNllLossOptions<double> o;
    o.weight = opt_tensor(n, "weight");
    if (n.contains("ignore_index") && !n.at("ignore_index").is_null()) {
      o.ignore_index = n.at("ignore_index").get<std::size_t>();
    }
    o.reduction = reduction_of(n);
    return xtgrad::nll_loss(a(), n.at("labels").get<Labels>(), o);
  }
  if (op == "mse") return xtgrad::mse(a(), b());
  if (op == "mse_loss") return xtgrad::mse_loss(a(), b(), reduction_of(n));
  if (op == "l1_loss") return xtgrad::l1_loss(a(), b(), reduction_of(n));
  if (op == "huber_loss") return xtgrad::huber_loss(a(), b(), num("delta"), reduction_of(n));
  if (op == "smooth_l1_loss") return xtgrad::smooth_l1_loss(a(), b(), num("beta"), reduction_of(n));
  if (op == "bce_logits") {
    xtgrad::BasicBceWithLogitsOptions<double> o{opt_tensor(n, "weight"), opt_tensor(n, "pos_weight"), reduction_of(n)};
    return xtgrad::binary_cross_entropy_with_logits(a(), b(), o);
  }
  if (op == "kl_div") return xtgrad::kl_div(a(), b(), reduction_of(n), n.value("log_target", false));
  throw std::invalid_argument("diff_runner: unknown op '" + op + "'");
}

// JSON has no NaN or infinity: NaN is written as null, ±inf as "inf" / "-inf" (diff_torch.py's
// to_tensor reads both back).
json numbers(const Tensor& t) {
  json out = json::array();
  for (std::size_t i = 0; i < t.size(); ++i) {
    const double v = double(t.data()[i]);
    if (std::isinf(v)) {
      out.push_back(v > 0 ? "inf" : "-inf");
    } else {
      out.push_back(v);  // NaN: null
    }
  }
  return out;
}

json run_case(const json& c) {
  std::vector<Variable> v;
  std::vector<bool> wants;
  for (const json& leaf : c.at("leaves")) {
    const bool grad = leaf.value("grad", true);
    v.push_back(grad ? Variable::parameter(tensor_of(leaf)) : Variable(tensor_of(leaf)));
    wants.push_back(grad);
  }
  const std::size_t leaves = v.size();
  for (const json& node : c.at("nodes")) v.push_back(apply_node(node, v));
  const Variable out = v.back();
  json result;
  result["shape"] = xtgrad::shape_of(out.value());
  result["out"] = numbers(out.value());
  Tensor w = Tensor::from_shape(xtgrad::shape_of(out.value()));
  const std::vector<double> wd = c.at("weights").get<std::vector<double>>();
  if (wd.size() != w.size()) throw std::invalid_argument("diff_runner: weights do not match the output's size");
  std::copy(wd.begin(), wd.end(), w.data());
  if (c.contains("directions")) {
    // second derivatives: s = Σ_leaves ⟨∂(Σ w·out)/∂leaf, u_leaf⟩ through create_graph, then ∂s/∂leaves
    std::vector<Variable> req;
    std::vector<std::size_t> at;
    for (std::size_t i = 0; i < leaves; ++i) {
      if (wants[i]) {
        req.push_back(v[i]);
        at.push_back(i);
      }
    }
    json grads(leaves, json()), seconds(leaves, json());
    if (out.requires_grad() && !req.empty()) {
      const std::vector<Variable> firsts =
          xtgrad::grad({xtgrad::sum(out * Variable(w))}, req, {.create_graph = true, .materialize_grads = true});
      Variable s;
      bool have = false;
      for (std::size_t k = 0; k < req.size(); ++k) {
        grads[at[k]] = numbers(firsts[k].value());
        if (!firsts[k].requires_grad()) continue;
        Tensor u = Tensor::from_shape(xtgrad::shape_of(firsts[k].value()));
        const std::vector<double> ud = c.at("directions").at(at[k]).get<std::vector<double>>();
        std::copy(ud.begin(), ud.end(), u.data());
        const Variable term = xtgrad::sum(firsts[k] * Variable(u));
        s = have ? s + term : term;
        have = true;
      }
      if (have) {
        const std::vector<Variable> h = xtgrad::grad({s}, req, {.materialize_grads = true});
        for (std::size_t k = 0; k < req.size(); ++k) seconds[at[k]] = numbers(h[k].value());
      }
    }
    result["grads"] = grads;
    result["seconds"] = seconds;
    return result;
  }
  if (out.requires_grad()) xtgrad::sum(out * Variable(w)).backward();
  json grads = json::array();
  for (std::size_t i = 0; i < leaves; ++i) grads.push_back(wants[i] && v[i].has_grad() ? numbers(v[i].grad()) : json());
  result["grads"] = grads;
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: diff_runner CASES.json (or - for stdin)\n";
    return 2;
  }
  json cases;
  try {
    if (std::string(argv[1]) == "-") {
      cases = json::parse(std::cin);
    } else {
      std::ifstream f(argv[1]);
      if (!f) {
        std::cerr << "diff_runner: cannot open " << argv[1] << "\n";
        return 2;
      }
      cases = json::parse(f);
    }
  } catch (const std::exception& e) {
    std::cerr << "diff_runner: cannot parse the cases: " << e.what() << "\n";
    return 2;
  }
  for (const json& c : cases) {
    json r;
    try {
      r = run_case(c);
    } catch (const std::exception& e) {
      r = json{{"error", e.what()}};
    }
    std::cout << r.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
  }
  return 0;
}
