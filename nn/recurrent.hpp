// Recurrent modules with PyTorch's parameter names, shapes, gate orders and initialisation:
// the cells RNNCell, LSTMCell, GRUCell (one time step) and the sequence modules RNN, LSTM, GRU
// (multi-layer, batch_first, bias, dropout between layers, bidirectional), each a class
// template BasicX<T> with the float alias under PyTorch's name (nn::LSTM = BasicLSTM<float>).
//
// Shapes (N batch, T time steps, H hidden_size, L num_layers, D = 2 if bidirectional else 1):
//   sequence input (T, N, input_size), (N, T, input_size) with batch_first, or unbatched
//   (T, input_size); output (T, N, D·H) (batch_first: (N, T, D·H); unbatched (T, D·H));
//   state h (and LSTM's c) (L·D, N, H), unbatched (L·D, H); layer-major, the reverse direction
//   of a layer right after its forward one.
//   cell input (N, input_size) or unbatched (input_size); state (N, H) or (H).
// An undefined state Variable (Variable{}, LSTMState{}) stands for zeros, as PyTorch's None.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "xtgrad/core/random.hpp"
#include "xtgrad/nn/module.hpp"

namespace xtgrad {
namespace nn {

// The activation of a plain RNN (cell): h' = act(W_ih x + b_ih + W_hh h + b_hh).
enum class RNNNonlinearity { tanh, relu };

// Options of RNN, LSTM and GRU, chainable: RNNOptions().num_layers(2).bidirectional(true).
// Derived is the options class itself, so each setter returns it.
template <class Derived>
class RecurrentOptionsBase {
 public:
  // Stacked layers; layer l > 0 reads the output of layer l − 1 (default 1, must be ≥ 1).
  Derived& num_layers(std::size_t v) { num_layers_ = v; return self(); }
  std::size_t num_layers() const { return num_layers_; }
  // Whether the layers have bias_ih and bias_hh (default true).
  Derived& bias(bool v) { bias_ = v; return self(); }
  bool bias() const { return bias_; }
  // Input and output (N, T, feature) instead of (T, N, feature); the state keeps (L·D, N, H).
  Derived& batch_first(bool v) { batch_first_ = v; return self(); }
  bool batch_first() const { return batch_first_; }
  // Dropout probability on the output of every layer but the last, in training mode only
  // (default 0; must be in [0, 1)).
  Derived& dropout(double v) { dropout_ = v; return self(); }
  double dropout() const { return dropout_; }
  // A second pass of each layer over the reversed sequence, concatenated to the output.
  Derived& bidirectional(bool v) { bidirectional_ = v; return self(); }
  bool bidirectional() const { return bidirectional_; }

 private:
  Derived& self() { return static_cast<Derived&>(*this); }
  std::size_t num_layers_ = 1;
  bool bias_ = true;
  bool batch_first_ = false;
  double dropout_ = 0.0;
  bool bidirectional_ = false;
};

// RNN's options: the common ones and the nonlinearity (default tanh).
class RNNOptions : public RecurrentOptionsBase<RNNOptions> {
 public:
  RNNOptions& nonlinearity(RNNNonlinearity v) { nonlinearity_ = v; return *this; }
  RNNNonlinearity nonlinearity() const { return nonlinearity_; }

 private:
  RNNNonlinearity nonlinearity_ = RNNNonlinearity::tanh;
};
class LSTMOptions : public RecurrentOptionsBase<LSTMOptions> {};
class GRUOptions : public RecurrentOptionsBase<GRUOptions> {};

// Cell options: bias (default true) and, for RNNCell, the nonlinearity (default tanh).
class RNNCellOptions {
 public:
  RNNCellOptions& bias(bool v) { bias_ = v; return *this; }
  bool bias() const { return bias_; }
  RNNCellOptions& nonlinearity(RNNNonlinearity v) { nonlinearity_ = v; return *this; }
  RNNNonlinearity nonlinearity() const { return nonlinearity_; }

 private:
  bool bias_ = true;
  RNNNonlinearity nonlinearity_ = RNNNonlinearity::tanh;
};
class LSTMCellOptions {
 public:
  LSTMCellOptions& bias(bool v) { bias_ = v; return *this; }
  bool bias() const { return bias_; }

 private:
  bool bias_ = true;
};
using GRUCellOptions = LSTMCellOptions;

// An LSTM's state: hidden h and cell c, same shape ((N, H) for a cell, (L·D, N, H) for LSTM).
// Undefined members stand for zeros.
template <class T>
struct BasicLSTMState {
  BasicVariable<T> h, c;
};
// What lstm(x, state) returns: the output sequence and the final state;
// `auto [y, state] = lstm(x, state);`.
template <class T>
struct BasicLSTMResult {
  BasicVariable<T> output;
  BasicLSTMState<T> state;
};
// What rnn(x, h) and gru(x, h) return: the output sequence and the final h;
// `auto [y, h] = gru(x, h);`.
template <class T>
struct BasicRNNResult {
  BasicVariable<T> output;
  BasicVariable<T> h;
};

// The parameters and step of one cell; the base of the three cell modules. Parameters
// weight_ih (G·H, input_size), weight_hh (G·H, H), bias_ih and bias_hh (G·H) with G = 1 (RNN),
// 4 (LSTM: gates i, f, g, o) or 3 (GRU: r, z, n), all drawn from U(−1/√H, 1/√H).
template <class T>
class BasicRecurrentCell : public BasicModule<T> {
 public:
  using Variable = BasicVariable<T>;
  std::size_t input_size() const { return input_size_; }
  std::size_t hidden_size() const { return hidden_size_; }
  Variable weight_ih, weight_hh, bias_ih, bias_hh;  // bias_* undefined without bias

 protected:
  BasicRecurrentCell(const char* name, std::size_t gates, std::size_t input_size, std::size_t hidden_size, bool bias,
                     Rng& rng);
  // x as (N, input_size) and whether it was unbatched; throws naming the module otherwise.
  Variable batched_input(const Variable& x, bool& unbatched) const;
  // A state argument as (N, H) (zeros if undefined), checked against x's batch.
  Variable batched_state(const Variable& s, const char* what, std::size_t batch, bool unbatched) const;
  // W_ih x + b_ih and W_hh h + b_hh, each (N, G·H).
  Variable input_projection(const Variable& x) const;
  Variable hidden_projection(const Variable& h) const;

  const char* name_;
  std::size_t input_size_, hidden_size_;
};

// h' = act(W_ih x + b_ih + W_hh h + b_hh), act tanh or relu.
template <class T>
class BasicRNNCell : public BasicRecurrentCell<T> {
 public:
  using Variable = BasicVariable<T>;
  using BasicModule<T>::operator();
  BasicRNNCell(std::size_t input_size, std::size_t hidden_size, Rng& rng, const RNNCellOptions& options = {});
  // One step from h = 0.
  Variable forward(const Variable& x) override;
  // One step: h' from x (N, input_size) and h (N, H) (or unbatched (input_size), (H)).
  Variable operator()(const Variable& x, const Variable& h);

 private:
  RNNNonlinearity nonlinearity_;
};

// i, f, g, o = σ, σ, tanh, σ of (W_ih x + b_ih + W_hh h + b_hh) split in four (that order);
// c' = f ⊙ c + i ⊙ g, h' = o ⊙ tanh c'.
template <class T>
class BasicLSTMCell : public BasicRecurrentCell<T> {
 public:
  using Variable = BasicVariable<T>;
  using State = BasicLSTMState<T>;
  using BasicModule<T>::operator();
  BasicLSTMCell(std::size_t input_size, std::size_t hidden_size, Rng& rng, const LSTMCellOptions& options = {});
  // h' of one step from h = c = 0.
  Variable forward(const Variable& x) override;
  // One step: the new (h, c) from x (N, input_size) and state (N, H) each (or unbatched).
  State operator()(const Variable& x, const State& state);
};

// r = σ(W_ir x + b_ir + W_hr h + b_hr), z = σ(W_iz x + b_iz + W_hz h + b_hz),
// n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)), h' = (1 − z) ⊙ n + z ⊙ h.
template <class T>
class BasicGRUCell : public BasicRecurrentCell<T> {
 public:
  using Variable = BasicVariable<T>;
  using BasicModule<T>::operator();
  BasicGRUCell(std::size_t input_size, std::size_t hidden_size, Rng& rng, const GRUCellOptions& options = {});
  // One step from h = 0.
  Variable forward(const Variable& x) override;
  // One step: h' from x (N, input_size) and h (N, H) (or unbatched).
  Variable operator()(const Variable& x, const Variable& h);
};

// The layers of RNN, LSTM and GRU: parameters weight_ih_l{k}, weight_hh_l{k}, bias_ih_l{k},
// bias_hh_l{k} per layer k (with the suffix _reverse for the backward direction), registered
// in PyTorch's order, shapes as the cells' (layer k > 0 has input size D·H), all drawn from
// U(−1/√H, 1/√H). Each layer and direction projects the whole input sequence in one gemm,
// then steps through time.
template <class T>
class BasicRecurrentBase : public BasicModule<T> {
 public:
  using Variable = BasicVariable<T>;
  std::size_t input_size() const { return input_size_; }
  std::size_t hidden_size() const { return hidden_size_; }
  std::size_t num_layers() const { return num_layers_; }
  bool bidirectional() const { return directions_ == 2; }
  bool batch_first() const { return batch_first_; }
  // The output sequence from a zero state.
  Variable forward(const Variable& x) override;

 protected:
  enum class Kind { rnn_tanh, rnn_relu, lstm, gru };
  struct Options {
    std::size_t num_layers;
    bool bias, batch_first;
    double dropout;
    bool bidirectional;
  };
  BasicRecurrentBase(const char* name, Kind kind, std::size_t input_size, std::size_t hidden_size,
                     const Options& options, Rng& rng);
  // The output sequence and final h (and c for an LSTM) from x and initial h0 (c0), each
  // undefined for zeros; `want_state` false skips assembling the final state.
  struct Run {
    Variable output, h, c;
  };
  Run run(const Variable& x, const Variable& h0, const Variable& c0, bool want_state);

 private:
  struct Layer {
    Variable weight_ih, weight_hh, bias_ih, bias_hh;
  };
  const char* name_;
  Kind kind_;
  std::size_t input_size_, hidden_size_, num_layers_, directions_;
  bool batch_first_;
  double dropout_;
  std::vector<Layer> layers_;   // layer-major, the reverse direction after the forward one
  std::shared_ptr<Rng> rng_;    // dropout masks (shared by copies)
};

// Elman RNN over a sequence: each layer's h_t = act(W_ih x_t + b_ih + W_hh h_{t−1} + b_hh).
template <class T>
class BasicRNN : public BasicRecurrentBase<T> {
 public:
  using Variable = BasicVariable<T>;
  using Result = BasicRNNResult<T>;
  using BasicModule<T>::operator();
  BasicRNN(std::size_t input_size, std::size_t hidden_size, Rng& rng, const RNNOptions& options = {});
  // The output sequence and the final h (L·D, N, H) from h0 (L·D, N, H) (undefined: zeros).
  Result operator()(const Variable& x, const Variable& h0);
};

// LSTM over a sequence, each layer stepping BasicLSTMCell's equations.
template <class T>
class BasicLSTM : public BasicRecurrentBase<T> {
 public:
  using Variable = BasicVariable<T>;
  using State = BasicLSTMState<T>;
  using Result = BasicLSTMResult<T>;
  using BasicModule<T>::operator();
  BasicLSTM(std::size_t input_size, std::size_t hidden_size, Rng& rng, const LSTMOptions& options = {});
  // The output sequence and the final (h, c), each (L·D, N, H), from the initial state
  // (undefined members: zeros).
  Result operator()(const Variable& x, const State& state);
};

// GRU over a sequence, each layer stepping BasicGRUCell's equations.
template <class T>
class BasicGRU : public BasicRecurrentBase<T> {
 public:
  using Variable = BasicVariable<T>;
  using Result = BasicRNNResult<T>;
  using BasicModule<T>::operator();
  BasicGRU(std::size_t input_size, std::size_t hidden_size, Rng& rng, const GRUOptions& options = {});
  // The output sequence and the final h (L·D, N, H) from h0 (undefined: zeros).
  Result operator()(const Variable& x, const Variable& h0);
};

extern template class BasicRecurrentCell<float>;
extern template class BasicRecurrentCell<double>;
extern template class BasicRNNCell<float>;
extern template class BasicRNNCell<double>;
extern template class BasicLSTMCell<float>;
extern template class BasicLSTMCell<double>;
extern template class BasicGRUCell<float>;
extern template class BasicGRUCell<double>;
extern template class BasicRecurrentBase<float>;
extern template class BasicRecurrentBase<double>;
extern template class BasicRNN<float>;
extern template class BasicRNN<double>;
extern template class BasicLSTM<float>;
extern template class BasicLSTM<double>;
extern template class BasicGRU<float>;
extern template class BasicGRU<double>;

using RNNCell = BasicRNNCell<float>;
using LSTMCell = BasicLSTMCell<float>;
using GRUCell = BasicGRUCell<float>;
using RNN = BasicRNN<float>;
using LSTM = BasicLSTM<float>;
using GRU = BasicGRU<float>;
using LSTMState = BasicLSTMState<float>;
using LSTMResult = BasicLSTMResult<float>;
using RNNResult = BasicRNNResult<float>;

}  // namespace nn
}  // namespace xtgrad
