#include "xtgrad/nn/prune.hpp"

#include <algorithm>
#include <cstdio>
#include <memory>
#include <sstream>
#include <stdexcept>

#include "xtgrad/core/grad_mode.hpp"
#include "xtgrad/nn/activations.hpp"
#include "xtgrad/nn/conv.hpp"
#include "xtgrad/nn/dropout.hpp"

namespace xtgrad {
namespace nn {
namespace {

// How a layer between two weight layers treats each unit.
enum class Role {
  weights,      // Linear or Conv2d: a producer and a consumer of units
  elementwise,  // an activation applied to each value: a constant unit stays constant, f(v)
  passes,       // Dropout (eval), MaxPool2d, AvgPool2d without padding, AdaptiveAvgPool2d, Flatten: v stays v
  mixes,        // Softmax, LogSoftmax, AvgPool2d with padding: units are not independent through it
};

// One layer of the model as prune_dead_units works on it: copies of the weights (shrunk in
// place as units go) and the original module for the rest.
template <class T>
struct Work {
  std::string name;
  BasicModule<T>* module = nullptr;
  Role role = Role::mixes;
  bool conv = false;
  TensorOf<T> weight, bias;  // weight (out, in) or (out, in, kh, kw); bias (out) if has_bias
  bool has_bias = false;
  Conv2dOptions options;
};

template <class M, class T>
const M* as(const BasicModule<T>* m) {
  return dynamic_cast<const M*>(m);
}

template <class T>
bool is_elementwise(const BasicModule<T>* m) {
  return as<BasicSigmoid<T>>(m) || as<BasicTanh<T>>(m) || as<BasicReLU<T>>(m) || as<BasicAffine<T>>(m) ||
         as<BasicGELU<T>>(m) || as<BasicSiLU<T>>(m) || as<BasicELU<T>>(m) || as<BasicLeakyReLU<T>>(m) ||
         as<BasicSoftplus<T>>(m) || as<BasicHardtanh<T>>(m) || as<BasicLogSigmoid<T>>(m) || as<BasicMish<T>>(m);
}

template <class T>
[[noreturn]] void unsupported(const std::string& name, const ModuleBase& m) {
  throw std::invalid_argument("prune_dead_units: layer '" + name + "' is a " + m.type_name() +
                              ", which it cannot copy; supported: Linear, Conv2d, the activation modules, Softmax, "
                              "LogSoftmax, Dropout, Flatten, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d");
}

template <class T>
Work<T> read_layer(const std::string& name, BasicModule<T>& m) {
  Work<T> w;
  w.name = name;
  w.module = &m;
  if (const auto* lin = as<BasicLinear<T>>(&m)) {
    w.role = Role::weights;
    w.weight = lin->weight.value();
    w.has_bias = lin->bias.defined();
    if (w.has_bias) w.bias = lin->bias.value();
  } else if (const auto* conv = as<BasicConv2d<T>>(&m)) {
    w.role = Role::weights;
    w.conv = true;
    w.options = conv->options();
    w.weight = conv->weight.value();
    w.has_bias = conv->bias.defined();
    if (w.has_bias) w.bias = conv->bias.value();
  } else if (is_elementwise(&m)) {
    w.role = Role::elementwise;
  } else if (as<BasicDropout<T>>(&m) || as<BasicMaxPool2d<T>>(&m) || as<BasicAdaptiveAvgPool2d<T>>(&m) ||
             as<BasicFlatten<T>>(&m)) {
    w.role = Role::passes;
  } else if (const auto* avg = as<BasicAvgPool2d<T>>(&m)) {
    // padded zeros count in the mean: a constant map is not constant at the border
    const Size2 pad = avg->options().padding;
    w.role = pad[0] == 0 && pad[1] == 0 ? Role::passes : Role::mixes;
  } else if (as<BasicSoftmax<T>>(&m) || as<BasicLogSoftmax<T>>(&m)) {
    w.role = Role::mixes;
  } else {
    unsupported<T>(name, m);
  }
  return w;
}

// units of a weight layer: out (axis 0); its inputs: axis 1
std::size_t units_of(const Shape& s) { return s[0]; }
std::size_t inputs_of(const Shape& s) { return s[1]; }
std::size_t rest_of(const Shape& s) {
  std::size_t r = 1;
  for (std::size_t a = 2; a < s.size(); ++a) r *= s[a];
  return r;
}

// Whether the slice along axis 0 (u) of w is all exactly 0.
template <class T>
bool row_zero(const TensorOf<T>& w, std::size_t u) {
  const Shape s = shape_of(w);
  const std::size_t n = element_count(s) / s[0];
  const T* p = w.data() + u * n;
  return std::all_of(p, p + n, [](T v) { return v == T(0); });
}

// Whether the consumer's weights reading producer unit u (columns [u·span, (u+1)·span) of
// axis 1) are all exactly 0.
template <class T>
bool columns_zero(const TensorOf<T>& w, std::size_t u, std::size_t span) {
  const Shape s = shape_of(w);
  const std::size_t in = inputs_of(s), rest = rest_of(s);
  for (std::size_t o = 0; o < s[0]; ++o) {
    const T* p = w.data() + (o * in + u * span) * rest;
    if (!std::all_of(p, p + span * rest, [](T v) { return v == T(0); })) return false;
  }
  return true;
}

// w with only the slices along `axis` (0 or 1) at the kept positions; along axis 1 a kept
// position k keeps columns [k·span, (k+1)·span).
template <class T>
TensorOf<T> kept_slices(const TensorOf<T>& w, std::size_t axis, const std::vector<std::size_t>& kept, std::size_t span = 1) {
  const Shape s = shape_of(w);
  Shape out_shape = s;
  out_shape[axis] = kept.size() * span;
  TensorOf<T> out = TensorOf<T>::from_shape(out_shape);
  if (axis == 0) {
    const std::size_t n = s.size() == 1 ? 1 : element_count(s) / s[0];
    for (std::size_t i = 0; i < kept.size(); ++i) {
      std::copy_n(w.data() + kept[i] * n, n, out.data() + i * n);
    }
    return out;
  }
  const std::size_t in = s[1], rest = rest_of(s), block = span * rest;
  for (std::size_t o = 0; o < s[0]; ++o) {
    for (std::size_t i = 0; i < kept.size(); ++i) {
      std::copy_n(w.data() + (o * in + kept[i] * span) * rest, block, out.data() + (o * kept.size() * span + i * span) * rest);
    }
  }
  return out;
}

// The copy of a layer that is not a weight layer, or the rebuilt weight layer.
template <class T>
void add_copy(BasicSequential<T>& out, const Work<T>& w) {
  BasicModule<T>* m = w.module;
  Rng rng(0);  // draws initial values that are overwritten at once
  if (w.role == Role::weights && !w.conv) {
    const Shape s = shape_of(w.weight);
    BasicLinear<T> lin(inputs_of(s), units_of(s), rng, LinearOptions().bias(w.has_bias));
    lin.weight.mutable_value() = w.weight;
    if (w.has_bias) lin.bias.mutable_value() = w.bias;
    out.add(w.name, lin);
  } else if (w.role == Role::weights) {
    const Shape s = shape_of(w.weight);
    BasicConv2d<T> conv(inputs_of(s) * w.options.groups, units_of(s), Size2{s[2], s[3]}, rng, w.options);
    conv.weight.mutable_value() = w.weight;
    if (w.has_bias) conv.bias.mutable_value() = w.bias;
    out.add(w.name, conv);
  } else if (as<BasicSigmoid<T>>(m)) {
    out.add(w.name, BasicSigmoid<T>());
  } else if (as<BasicTanh<T>>(m)) {
    out.add(w.name, BasicTanh<T>());
  } else if (as<BasicReLU<T>>(m)) {
    out.add(w.name, BasicReLU<T>());
  } else if (const auto* a = as<BasicAffine<T>>(m)) {
    out.add(w.name, BasicAffine<T>(a->slope(), a->intercept()));
  } else if (const auto* g = as<BasicGELU<T>>(m)) {
    out.add(w.name, BasicGELU<T>(g->approximate()));
  } else if (as<BasicSiLU<T>>(m)) {
    out.add(w.name, BasicSiLU<T>());
  } else if (const auto* e = as<BasicELU<T>>(m)) {
    out.add(w.name, BasicELU<T>(e->alpha()));
  } else if (const auto* l = as<BasicLeakyReLU<T>>(m)) {
    out.add(w.name, BasicLeakyReLU<T>(l->negative_slope()));
  } else if (const auto* sp = as<BasicSoftplus<T>>(m)) {
    out.add(w.name, BasicSoftplus<T>(sp->beta(), sp->threshold()));
  } else if (as<BasicReLU6<T>>(m)) {
    out.add(w.name, BasicReLU6<T>());
  } else if (const auto* h = as<BasicHardtanh<T>>(m)) {
    out.add(w.name, BasicHardtanh<T>(h->min_val(), h->max_val()));
  } else if (as<BasicLogSigmoid<T>>(m)) {
    out.add(w.name, BasicLogSigmoid<T>());
  } else if (as<BasicMish<T>>(m)) {
    out.add(w.name, BasicMish<T>());
  } else if (const auto* d = as<BasicDropout<T>>(m)) {
    out.add(w.name, BasicDropout<T>(d->p(), rng));
  } else if (const auto* mp = as<BasicMaxPool2d<T>>(m)) {
    out.add(w.name, BasicMaxPool2d<T>(mp->options().kernel, mp->options().stride, mp->options().padding));
  } else if (const auto* ap = as<BasicAvgPool2d<T>>(m)) {
    out.add(w.name, BasicAvgPool2d<T>(ap->options().kernel, ap->options().stride, ap->options().padding));
  } else if (const auto* ad = as<BasicAdaptiveAvgPool2d<T>>(m)) {
    out.add(w.name, BasicAdaptiveAvgPool2d<T>(ad->output_size()));
  } else if (as<BasicFlatten<T>>(m)) {
    out.add(w.name, BasicFlatten<T>());
  } else if (const auto* sm = as<BasicSoftmax<T>>(m)) {
    out.add(w.name, BasicSoftmax<T>(sm->axis()));
  } else if (const auto* lsm = as<BasicLogSoftmax<T>>(m)) {
    out.add(w.name, BasicLogSoftmax<T>(lsm->axis()));
  } else {
    unsupported<T>(w.name, *m);
  }
}

// Prunes the units of layers[p] that feed layers[c] through the layers in between (each
// elementwise or passes); returns what it did.
template <class T>
PrunedLayer prune_pair(std::vector<Work<T>>& layers, std::size_t p, std::size_t c) {
  Work<T>& prod = layers[p];
  Work<T>& cons = layers[c];
  const std::size_t units = units_of(shape_of(prod.weight));
  PrunedLayer report;
  report.name = prod.name;
  report.units = units;
  report.kept = units;
  // The consumer reads each unit through `span` columns (H·W after a Flatten), or as one input
  // channel of a Conv2d (groups 1 only).
  // Linear → Linear: one column per unit; Conv2d → Flatten → Linear: H·W consecutive columns per
  // channel (NCHW); Conv2d → Conv2d: one input channel. Anything else is left alone.
  const Shape cs = shape_of(cons.weight);
  bool flattened = false;
  for (std::size_t k = p + 1; k < c; ++k) flattened = flattened || as<BasicFlatten<T>>(layers[k].module) != nullptr;
  std::size_t span = 1;
  if (prod.conv && prod.options.groups != 1) return report;
  if (cons.conv) {
    if (!prod.conv || flattened || cons.options.groups != 1 || inputs_of(cs) != units) return report;
  } else if (prod.conv) {
    if (!flattened || inputs_of(cs) % units != 0) return report;
    span = inputs_of(cs) / units;
  } else if (inputs_of(cs) != units) {
    return report;
  }
  // v: each unit's output when its incoming weights are 0, f(b) through the layers in between
  TensorOf<T> v = TensorOf<T>::from_shape({1, units});
  for (std::size_t u = 0; u < units; ++u) v.data()[u] = prod.has_bias ? prod.bias.data()[u] : T(0);
  {
    NoGrad no_grad;
    for (std::size_t k = p + 1; k < c; ++k) {
      if (layers[k].role == Role::elementwise) v = layers[k].module->forward(BasicVariable<T>(v)).value();
    }
  }
  const bool padded = cons.conv && (cons.options.padding[0] != 0 || cons.options.padding[1] != 0);
  // What happens to each unit; a layer keeps at least one unit (a layer of width 0 cannot be
  // built), then the first one, unchanged, counted as a dead unit kept.
  enum class Fate { keep, fold, drop, stuck };
  std::vector<Fate> fate(units, Fate::keep);
  for (std::size_t u = 0; u < units; ++u) {
    const bool in_zero = row_zero(prod.weight, u);
    const bool out_zero = columns_zero(cons.weight, u, span);
    const T vu = v.data()[u];
    if (out_zero && !in_zero) {
      fate[u] = Fate::drop;
    } else if (in_zero) {
      fate[u] = vu != T(0) && !out_zero && (padded || !cons.has_bias) ? Fate::stuck : Fate::fold;
    }
  }
  if (std::none_of(fate.begin(), fate.end(), [](Fate f) { return f == Fate::keep || f == Fate::stuck; })) {
    fate[0] = Fate::stuck;
  }
  std::vector<std::size_t> kept;
  const std::size_t rest = rest_of(cs), in = inputs_of(cs);
  for (std::size_t u = 0; u < units; ++u) {
    const T vu = v.data()[u];
    switch (fate[u]) {
      case Fate::keep:
        kept.push_back(u);
        break;
      case Fate::stuck:
        ++report.stuck;
        kept.push_back(u);
        break;
      case Fate::drop:
        ++report.dead_out;
        break;
      case Fate::fold:
        // b_next[o] += v_u·Σ (the consumer's weights for u): exact for a Linear, and for a
        // Conv2d without padding (every output position sees every tap)
        if (vu != T(0)) {
          for (std::size_t o = 0; o < cs[0]; ++o) {
            const T* wp = cons.weight.data() + (o * in + u * span) * rest;
            double s = 0;
            for (std::size_t i = 0; i < span * rest; ++i) s += double(wp[i]);
            cons.bias.data()[o] = T(double(cons.bias.data()[o]) + double(vu) * s);
          }
        }
        ++report.dead_in;
        break;
    }
  }
  report.kept = kept.size();
  if (kept.size() == units) return report;
  prod.weight = kept_slices(prod.weight, 0, kept);
  if (prod.has_bias) prod.bias = kept_slices(prod.bias, 0, kept);
  cons.weight = kept_slices(cons.weight, 1, kept, span);
  return report;
}

}  // namespace

template <class T>
BasicPruned<T> prune_dead_units(const BasicSequential<T>& model) {
  std::vector<Work<T>> layers;
  for (std::size_t i = 0; i < model.size(); ++i) layers.push_back(read_layer(model.names()[i], model[i]));
  BasicPruned<T> out;
  out.report.parameters_before = model.parameter_count();
  // Each weight layer with a next weight layer reachable through elementwise/passing layers.
  for (std::size_t p = 0; p < layers.size(); ++p) {
    if (layers[p].role != Role::weights) continue;
    std::size_t c = p + 1;
    while (c < layers.size() && (layers[c].role == Role::elementwise || layers[c].role == Role::passes)) ++c;
    if (c == layers.size() || layers[c].role != Role::weights) continue;
    const PrunedLayer r = prune_pair(layers, p, c);
    out.report.hidden_units_before += r.units;
    out.report.hidden_units_after += r.kept;
    out.report.layers.push_back(r);
  }
  for (const auto& w : layers) add_copy(out.model, w);
  out.report.parameters_after = out.model.parameter_count();
  if (!model.is_training()) out.model.eval();
  return out;
}

template <class T>
std::size_t hidden_units(const BasicSequential<T>& model) {
  std::vector<Work<T>> layers;
  for (std::size_t i = 0; i < model.size(); ++i) layers.push_back(read_layer(model.names()[i], model[i]));
  std::size_t total = 0;
  for (std::size_t p = 0; p < layers.size(); ++p) {
    if (layers[p].role != Role::weights) continue;
    std::size_t c = p + 1;
    while (c < layers.size() && (layers[c].role == Role::elementwise || layers[c].role == Role::passes)) ++c;
    if (c < layers.size() && layers[c].role == Role::weights) total += units_of(shape_of(layers[p].weight));
  }
  return total;
}

std::string format_prune_report(const PruneReport& report) {
  std::ostringstream out;
  out << "layer        units   kept  dead in  dead out  kept dead\n";
  for (const auto& l : report.layers) {
    char line[128];
    std::snprintf(line, sizeof line, "%-10s %7zu %6zu %8zu %9zu %10zu\n", l.name.c_str(), l.units, l.kept, l.dead_in,
                  l.dead_out, l.stuck);
    out << line;
  }
  out << "hidden units " << report.hidden_units_before << " -> " << report.hidden_units_after << ", parameters "
      << report.parameters_before << " -> " << report.parameters_after << "\n";
  return out.str();
}

template BasicPruned<float> prune_dead_units(const BasicSequential<float>&);
template BasicPruned<double> prune_dead_units(const BasicSequential<double>&);
template std::size_t hidden_units(const BasicSequential<float>&);
template std::size_t hidden_units(const BasicSequential<double>&);
template struct BasicPruned<float>;
template struct BasicPruned<double>;

}  // namespace nn
}  // namespace xtgrad
