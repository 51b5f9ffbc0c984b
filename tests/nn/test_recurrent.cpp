// nn/recurrent: the cells and RNN/LSTM/GRU. Parameter names, shapes and initialisation as
// PyTorch's; the sequence modules equal their cells stepped by hand; gradients of inputs, states
// and every parameter against central differences (double); shape errors; dropout between
// layers only in training; the float modules learn a tiny sequence task. Their values against
// PyTorch's are the module differential test's (tests/diff/module_cases/recurrent.*).
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "test_util.hpp"
#include "xtgrad/nn/nn.hpp"
#include "xtgrad/nn/recurrent.hpp"

namespace {

using xtgrad::Rng;
using xtgrad::Shape;
using xtgrad::shape_str;
using Tensor64 = xtgrad::TensorOf<double>;
using Variable64 = xtgrad::BasicVariable<double>;
namespace nn = xtgrad::nn;

Tensor64 uniform64(const Shape& shape, std::uint64_t seed, double lo = -1.0, double hi = 1.0) {
  Rng rng(seed);
  return xtgrad::rand_uniform<double>(shape, rng, lo, hi);
}

Variable64 flat(const Variable64& v) { return xtgrad::flatten(v); }

// Every value of `outputs` flattened and joined: one Variable for gradcheck.
Variable64 joined(const std::vector<Variable64>& outputs) {
  std::vector<Variable64> flats;
  for (const auto& o : outputs) flats.push_back(flat(o));
  return xtgrad::concat(flats, 0);
}

// Gradient checks of everything a module's output depends on: the inputs through gradcheck,
// and each parameter (a handle held by the module, so not a gradcheck leaf) by central
// differences on its values against backward() of ⟨f(), R⟩.
void expect_input_gradients(const xtgrad::GradcheckFunction& f, const std::vector<Tensor64>& inputs) {
  const xtgrad::GradcheckReport report = xtgrad::gradcheck(f, inputs);
  EXPECT_TRUE(report.ok) << report.message;
}

void expect_parameter_gradients(nn::BasicModule<double>& module, const std::function<Variable64()>& f) {
  const Variable64 probe = f();
  const Variable64 r(uniform64(probe.shape(), 99));
  const auto loss = [&] { return xtgrad::sum(f() * r); };
  module.zero_grad();
  loss().backward();
  const double eps = 1e-6;
  for (auto& [name, p] : module.named_parameters()) {
    ASSERT_TRUE(p.has_grad()) << name;
    const Tensor64 analytic = p.grad();
    double worst = 0.0;
    for (std::size_t i = 0; i < p.size(); ++i) {
      double& w = p.mutable_value().data()[i];
      const double saved = w;
      w = saved + eps;
      const double up = loss().item();
      w = saved - eps;
      const double down = loss().item();
      w = saved;
      const double numeric = (up - down) / (2 * eps);
      const double err = std::abs(analytic.data()[i] - numeric) / (1e-7 / 1e-5 + std::abs(numeric));
      worst = std::max(worst, err);
    }
    EXPECT_LE(worst, 1e-5) << name;
  }
}

double max_abs_difference(const Tensor64& a, const Tensor64& b) {
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(a.data()[i] - b.data()[i]));
  return worst;
}

std::vector<std::string> names_of(const nn::BasicModule<float>& m) {
  std::vector<std::string> names;
  for (const auto& [name, p] : m.named_parameters()) names.push_back(name + " " + shape_str(p.value()));
  return names;
}

// ---- names, shapes, initialisation -----------------------------------------------------------

TEST(RecurrentCells, ParameterNamesAndShapesArePyTorchs) {
  Rng rng(1);
  EXPECT_EQ(names_of(nn::RNNCell(3, 4, rng)),
            (std::vector<std::string>{"weight_ih (4, 3)", "weight_hh (4, 4)", "bias_ih (4)", "bias_hh (4)"}));
  EXPECT_EQ(names_of(nn::LSTMCell(3, 4, rng)),
            (std::vector<std::string>{"weight_ih (16, 3)", "weight_hh (16, 4)", "bias_ih (16)", "bias_hh (16)"}));
  EXPECT_EQ(names_of(nn::GRUCell(3, 4, rng)),
            (std::vector<std::string>{"weight_ih (12, 3)", "weight_hh (12, 4)", "bias_ih (12)", "bias_hh (12)"}));
  EXPECT_EQ(names_of(nn::GRUCell(3, 4, rng, nn::GRUCellOptions().bias(false))),
            (std::vector<std::string>{"weight_ih (12, 3)", "weight_hh (12, 4)"}));
}

TEST(RecurrentModules, ParameterNamesFollowPyTorchsOrder) {
  Rng rng(2);
  const nn::LSTM lstm(3, 4, rng, nn::LSTMOptions().num_layers(2).bidirectional(true));
  EXPECT_EQ(names_of(lstm), (std::vector<std::string>{
                                "weight_ih_l0 (16, 3)", "weight_hh_l0 (16, 4)", "bias_ih_l0 (16)", "bias_hh_l0 (16)",
                                "weight_ih_l0_reverse (16, 3)", "weight_hh_l0_reverse (16, 4)",
                                "bias_ih_l0_reverse (16)", "bias_hh_l0_reverse (16)", "weight_ih_l1 (16, 8)",
                                "weight_hh_l1 (16, 4)", "bias_ih_l1 (16)", "bias_hh_l1 (16)",
                                "weight_ih_l1_reverse (16, 8)", "weight_hh_l1_reverse (16, 4)",
                                "bias_ih_l1_reverse (16)", "bias_hh_l1_reverse (16)"}));
  const nn::GRU gru(3, 5, rng, nn::GRUOptions().num_layers(2).bias(false));
  EXPECT_EQ(names_of(gru), (std::vector<std::string>{"weight_ih_l0 (15, 3)", "weight_hh_l0 (15, 5)",
                                                     "weight_ih_l1 (15, 5)", "weight_hh_l1 (15, 5)"}));
  const nn::RNN rnn(2, 3, rng);
  EXPECT_EQ(names_of(rnn), (std::vector<std::string>{"weight_ih_l0 (3, 2)", "weight_hh_l0 (3, 3)", "bias_ih_l0 (3)",
                                                     "bias_hh_l0 (3)"}));
}

TEST(RecurrentModules, InitialisationIsUniformWithinOneOverRootHidden) {
  Rng rng(3);
  const nn::LSTM lstm(6, 16, rng, nn::LSTMOptions().num_layers(2));
  const double k = 1.0 / std::sqrt(16.0);
  for (const auto& [name, p] : lstm.named_parameters()) {
    double lo = 1, hi = -1;
    for (std::size_t i = 0; i < p.size(); ++i) {
      lo = std::min(lo, double(p.value().data()[i]));
      hi = std::max(hi, double(p.value().data()[i]));
    }
    EXPECT_GE(lo, -k) << name;
    EXPECT_LE(hi, k) << name;
    EXPECT_LT(lo, -0.8 * k) << name;  // spread over the range (64+ draws)
    EXPECT_GT(hi, 0.8 * k) << name;
  }
}

TEST(RecurrentOptions, ChainAndDefaults) {
  const nn::LSTMOptions defaults{};
  EXPECT_EQ(defaults.num_layers(), 1u);
  EXPECT_TRUE(defaults.bias());
  EXPECT_FALSE(defaults.batch_first());
  EXPECT_EQ(defaults.dropout(), 0.0);
  EXPECT_FALSE(defaults.bidirectional());
  const auto o = nn::RNNOptions().num_layers(3).batch_first(true).nonlinearity(nn::RNNNonlinearity::relu).dropout(0.25);
  EXPECT_EQ(o.num_layers(), 3u);
  EXPECT_TRUE(o.batch_first());
  EXPECT_EQ(o.nonlinearity(), nn::RNNNonlinearity::relu);
  EXPECT_EQ(o.dropout(), 0.25);
}

// ---- shapes and call forms -------------------------------------------------------------------

TEST(RecurrentModules, OutputAndStateShapes) {
  Rng rng(4);
  nn::LSTM lstm(3, 4, rng, nn::LSTMOptions().num_layers(2).bidirectional(true).batch_first(true));
  const xtgrad::Variable x(xtgrad::rand_uniform<float>({2, 5, 3}, rng));  // (N, T, in)
  EXPECT_EQ(shape_str(lstm(x).shape()), "(2, 5, 8)");
  auto [y, state] = lstm(x, {});
  EXPECT_EQ(shape_str(y.shape()), "(2, 5, 8)");
  EXPECT_EQ(shape_str(state.h.shape()), "(4, 2, 4)");
  EXPECT_EQ(shape_str(state.c.shape()), "(4, 2, 4)");
  // the state carries on: a second call from the first call's state
  auto [y2, state2] = lstm(x, state);
  EXPECT_EQ(shape_str(state2.h.shape()), "(4, 2, 4)");

  nn::GRU gru(3, 4, rng, nn::GRUOptions().num_layers(3));
  const xtgrad::Variable xt(xtgrad::rand_uniform<float>({5, 2, 3}, rng));  // (T, N, in)
  auto [gy, gh] = gru(xt, {});
  EXPECT_EQ(shape_str(gy.shape()), "(5, 2, 4)");
  EXPECT_EQ(shape_str(gh.shape()), "(3, 2, 4)");
}

TEST(RecurrentModules, UnbatchedInputKeepsNoBatchAxis) {
  Rng rng(5);
  nn::RNN rnn(3, 4, rng, nn::RNNOptions().num_layers(2).bidirectional(true).batch_first(true));
  const xtgrad::Variable x(xtgrad::rand_uniform<float>({5, 3}, rng));  // (T, in), batch_first or not
  auto [y, h] = rnn(x, {});
  EXPECT_EQ(shape_str(y.shape()), "(5, 8)");
  EXPECT_EQ(shape_str(h.shape()), "(4, 4)");
  // the same as a batch of one
  auto [yb, hb] = rnn(xtgrad::unsqueeze(x, 0), {});
  xtgrad_test::expect_tensor_near(xtgrad::TensorOf<double>(y.value()),
                                  xtgrad::TensorOf<double>(xtgrad::squeeze(yb, 0).value()), 0.0);
  nn::LSTMCell cell(3, 4, rng);
  auto [ch, cc] = cell(xtgrad::Variable(xtgrad::rand_uniform<float>({3}, rng)), {});
  EXPECT_EQ(shape_str(ch.shape()), "(4)");
  EXPECT_EQ(shape_str(cc.shape()), "(4)");
}

TEST(RecurrentModules, WorkInSequential) {
  Rng rng(6);
  nn::Sequential net;
  net.add(nn::GRU(3, 4, rng, nn::GRUOptions().batch_first(true))).add(nn::Linear(4, 2, rng));
  const xtgrad::Variable y = net(xtgrad::Variable(xtgrad::rand_uniform<float>({2, 5, 3}, rng)));
  EXPECT_EQ(shape_str(y.shape()), "(2, 5, 2)");
  EXPECT_EQ(net.named_parameters().front().first, "0.weight_ih_l0");
}

// A model calling the state form lstm(x, state): summaries see that call as they see m(x).
struct Tagger : nn::Module {
  nn::LSTM lstm;
  nn::Linear head;
  explicit Tagger(Rng& rng)
      : lstm(register_module("lstm", nn::LSTM(3, 4, rng))), head(register_module("head", nn::Linear(4, 2, rng))) {}
  xtgrad::Variable forward(const xtgrad::Variable& x) override {
    auto [y, state] = lstm(x, {});
    return head(y + xtgrad::unsqueeze(xtgrad::sum(state.c, 0), 0));
  }
};

TEST(RecurrentModules, StateCallFormsReachSummaries) {
  Rng rng(8);
  Tagger model(rng);
  const auto rows = nn::summarize(model, {5, 2, 3});
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].name, "lstm");
  EXPECT_EQ(rows[0].type, "LSTM");
  EXPECT_EQ(shape_str(rows[0].output_shape), "(5, 2, 4)");
  EXPECT_EQ(rows[0].parameters, std::size_t(16 * 3 + 16 * 4 + 32));
}

// ---- the sequence modules step their cells ---------------------------------------------------

// Copies the layer-0 parameters of direction `suffix` of a sequence module into a cell.
template <class Cell, class Seq>
void copy_layer(Cell& cell, const Seq& seq, const std::string& suffix) {
  for (auto& [name, p] : cell.named_parameters()) {
    for (const auto& [sname, sp] : seq.named_parameters())
      if (sname == name + "_l0" + suffix) p.mutable_value() = sp.value();
  }
}

TEST(RecurrentModules, LSTMEqualsItsCellSteppedForwardAndBackward) {
  Rng rng(7);
  nn::BasicLSTM<double> lstm(3, 4, rng, nn::LSTMOptions().bidirectional(true));
  nn::BasicLSTMCell<double> fwd(3, 4, rng), bwd(3, 4, rng);
  copy_layer(fwd, lstm, "");
  copy_layer(bwd, lstm, "_reverse");
  const Variable64 x(uniform64({4, 2, 3}, 8));
  const Variable64 h0(uniform64({2, 2, 4}, 9)), c0(uniform64({2, 2, 4}, 10));
  auto [y, state] = lstm(x, {h0, c0});
  nn::BasicLSTMState<double> f{xtgrad::narrow(h0, 0, 0, 1), xtgrad::narrow(c0, 0, 0, 1)};
  nn::BasicLSTMState<double> b{xtgrad::narrow(h0, 0, 1, 1), xtgrad::narrow(c0, 0, 1, 1)};
  f = {xtgrad::squeeze(f.h, 0), xtgrad::squeeze(f.c, 0)};
  b = {xtgrad::squeeze(b.h, 0), xtgrad::squeeze(b.c, 0)};
  std::vector<Variable64> fs(4), bs(4);
  for (int t = 0; t < 4; ++t) {
    f = fwd(xtgrad::squeeze(xtgrad::narrow(x, 0, t, 1), 0), f);
    fs[t] = f.h;
    b = bwd(xtgrad::squeeze(xtgrad::narrow(x, 0, 3 - t, 1), 0), b);
    bs[3 - t] = b.h;
  }
  const Variable64 expected = xtgrad::concat({xtgrad::stack(fs, 0), xtgrad::stack(bs, 0)}, 2);
  xtgrad_test::expect_tensor_near(y.value(), expected.value(), 1e-14);
  xtgrad_test::expect_tensor_near(state.h.value(), xtgrad::stack({f.h, b.h}, 0).value(), 1e-14);
  xtgrad_test::expect_tensor_near(state.c.value(), xtgrad::stack({f.c, b.c}, 0).value(), 1e-14);
}

TEST(RecurrentModules, GRUAndRNNEqualTheirCellsStepped) {
  Rng rng(11);
  const Variable64 x(uniform64({3, 2, 3}, 12));
  nn::BasicGRU<double> gru(3, 4, rng);
  nn::BasicGRUCell<double> gcell(3, 4, rng);
  copy_layer(gcell, gru, "");
  nn::BasicRNN<double> rnn(3, 4, rng, nn::RNNOptions().nonlinearity(nn::RNNNonlinearity::relu));
  nn::BasicRNNCell<double> rcell(3, 4, rng, nn::RNNCellOptions().nonlinearity(nn::RNNNonlinearity::relu));
  copy_layer(rcell, rnn, "");
  Variable64 gh, rh;
  std::vector<Variable64> gs, rs;
  for (int t = 0; t < 3; ++t) {
    const Variable64 xt = xtgrad::squeeze(xtgrad::narrow(x, 0, t, 1), 0);
    gh = gcell(xt, gh);
    rh = rcell(xt, rh);
    gs.push_back(gh);
    rs.push_back(rh);
  }
  xtgrad_test::expect_tensor_near(gru(x).value(), xtgrad::stack(gs, 0).value(), 1e-14);
  xtgrad_test::expect_tensor_near(rnn(x).value(), xtgrad::stack(rs, 0).value(), 1e-14);
}

TEST(RecurrentCells, GRUCellValueByHand) {
  // H = 1, input 1, all weights and biases set: r, z, n and h' follow PyTorch's equations.
  Rng rng(13);
  nn::BasicGRUCell<double> cell(1, 1, rng);
  cell.weight_ih.mutable_value() = xtgrad_test::make_tensor({3, 1}, {0.5, -0.3, 0.8});
  cell.weight_hh.mutable_value() = xtgrad_test::make_tensor({3, 1}, {0.2, 0.4, -0.6});
  cell.bias_ih.mutable_value() = Tensor64({0.1, 0.2, 0.3});
  cell.bias_hh.mutable_value() = Tensor64({-0.1, 0.05, 0.25});
  const double x = 0.7, h = -0.4;
  const auto sig = [](double v) { return 1 / (1 + std::exp(-v)); };
  const double r = sig(0.5 * x + 0.1 + 0.2 * h - 0.1), z = sig(-0.3 * x + 0.2 + 0.4 * h + 0.05);
  const double n = std::tanh(0.8 * x + 0.3 + r * (-0.6 * h + 0.25));
  const Variable64 out = cell(Variable64(xtgrad_test::make_tensor({1, 1}, {x})), Variable64(xtgrad_test::make_tensor({1, 1}, {h})));
  EXPECT_NEAR(out.value()(0, 0), (1 - z) * n + z * h, 1e-15);
}

// ---- gradients -------------------------------------------------------------------------------

TEST(RecurrentCells, GradientsOfInputStateAndParameters) {
  Rng rng(20);
  nn::BasicRNNCell<double> rnn(3, 4, rng);
  nn::BasicLSTMCell<double> lstm(3, 4, rng);
  nn::BasicGRUCell<double> gru(3, 4, rng, nn::GRUCellOptions().bias(false));
  const Tensor64 x = uniform64({2, 3}, 21), h = uniform64({2, 4}, 22), c = uniform64({2, 4}, 23);
  expect_input_gradients([&](const std::vector<Variable64>& v) { return rnn(v[0], v[1]); }, {x, h});
  expect_input_gradients(
      [&](const std::vector<Variable64>& v) {
        const auto s = lstm(v[0], {v[1], v[2]});
        return joined({s.h, s.c});
      },
      {x, h, c});
  expect_input_gradients([&](const std::vector<Variable64>& v) { return gru(v[0], v[1]); }, {x, h});
  expect_input_gradients([&](const std::vector<Variable64>& v) { return gru(v[0]); }, {x});  // unbatched path too
  expect_input_gradients([&](const std::vector<Variable64>& v) { return lstm(v[0], {v[1], v[2]}).c; },
                         {uniform64({3}, 24), uniform64({4}, 25), uniform64({4}, 26)});
  const Variable64 xv(x), hv(h), cv(c);
  expect_parameter_gradients(rnn, [&] { return rnn(xv, hv); });
  expect_parameter_gradients(lstm, [&] {
    const auto s = lstm(xv, {hv, cv});
    return joined({s.h, s.c});
  });
  expect_parameter_gradients(gru, [&] { return gru(xv, hv); });
}

TEST(RecurrentModules, GradientsOfTwoLayerBidirectionalLSTM) {
  Rng rng(30);
  nn::BasicLSTM<double> lstm(2, 3, rng, nn::LSTMOptions().num_layers(2).bidirectional(true).batch_first(true));
  const Tensor64 x = uniform64({2, 3, 2}, 31), h0 = uniform64({4, 2, 3}, 32), c0 = uniform64({4, 2, 3}, 33);
  expect_input_gradients(
      [&](const std::vector<Variable64>& v) {
        auto [y, s] = lstm(v[0], {v[1], v[2]});
        return joined({y, s.h, s.c});
      },
      {x, h0, c0});
  const Variable64 xv(x), hv(h0), cv(c0);
  expect_parameter_gradients(lstm, [&] {
    auto [y, s] = lstm(xv, {hv, cv});
    return joined({y, s.h, s.c});
  });
}

TEST(RecurrentModules, GradientsOfTwoLayerBidirectionalGRUAndRNN) {
  Rng rng(40);
  nn::BasicGRU<double> gru(2, 3, rng, nn::GRUOptions().num_layers(2).bidirectional(true));
  nn::BasicRNN<double> rnn(2, 3, rng, nn::RNNOptions().num_layers(2).bidirectional(true).bias(false));
  const Tensor64 x = uniform64({3, 2, 2}, 41), h0 = uniform64({4, 2, 3}, 42);
  for (auto* module : std::vector<nn::BasicRecurrentBase<double>*>{&gru, &rnn}) {
    const auto call = [&](const Variable64& xv, const Variable64& hv) {
      auto [y, h] = module == &gru ? gru(xv, hv) : rnn(xv, hv);
      return joined({y, h});
    };
    expect_input_gradients([&](const std::vector<Variable64>& v) { return call(v[0], v[1]); }, {x, h0});
    const Variable64 xv(x), hv(h0);
    expect_parameter_gradients(*module, [&] { return call(xv, hv); });
  }
  // unbatched (T, in) with a (L·D, H) state
  expect_input_gradients(
      [&](const std::vector<Variable64>& v) {
        auto [y, h] = gru(v[0], v[1]);
        return joined({y, h});
      },
      {uniform64({3, 2}, 43), uniform64({4, 3}, 44)});
}

TEST(RecurrentModules, ParameterCheckCatchesAWrongGradient) {
  // The parameter checker above fails when the analytic gradient is wrong: here the loss
  // scales a parameter's contribution by a hook that doubles its gradient.
  Rng rng(50);
  nn::BasicRNNCell<double> cell(2, 2, rng);
  cell.weight_hh.register_hook([](const Variable64& g) { return g * 2.0; });
  const Variable64 x(uniform64({1, 2}, 51)), h(uniform64({1, 2}, 52));
  EXPECT_NONFATAL_FAILURE(expect_parameter_gradients(cell, [&] { return cell(x, h); }), "weight_hh");
}

// ---- errors ----------------------------------------------------------------------------------

TEST(RecurrentModules, WrongShapesThrowNamingTheModuleAndShapes) {
  Rng rng(60);
  nn::LSTM lstm(3, 4, rng, nn::LSTMOptions().num_layers(2));
  const xtgrad::Variable x(xtgrad::rand_uniform<float>({5, 2, 3}, rng));
  xtgrad_test::expect_throws_with<std::invalid_argument>(
      [&] { lstm(xtgrad::Variable(xtgrad::rand_uniform<float>({5, 2, 6}, rng))); },
      {"LSTM", "(T, N, 3)", "(5, 2, 6)"});
  xtgrad_test::expect_throws_with<std::invalid_argument>(
      [&] { lstm(xtgrad::Variable(xtgrad::rand_uniform<float>({1, 5, 2, 3}, rng))); }, {"LSTM", "(1, 5, 2, 3)"});
  xtgrad_test::expect_throws_with<std::invalid_argument>(
      [&] { lstm(x, {xtgrad::Variable(xtgrad::rand_uniform<float>({1, 2, 4}, rng)), {}}); },
      {"LSTM", "h0", "(2, 2, 4)", "(1, 2, 4)"});
  xtgrad_test::expect_throws_with<std::invalid_argument>(
      [&] { lstm(x, {{}, xtgrad::Variable(xtgrad::rand_uniform<float>({2, 3, 4}, rng))}); },
      {"LSTM", "c0", "(2, 2, 4)", "(2, 3, 4)"});
  nn::GRU gru(3, 4, rng, nn::GRUOptions().batch_first(true));
  xtgrad_test::expect_throws_with<std::invalid_argument>(
      [&] { gru(xtgrad::Variable(xtgrad::rand_uniform<float>({2, 5, 2}, rng))); }, {"GRU", "(N, T, 3)", "(2, 5, 2)"});
  // unbatched input needs an unbatched state
  xtgrad_test::expect_throws_with<std::invalid_argument>(
      [&] {
        gru(xtgrad::Variable(xtgrad::rand_uniform<float>({5, 3}, rng)),
            xtgrad::Variable(xtgrad::rand_uniform<float>({1, 1, 4}, rng)));
      },
      {"GRU", "h0", "(1, 4)", "(1, 1, 4)"});
  nn::RNNCell cell(3, 4, rng);
  xtgrad_test::expect_throws_with<std::invalid_argument>(
      [&] { cell(xtgrad::Variable(xtgrad::rand_uniform<float>({2, 4}, rng))); }, {"RNNCell", "(N, 3)", "(2, 4)"});
  xtgrad_test::expect_throws_with<std::invalid_argument>(
      [&] {
        cell(xtgrad::Variable(xtgrad::rand_uniform<float>({2, 3}, rng)),
             xtgrad::Variable(xtgrad::rand_uniform<float>({3, 4}, rng)));
      },
      {"RNNCell", "h", "(2, 4)", "(3, 4)"});
  nn::LSTMCell lcell(3, 4, rng);
  xtgrad_test::expect_throws_with<std::invalid_argument>(
      [&] {
        lcell(xtgrad::Variable(xtgrad::rand_uniform<float>({2, 3}, rng)),
              {{}, xtgrad::Variable(xtgrad::rand_uniform<float>({4}, rng))});
      },
      {"LSTMCell", "c", "(2, 4)", "(4)"});
}

TEST(RecurrentModules, BadOptionsThrow) {
  Rng rng(61);
  xtgrad_test::expect_throws_with<std::invalid_argument>([&] { nn::LSTM(3, 4, rng, nn::LSTMOptions().num_layers(0)); },
                                                         {"LSTM", "num_layers"});
  xtgrad_test::expect_throws_with<std::invalid_argument>([&] { nn::GRU(3, 4, rng, nn::GRUOptions().dropout(1.0)); },
                                                         {"GRU", "dropout"});
  xtgrad_test::expect_throws_with<std::invalid_argument>([&] { nn::RNNCell(3, 0, rng); },
                                                         {"RNNCell", "hidden_size"});
}

// ---- dropout ---------------------------------------------------------------------------------

TEST(RecurrentModules, DropoutBetweenLayersOnlyInTraining) {
  Rng rng(70);
  nn::BasicLSTM<double> lstm(3, 4, rng, nn::LSTMOptions().num_layers(2).dropout(0.5));
  Rng rng2(70);
  nn::BasicLSTM<double> plain(3, 4, rng2, nn::LSTMOptions().num_layers(2));  // same draws: same weights
  const Variable64 x(uniform64({6, 3, 3}, 71));
  const Tensor64 reference = plain(x).value();
  // training (the default): masks differ from call to call, and the output from no dropout
  const Tensor64 a = lstm(x).value(), b = lstm(x).value();
  EXPECT_GT(max_abs_difference(a, b), 1e-6);
  EXPECT_GT(max_abs_difference(a, reference), 1e-6);
  // evaluation: no dropout
  lstm.eval();
  xtgrad_test::expect_tensor_near(lstm(x).value(), reference, 0.0);
  // one layer: nothing to drop between layers, even in training
  Rng rng3(72), rng4(72);
  nn::BasicGRU<double> one(3, 4, rng3, nn::GRUOptions().dropout(0.5));
  nn::BasicGRU<double> one_plain(3, 4, rng4);
  xtgrad_test::expect_tensor_near(one(x).value(), one_plain(x).value(), 0.0);
}

// ---- training (float) ------------------------------------------------------------------------

// Recall the first element of a sequence at the end: the model must carry it through the state.
template <class Recurrent, class Options>
void expect_learns_to_recall_first(const Options& options) {
  Rng rng(80);
  Recurrent net(1, 8, rng, options);
  nn::Linear head(8, 1, rng);
  auto params = net.named_parameters();
  for (const auto& p : head.named_parameters()) params.push_back({"head." + p.first, p.second});
  nn::Adam opt(params, 0.03);
  const std::size_t steps = 4, batch = 16;
  const auto loss_of = [&](std::uint64_t seed) {
    Rng data(seed);
    const xtgrad::Variable xs(xtgrad::rand_uniform<float>({steps, batch, 1}, data, -1.0, 1.0));
    const xtgrad::Variable target = xtgrad::squeeze(xtgrad::narrow(xs, 0, 0, 1), 0).detach();
    const xtgrad::Variable y = net(xs);
    const xtgrad::Variable last = xtgrad::squeeze(xtgrad::narrow(y, 0, steps - 1, 1), 0);
    return xtgrad::mse(head(last), target);
  };
  const float first = loss_of(1000).item();
  for (std::uint64_t step = 0; step < 60; ++step) {
    opt.zero_grad();
    loss_of(step).backward();
    opt.step();
  }
  const float last = loss_of(1000).item();
  EXPECT_LT(last, 0.5f * first) << "loss " << first << " -> " << last;
}

TEST(RecurrentModules, FloatModulesTrainOnARecallTask) {
  expect_learns_to_recall_first<nn::LSTM>(nn::LSTMOptions());
  expect_learns_to_recall_first<nn::GRU>(nn::GRUOptions());
  expect_learns_to_recall_first<nn::RNN>(nn::RNNOptions());
}

}  // namespace
