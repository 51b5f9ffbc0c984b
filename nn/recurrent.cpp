#include "xtgrad/nn/recurrent.hpp"

#include <cmath>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>

#include "xtgrad/core/xt.hpp"
#include "xtgrad/ops/activations.hpp"
#include "xtgrad/ops/dropout.hpp"
#include "xtgrad/ops/elementwise.hpp"
#include "xtgrad/ops/linalg.hpp"
#include "xtgrad/ops/shape_ops.hpp"

namespace xtgrad {
namespace nn {

namespace {

template <class T>
using Var = BasicVariable<T>;

// x·Wᵀ + b for x (..., in), W (out, in), b (out) → (..., out), one linear node (a transpose flag
// in its gemm, no copy of W); no bias term if b is undefined.
template <class T>
Var<T> project(const Var<T>& x, const Var<T>& w, const Var<T>& b) {
  return b.defined() ? linear(x, w, b) : linear(x, w);
}

// The gate blocks of a pre-activation (..., G·H) along its last axis, G pieces of H.
template <class T>
std::vector<Var<T>> gates_of(const Var<T>& pre, std::size_t hidden) {
  return split(pre, hidden, static_cast<int>(pre.dim()) - 1);
}

// One step of each recurrence, from gi = W_ih x + b_ih and gh = W_hh h + b_hh, both (..., G·H),
// and the previous state (..., H).
template <class T>
Var<T> rnn_step(const Var<T>& gi, const Var<T>& gh, bool relu_act) {
  const Var<T> pre = gi + gh;
  return relu_act ? relu(pre) : tanh(pre);
}

// (h', c'): i, f, g, o = σ, σ, tanh, σ of gi + gh; c' = f ⊙ c + i ⊙ g; h' = o ⊙ tanh c'.
template <class T>
std::pair<Var<T>, Var<T>> lstm_step(const Var<T>& gi, const Var<T>& gh, const Var<T>& c, std::size_t hidden) {
  const std::vector<Var<T>> g = gates_of(gi + gh, hidden);
  const Var<T> c_next = sigmoid(g[1]) * c + sigmoid(g[0]) * tanh(g[2]);
  return {sigmoid(g[3]) * tanh(c_next), c_next};
}

// r, z = σ(gi_r + gh_r), σ(gi_z + gh_z); n = tanh(gi_n + r ⊙ gh_n); h' = (1 − z) ⊙ n + z ⊙ h,
// computed as n + z ⊙ (h − n).
template <class T>
Var<T> gru_step(const Var<T>& gi, const Var<T>& gh, const Var<T>& h, std::size_t hidden) {
  const std::vector<Var<T>> i = gates_of(gi, hidden);
  const std::vector<Var<T>> hh = gates_of(gh, hidden);
  const Var<T> r = sigmoid(i[0] + hh[0]);
  const Var<T> z = sigmoid(i[1] + hh[1]);
  const Var<T> n = tanh(i[2] + r * hh[2]);
  return n + z * (h - n);
}

template <class T>
Var<T> zeros_variable(const Shape& shape) {
  return Var<T>(TensorOf<T>(xt::zeros<T>(shape)));
}

// U(−1/√H, 1/√H), PyTorch's initialisation of every recurrent weight and bias.
template <class T>
TensorOf<T> recurrent_init(const Shape& shape, std::size_t hidden, Rng& rng) {
  const double k = 1.0 / std::sqrt(static_cast<double>(hidden));
  return rand_uniform<T>(shape, rng, -k, k);
}

void check_sizes(const char* name, std::size_t input_size, std::size_t hidden_size) {
  if (hidden_size == 0 || input_size == 0) {
    throw std::invalid_argument(std::string(name) + ": input_size and hidden_size must be positive, got " +
                                std::to_string(input_size) + " and " + std::to_string(hidden_size));
  }
}

std::string dims(std::initializer_list<std::string> parts) {
  std::string s = "(";
  for (const auto& p : parts) s += (s.size() > 1 ? ", " : "") + p;
  return s + ")";
}

}  // namespace

// ---- cells -----------------------------------------------------------------------------------

template <class T>
BasicRecurrentCell<T>::BasicRecurrentCell(const char* name, std::size_t gates, std::size_t input_size,
                                          std::size_t hidden_size, bool bias, Rng& rng)
    : name_(name), input_size_(input_size), hidden_size_(hidden_size) {
  check_sizes(name, input_size, hidden_size);
  const std::size_t rows = gates * hidden_size;
  weight_ih = this->register_parameter("weight_ih", recurrent_init<T>({rows, input_size}, hidden_size, rng));
  weight_hh = this->register_parameter("weight_hh", recurrent_init<T>({rows, hidden_size}, hidden_size, rng));
  if (bias) {
    bias_ih = this->register_parameter("bias_ih", recurrent_init<T>({rows}, hidden_size, rng));
    bias_hh = this->register_parameter("bias_hh", recurrent_init<T>({rows}, hidden_size, rng));
  }
}

template <class T>
BasicVariable<T> BasicRecurrentCell<T>::batched_input(const Variable& x, bool& unbatched) const {
  const Shape s = x.shape();
  if ((s.size() != 1 && s.size() != 2) || s.back() != input_size_) {
    const std::string in = std::to_string(input_size_);
    throw std::invalid_argument(std::string(name_) + ": expects input " + dims({"N", in}) + " or unbatched " +
                                dims({in}) + ", got " + shape_str(s));
  }
  unbatched = s.size() == 1;
  return unbatched ? unsqueeze(x, 0) : x;
}

template <class T>
BasicVariable<T> BasicRecurrentCell<T>::batched_state(const Variable& state, const char* what, std::size_t batch,
                                                      bool unbatched) const {
  if (!state.defined()) return zeros_variable<T>({batch, hidden_size_});
  const Shape s = state.shape();
  const Shape want = unbatched ? Shape{hidden_size_} : Shape{batch, hidden_size_};
  if (s != want) {
    throw std::invalid_argument(std::string(name_) + ": expects " + what + " " + shape_str(want) + " for input of " +
                                (unbatched ? "unbatched shape" : "batch " + std::to_string(batch)) + ", got " +
                                shape_str(s));
  }
  return unbatched ? unsqueeze(state, 0) : state;
}

template <class T>
BasicVariable<T> BasicRecurrentCell<T>::input_projection(const Variable& x) const {
  return project(x, weight_ih, bias_ih);
}

template <class T>
BasicVariable<T> BasicRecurrentCell<T>::hidden_projection(const Variable& h) const {
  return project(h, weight_hh, bias_hh);
}

template <class T>
BasicRNNCell<T>::BasicRNNCell(std::size_t input_size, std::size_t hidden_size, Rng& rng,
                              const RNNCellOptions& options)
    : BasicRecurrentCell<T>("RNNCell", 1, input_size, hidden_size, options.bias(), rng),
      nonlinearity_(options.nonlinearity()) {}

template <class T>
BasicVariable<T> BasicRNNCell<T>::forward(const Variable& x) {
  bool unbatched = false;
  const Variable xb = this->batched_input(x, unbatched);
  const Variable h = this->batched_state(Variable{}, "h", xb.shape()[0], unbatched);
  const Variable y = rnn_step(this->input_projection(xb), this->hidden_projection(h),
                              nonlinearity_ == RNNNonlinearity::relu);
  return unbatched ? squeeze(y, 0) : y;
}

template <class T>
BasicVariable<T> BasicRNNCell<T>::operator()(const Variable& x, const Variable& h) {
  bool unbatched = false;
  const Variable xb = this->batched_input(x, unbatched);
  const Variable hb = this->batched_state(h, "h", xb.shape()[0], unbatched);
  Variable y = rnn_step(this->input_projection(xb), this->hidden_projection(hb),
                        nonlinearity_ == RNNNonlinearity::relu);
  if (unbatched) y = squeeze(y, 0);
  this->report_call(y);
  return y;
}

template <class T>
BasicLSTMCell<T>::BasicLSTMCell(std::size_t input_size, std::size_t hidden_size, Rng& rng,
                                const LSTMCellOptions& options)
    : BasicRecurrentCell<T>("LSTMCell", 4, input_size, hidden_size, options.bias(), rng) {}

template <class T>
BasicVariable<T> BasicLSTMCell<T>::forward(const Variable& x) {
  bool unbatched = false;
  const Variable xb = this->batched_input(x, unbatched);
  const Variable zero = this->batched_state(Variable{}, "h", xb.shape()[0], unbatched);
  const Variable h =
      lstm_step(this->input_projection(xb), this->hidden_projection(zero), zero, this->hidden_size_).first;
  return unbatched ? squeeze(h, 0) : h;
}

template <class T>
BasicLSTMState<T> BasicLSTMCell<T>::operator()(const Variable& x, const State& state) {
  bool unbatched = false;
  const Variable xb = this->batched_input(x, unbatched);
  const std::size_t n = xb.shape()[0];
  const Variable h = this->batched_state(state.h, "h", n, unbatched);
  const Variable c = this->batched_state(state.c, "c", n, unbatched);
  auto [h_next, c_next] =
      lstm_step(this->input_projection(xb), this->hidden_projection(h), c, this->hidden_size_);
  if (unbatched) {
    h_next = squeeze(h_next, 0);
    c_next = squeeze(c_next, 0);
  }
  this->report_call(h_next);
  return {h_next, c_next};
}

template <class T>
BasicGRUCell<T>::BasicGRUCell(std::size_t input_size, std::size_t hidden_size, Rng& rng,
                              const GRUCellOptions& options)
    : BasicRecurrentCell<T>("GRUCell", 3, input_size, hidden_size, options.bias(), rng) {}

template <class T>
BasicVariable<T> BasicGRUCell<T>::forward(const Variable& x) {
  bool unbatched = false;
  const Variable xb = this->batched_input(x, unbatched);
  const Variable h = this->batched_state(Variable{}, "h", xb.shape()[0], unbatched);
  const Variable y = gru_step(this->input_projection(xb), this->hidden_projection(h), h, this->hidden_size_);
  return unbatched ? squeeze(y, 0) : y;
}

template <class T>
BasicVariable<T> BasicGRUCell<T>::operator()(const Variable& x, const Variable& h) {
  bool unbatched = false;
  const Variable xb = this->batched_input(x, unbatched);
  const Variable hb = this->batched_state(h, "h", xb.shape()[0], unbatched);
  Variable y = gru_step(this->input_projection(xb), this->hidden_projection(hb), hb, this->hidden_size_);
  if (unbatched) y = squeeze(y, 0);
  this->report_call(y);
  return y;
}

// ---- sequence modules ------------------------------------------------------------------------

template <class T>
BasicRecurrentBase<T>::BasicRecurrentBase(const char* name, Kind kind, std::size_t input_size,
                                          std::size_t hidden_size, const Options& options, Rng& rng)
    : name_(name),
      kind_(kind),
      input_size_(input_size),
      hidden_size_(hidden_size),
      num_layers_(options.num_layers),
      directions_(options.bidirectional ? 2 : 1),
      batch_first_(options.batch_first),
      dropout_(options.dropout) {
  check_sizes(name, input_size, hidden_size);
  if (num_layers_ == 0) throw std::invalid_argument(std::string(name) + ": num_layers must be at least 1, got 0");
  if (!(dropout_ >= 0.0 && dropout_ < 1.0)) {
    throw std::invalid_argument(std::string(name) + ": dropout must be in [0, 1), got " + std::to_string(dropout_));
  }
  const std::size_t gates = kind == Kind::lstm ? 4 : kind == Kind::gru ? 3 : 1;
  const std::size_t rows = gates * hidden_size;
  for (std::size_t l = 0; l < num_layers_; ++l) {
    const std::size_t in = l == 0 ? input_size : directions_ * hidden_size;
    for (std::size_t d = 0; d < directions_; ++d) {
      const std::string suffix = "_l" + std::to_string(l) + (d == 1 ? "_reverse" : "");
      Layer layer;
      layer.weight_ih = this->register_parameter("weight_ih" + suffix, recurrent_init<T>({rows, in}, hidden_size, rng));
      layer.weight_hh =
          this->register_parameter("weight_hh" + suffix, recurrent_init<T>({rows, hidden_size}, hidden_size, rng));
      if (options.bias) {
        layer.bias_ih = this->register_parameter("bias_ih" + suffix, recurrent_init<T>({rows}, hidden_size, rng));
        layer.bias_hh = this->register_parameter("bias_hh" + suffix, recurrent_init<T>({rows}, hidden_size, rng));
      }
      layers_.push_back(std::move(layer));
    }
  }
  rng_ = std::make_shared<Rng>(static_cast<std::uint64_t>(rng()));
}

template <class T>
BasicVariable<T> BasicRecurrentBase<T>::forward(const Variable& x) {
  return run(x, Variable{}, Variable{}, false).output;
}

template <class T>
typename BasicRecurrentBase<T>::Run BasicRecurrentBase<T>::run(const Variable& x, const Variable& h0,
                                                               const Variable& c0, bool want_state) {
  const std::string name(name_);
  const Shape xs = x.shape();
  const std::string in = std::to_string(input_size_);
  if ((xs.size() != 2 && xs.size() != 3) || xs.back() != input_size_ || xs[0] == 0 ||
      (xs.size() == 3 && xs[1] == 0)) {
    throw std::invalid_argument(name + ": expects input " +
                                (batch_first_ ? dims({"N", "T", in}) : dims({"T", "N", in})) + " or unbatched " +
                                dims({"T", in}) + " with T, N ≥ 1, got " + shape_str(xs));
  }
  const bool unbatched = xs.size() == 2;
  // seq (T, N, in): time-major inside
  Variable seq = unbatched ? unsqueeze(x, 1) : batch_first_ ? swap_axes(x, 0, 1) : x;
  const std::size_t steps = seq.shape()[0], batch = seq.shape()[1], hidden = hidden_size_;
  const std::size_t states = num_layers_ * directions_;

  // h0, c0 as (L·D, N, H), checked
  const auto initial = [&](const Variable& s, const char* what) {
    if (!s.defined()) return zeros_variable<T>({states, batch, hidden});
    const Shape want = unbatched ? Shape{states, hidden} : Shape{states, batch, hidden};
    if (s.shape() != want) {
      throw std::invalid_argument(name + ": expects " + what + " " + shape_str(want) + " (num_layers·directions, " +
                                  (unbatched ? "" : "N, ") + "hidden_size) for input " + shape_str(xs) + ", got " +
                                  shape_str(s.shape()));
    }
    return unbatched ? unsqueeze(s, 1) : s;
  };
  const Variable h_init = initial(h0, "h0");
  const Variable c_init = kind_ == Kind::lstm ? initial(c0, "c0") : Variable{};

  std::vector<Variable> h_final, c_final;
  for (std::size_t l = 0; l < num_layers_; ++l) {
    if (l > 0 && dropout_ > 0 && this->is_training()) seq = dropout(seq, dropout_, *rng_, true);
    std::vector<Variable> direction_outputs;
    for (std::size_t d = 0; d < directions_; ++d) {
      const std::size_t k = l * directions_ + d;
      const Layer& p = layers_[k];
      // the input projection of every step in one gemm: (T, N, G·H), then one (1, N, G·H) per step
      const std::vector<Variable> gi = split(project(seq, p.weight_ih, p.bias_ih), 1, 0);
      const auto hidden_projection = [&p](const Variable& h) { return project(h, p.weight_hh, p.bias_hh); };
      Variable h = narrow(h_init, 0, static_cast<std::int64_t>(k), 1);  // (1, N, H)
      Variable c = kind_ == Kind::lstm ? narrow(c_init, 0, static_cast<std::int64_t>(k), 1) : Variable{};
      std::vector<Variable> out(steps);
      for (std::size_t i = 0; i < steps; ++i) {
        const std::size_t t = d == 0 ? i : steps - 1 - i;
        switch (kind_) {
          case Kind::rnn_tanh:
          case Kind::rnn_relu:
            h = rnn_step(gi[t], hidden_projection(h), kind_ == Kind::rnn_relu);
            break;
          case Kind::lstm:
            std::tie(h, c) = lstm_step(gi[t], hidden_projection(h), c, hidden);
            break;
          case Kind::gru:
            h = gru_step(gi[t], hidden_projection(h), h, hidden);
            break;
        }
        out[t] = h;
      }
      direction_outputs.push_back(steps == 1 ? out[0] : concat(out, 0));  // (T, N, H)
      h_final.push_back(h);
      if (kind_ == Kind::lstm) c_final.push_back(c);
    }
    seq = directions_ == 1 ? direction_outputs[0] : concat(direction_outputs, 2);  // (T, N, D·H)
  }

  Run result;
  result.output = unbatched ? squeeze(seq, 1) : batch_first_ ? swap_axes(seq, 0, 1) : seq;
  if (want_state) {
    const auto assemble = [&](const std::vector<Variable>& finals) {
      const Variable s = finals.size() == 1 ? finals[0] : concat(finals, 0);  // (L·D, N, H)
      return unbatched ? squeeze(s, 1) : s;
    };
    result.h = assemble(h_final);
    if (kind_ == Kind::lstm) result.c = assemble(c_final);
  }
  return result;
}

template <class T>
BasicRNN<T>::BasicRNN(std::size_t input_size, std::size_t hidden_size, Rng& rng, const RNNOptions& options)
    : BasicRecurrentBase<T>("RNN",
                            options.nonlinearity() == RNNNonlinearity::relu ? BasicRecurrentBase<T>::Kind::rnn_relu
                                                                            : BasicRecurrentBase<T>::Kind::rnn_tanh,
                            input_size, hidden_size,
                            {options.num_layers(), options.bias(), options.batch_first(), options.dropout(),
                             options.bidirectional()},
                            rng) {}

template <class T>
BasicRNNResult<T> BasicRNN<T>::operator()(const Variable& x, const Variable& h0) {
  auto r = this->run(x, h0, Variable{}, true);
  this->report_call(r.output);
  return {r.output, r.h};
}

template <class T>
BasicLSTM<T>::BasicLSTM(std::size_t input_size, std::size_t hidden_size, Rng& rng, const LSTMOptions& options)
    : BasicRecurrentBase<T>("LSTM", BasicRecurrentBase<T>::Kind::lstm, input_size, hidden_size,
                            {options.num_layers(), options.bias(), options.batch_first(), options.dropout(),
                             options.bidirectional()},
                            rng) {}

template <class T>
BasicLSTMResult<T> BasicLSTM<T>::operator()(const Variable& x, const State& state) {
  auto r = this->run(x, state.h, state.c, true);
  this->report_call(r.output);
  return {r.output, {r.h, r.c}};
}

template <class T>
BasicGRU<T>::BasicGRU(std::size_t input_size, std::size_t hidden_size, Rng& rng, const GRUOptions& options)
    : BasicRecurrentBase<T>("GRU", BasicRecurrentBase<T>::Kind::gru, input_size, hidden_size,
                            {options.num_layers(), options.bias(), options.batch_first(), options.dropout(),
                             options.bidirectional()},
                            rng) {}

template <class T>
BasicRNNResult<T> BasicGRU<T>::operator()(const Variable& x, const Variable& h0) {
  auto r = this->run(x, h0, Variable{}, true);
  this->report_call(r.output);
  return {r.output, r.h};
}

#define XTGRAD_NN_RECURRENT_INSTANTIATE(T) \
  template class BasicRecurrentCell<T>;    \
  template class BasicRNNCell<T>;          \
  template class BasicLSTMCell<T>;         \
  template class BasicGRUCell<T>;          \
  template class BasicRecurrentBase<T>;    \
  template class BasicRNN<T>;              \
  template class BasicLSTM<T>;             \
  template class BasicGRU<T>;
XTGRAD_NN_RECURRENT_INSTANTIATE(float)
XTGRAD_NN_RECURRENT_INSTANTIATE(double)
#undef XTGRAD_NN_RECURRENT_INSTANTIATE

}  // namespace nn
}  // namespace xtgrad
