// Module diff cases for nn/recurrent (see recurrent.py for the config fields).
#include <memory>
#include <string>

#include "module_case.hpp"
#include "xtgrad/nn/recurrent.hpp"

namespace {

using module_diff::json;
using module_diff::Module;
using module_diff::Named;
using module_diff::Variable;
namespace nn = xtgrad::nn;

nn::RNNNonlinearity nonlinearity_of(const json& c) {
  return c.value("nonlinearity", "tanh") == "relu" ? nn::RNNNonlinearity::relu : nn::RNNNonlinearity::tanh;
}

// The sequence options every kind shares, set on `o` (RNNOptions, LSTMOptions or GRUOptions).
template <class O>
O sequence_options(O o, const json& c) {
  o.num_layers(c.at("num_layers").get<std::size_t>())
      .bias(c.at("bias").get<bool>())
      .batch_first(c.at("batch_first").get<bool>())
      .bidirectional(c.at("bidirectional").get<bool>())
      .dropout(c.value("dropout", 0.0));
  return o;
}

// An input if the case gives it, else undefined (zeros).
Variable optional_input(const Named& inputs, const std::string& name) {
  const auto it = inputs.find(name);
  return it == inputs.end() ? Variable{} : it->second;
}

bool state_call(const json& c) { return c.at("call").get<std::string>() == "state"; }

const bool rnn_cell = module_diff::register_module_case(
    "RNNCell", {[](const json& c, xtgrad::Rng& rng) -> std::shared_ptr<Module> {
                  return std::make_shared<nn::BasicRNNCell<double>>(
                      c.at("input_size").get<std::size_t>(), c.at("hidden_size").get<std::size_t>(), rng,
                      nn::RNNCellOptions().bias(c.at("bias").get<bool>()).nonlinearity(nonlinearity_of(c)));
                },
                [](Module& m, const json& c, const Named& in) {
                  auto& cell = dynamic_cast<nn::BasicRNNCell<double>&>(m);
                  const Variable& x = module_diff::input(in, "x");
                  return Named{{"h", state_call(c) ? cell(x, module_diff::input(in, "h")) : cell(x)}};
                }});

const bool lstm_cell = module_diff::register_module_case(
    "LSTMCell", {[](const json& c, xtgrad::Rng& rng) -> std::shared_ptr<Module> {
                   return std::make_shared<nn::BasicLSTMCell<double>>(
                       c.at("input_size").get<std::size_t>(), c.at("hidden_size").get<std::size_t>(), rng,
                       nn::LSTMCellOptions().bias(c.at("bias").get<bool>()));
                 },
                 [](Module& m, const json& c, const Named& in) {
                   auto& cell = dynamic_cast<nn::BasicLSTMCell<double>&>(m);
                   const Variable& x = module_diff::input(in, "x");
                   if (!state_call(c)) return Named{{"h", cell(x)}};
                   const auto [h, c_next] = cell(x, {module_diff::input(in, "h"), module_diff::input(in, "c")});
                   return Named{{"h", h}, {"c", c_next}};
                 }});

const bool gru_cell = module_diff::register_module_case(
    "GRUCell", {[](const json& c, xtgrad::Rng& rng) -> std::shared_ptr<Module> {
                  return std::make_shared<nn::BasicGRUCell<double>>(
                      c.at("input_size").get<std::size_t>(), c.at("hidden_size").get<std::size_t>(), rng,
                      nn::GRUCellOptions().bias(c.at("bias").get<bool>()));
                },
                [](Module& m, const json& c, const Named& in) {
                  auto& cell = dynamic_cast<nn::BasicGRUCell<double>&>(m);
                  const Variable& x = module_diff::input(in, "x");
                  return Named{{"h", state_call(c) ? cell(x, module_diff::input(in, "h")) : cell(x)}};
                }});

const bool rnn = module_diff::register_module_case(
    "RNN", {[](const json& c, xtgrad::Rng& rng) -> std::shared_ptr<Module> {
              return std::make_shared<nn::BasicRNN<double>>(
                  c.at("input_size").get<std::size_t>(), c.at("hidden_size").get<std::size_t>(), rng,
                  sequence_options(nn::RNNOptions().nonlinearity(nonlinearity_of(c)), c));
            },
            [](Module& m, const json& c, const Named& in) {
              auto& module = dynamic_cast<nn::BasicRNN<double>&>(m);
              const Variable& x = module_diff::input(in, "x");
              if (!state_call(c)) return Named{{"output", module(x)}};
              const auto [y, h] = module(x, optional_input(in, "h0"));
              return Named{{"output", y}, {"h", h}};
            }});

const bool lstm = module_diff::register_module_case(
    "LSTM", {[](const json& c, xtgrad::Rng& rng) -> std::shared_ptr<Module> {
               return std::make_shared<nn::BasicLSTM<double>>(c.at("input_size").get<std::size_t>(),
                                                              c.at("hidden_size").get<std::size_t>(), rng,
                                                              sequence_options(nn::LSTMOptions(), c));
             },
             [](Module& m, const json& c, const Named& in) {
               auto& module = dynamic_cast<nn::BasicLSTM<double>&>(m);
               const Variable& x = module_diff::input(in, "x");
               if (!state_call(c)) return Named{{"output", module(x)}};
               const auto [y, state] = module(x, {optional_input(in, "h0"), optional_input(in, "c0")});
               return Named{{"output", y}, {"h", state.h}, {"c", state.c}};
             }});

const bool gru = module_diff::register_module_case(
    "GRU", {[](const json& c, xtgrad::Rng& rng) -> std::shared_ptr<Module> {
              return std::make_shared<nn::BasicGRU<double>>(c.at("input_size").get<std::size_t>(),
                                                            c.at("hidden_size").get<std::size_t>(), rng,
                                                            sequence_options(nn::GRUOptions(), c));
            },
            [](Module& m, const json& c, const Named& in) {
              auto& module = dynamic_cast<nn::BasicGRU<double>&>(m);
              const Variable& x = module_diff::input(in, "x");
              if (!state_call(c)) return Named{{"output", module(x)}};
              const auto [y, h] = module(x, optional_input(in, "h0"));
              return Named{{"output", y}, {"h", h}};
            }});

}  // namespace
