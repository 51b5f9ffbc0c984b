#include "methods.hpp"

#include <charconv>
#include <cmath>
#include <stdexcept>
#include <system_error>

#include <fmt/format.h>

namespace mnist_app {

namespace {

// What a method's one key accepts.
enum class Range { probability, open_unit, positive, whole };
struct Method {
  std::string_view name, key;
  Range range;
};
const Method kMethods[] = {
    {"dropout", "p", Range::probability},        {"maxnorm", "c", Range::positive},
    {"noise", "std", Range::positive},            {"label_smoothing", "eps", Range::open_unit},
    {"early_stopping", "patience", Range::whole}, {"adversarial", "eps", Range::positive},
    {"input_grad", "lambd", Range::positive},
    {"weight_decay", "lambd", Range::positive},   {"mixup", "alpha", Range::positive},
    {"sam", "rho", Range::positive},
};
constexpr const char* kNames =
    "none, l1, l2, l1_l2, dropout(p=P), maxnorm(c=C), noise(std=S), label_smoothing(eps=E), "
    "early_stopping(patience=N), adversarial(eps=E), input_grad(lambd=L), weight_decay(lambd=L), "
    "mixup(alpha=A) or sam(rho=R)";

const char* range_text(Range r) {
  switch (r) {
    case Range::probability: return "a number in [0, 1)";
    case Range::open_unit: return "a number in (0, 1)";
    case Range::positive: return "a finite number > 0";
    case Range::whole: return "an integer >= 1";
  }
  return "";
}

std::string usage(const Method& m) { return fmt::format("{}({}=...) with {} {}", m.name, m.key, m.key, range_text(m.range)); }

const Method* find_method(std::string_view name) {
  for (const auto& candidate : kMethods) {
    if (candidate.name == name) return &candidate;
  }
  return nullptr;
}

// The value `token` of a method's term, in its range.
double method_value(const Method& m, const xtgrad::SpecTerm& term, const std::string& token) {
  const auto fail = [&](const std::string& what) { term.fail(fmt::format("{}; expected {}", what, usage(m))); };
  const char* end = token.data() + token.size();
  if (m.range == Range::whole) {
    std::size_t n = 0;
    const auto [p, ec] = std::from_chars(token.data(), end, n);
    if (ec != std::errc() || p != end || n == 0) {
      fail(fmt::format("value '{}' for key '{}' is not {}", token, m.key, range_text(m.range)));
    }
    return double(n);
  }
  double value = 0;
  const auto [p, ec] = std::from_chars(token.data(), end, value);
  if (ec != std::errc() || p != end || !std::isfinite(value)) {
    fail(fmt::format("value '{}' for key '{}' is not a finite number", token, m.key));
  }
  const bool ok = m.range == Range::probability ? value >= 0 && value < 1
                  : m.range == Range::open_unit ? value > 0 && value < 1
                                                : value > 0;
  if (!ok) fail(fmt::format("value '{}' for key '{}' is out of range", token, m.key));
  return value;
}

// The library's norm penalties and the methods above, each with its one required key; each
// value checked as it is read.
const xtgrad::SpecGrammar& grammar() {
  static const xtgrad::SpecGrammar g = [] {
    const xtgrad::SpecGrammar& penalties = xtgrad::regularizer_grammar();
    xtgrad::SpecGrammar out{penalties.forms, kNames, kNames, {}};
    for (const Method& m : kMethods) out.forms.push_back({std::string(m.name), {std::string(m.key)}, {}, usage(m)});
    out.check = [&penalties](const xtgrad::SpecTerm& term, const std::string& key, const std::string& value) {
      if (const Method* m = find_method(term.name)) {
        method_value(*m, term, value);
      } else {
        penalties.check(term, key, value);
      }
    };
    return out;
  }();
  return g;
}

}  // namespace

Methods parse_methods(std::string_view spec) {
  const std::string prefix = fmt::format("invalid regularizer spec \"{}\": ", spec);
  const auto fail = [&](const std::string& what) { throw std::invalid_argument(prefix + what); };
  Methods m;
  bool has_none = false;
  for (const xtgrad::SpecTerm& term : xtgrad::parse_spec_terms(spec, grammar())) {
    const Method* method = find_method(term.name);
    if (method == nullptr) {  // a norm penalty
      if (m.penalty) fail("at most one norm penalty (none, l1, l2 or l1_l2) per run; use l1_l2 for both");
      m.penalty = xtgrad::make_regularizer(xtgrad::regularizer_spec(term));
      has_none = term.name == "none";
      m.terms.push_back(m.penalty->describe());
      continue;
    }
    const double value = method_value(*method, term, *term.find(method->key));
    const auto set = [&](auto& field, auto v) {
      if (field != 0) fail(fmt::format("{} is given twice", method->name));
      field = v;
    };
    if (term.name == "dropout") {
      if (value == 0) fail("dropout(p=0) does nothing: leave it out or give p in (0, 1)");
      set(m.dropout, value);
    } else if (term.name == "maxnorm") {
      set(m.maxnorm, value);
    } else if (term.name == "noise") {
      set(m.noise, value);
    } else if (term.name == "label_smoothing") {
      set(m.label_smoothing, value);
    } else if (term.name == "early_stopping") {
      set(m.patience, std::size_t(value));
    } else if (term.name == "adversarial") {
      set(m.adversarial, value);
    } else if (term.name == "input_grad") {
      set(m.input_grad, value);
    } else if (term.name == "weight_decay") {
      set(m.weight_decay, value);
    } else if (term.name == "mixup") {
      set(m.mixup, value);
    } else {
      set(m.sam, value);
    }
    m.terms.push_back(method->range == Range::whole
                          ? fmt::format("{}({}={})", method->name, method->key, std::size_t(value))
                          : fmt::format("{}({}={})", method->name, method->key, xtgrad::format_coefficient(value)));
  }
  if (has_none && m.terms.size() > 1) fail("none cannot be combined with other terms");
  if (!m.penalty) m.penalty = std::make_shared<xtgrad::NoPenalty>();
  return m;
}

std::size_t validation_size(std::size_t train_size) {
  return static_cast<std::size_t>(std::llround(validation_fraction * double(train_size)));
}

void check_train_size(const Methods& methods, std::size_t train_size) {
  const auto splits = [](std::size_t n) { return validation_size(n) > 0 && validation_size(n) < n; };
  if (methods.patience == 0 || splits(train_size)) return;
  std::size_t least = train_size + 1;
  while (!splits(least)) ++least;  // (a few steps: 0.1·n reaches 0.5 at n = 5)
  throw std::invalid_argument(fmt::format(
      "--reg '{}' holds out {}% of the training subset for validation, and --train-size {} leaves {} images for "
      "it and {} to train on: give --train-size {} or more, or leave early_stopping out",
      methods.describe(), xtgrad::format_coefficient(validation_fraction * 100), train_size,
      validation_size(train_size), train_size - validation_size(train_size), least));
}

void check_data_parallel(const Methods& methods, int ranks) {
  if (methods.mixup == 0 || ranks <= 1) return;
  throw std::invalid_argument(fmt::format(
      "--reg '{}': mixup pairs the rows of a whole batch, and on {} data-parallel ranks each rank holds only its "
      "shard; run it on one rank",
      methods.describe(), ranks));
}

std::string Methods::describe() const {
  std::string out;
  for (const auto& t : terms) out += (out.empty() ? "" : "+") + t;
  return out;
}

std::vector<std::string> Methods::effects() const {
  std::vector<std::string> out;
  const auto c = [](double v) { return xtgrad::format_coefficient(v); };
  if (dropout > 0) {
    out.push_back(fmt::format("dropout: each hidden activation zeroed with probability {} in training (kept ones "
                              "scaled by 1/(1-p)); none at evaluation",
                              c(dropout)));
  }
  if (maxnorm > 0) {
    out.push_back(fmt::format("max-norm: after each step every unit's incoming weight vector (each row of a "
                              "Linear weight, each output filter of a Conv2d weight) is scaled down to L2 norm <= {}",
                              c(maxnorm)));
  }
  if (noise > 0) {
    out.push_back(fmt::format("input noise: N(0, {}^2) added to every training input in the normalised [-1, 1] "
                              "space (not at evaluation)",
                              c(noise)));
  }
  if (label_smoothing > 0) {
    out.push_back(fmt::format("label smoothing: training targets (1 - {0})*one_hot + {0}/10", c(label_smoothing)));
  }
  if (patience > 0) {
    out.push_back(fmt::format("early stopping: {}% of the training subset held out for validation; stop after {} "
                              "epochs without a better validation accuracy, best epoch's weights restored",
                              c(validation_fraction * 100), patience));
  }
  if (adversarial > 0) {
    out.push_back(fmt::format("FGSM adversarial training: loss = 0.5*loss(x) + 0.5*loss(clip(x + {}*sign(dloss/dx), "
                              "-1, 1)) each step",
                              c(adversarial)));
  }
  if (input_grad > 0) {
    out.push_back(fmt::format("input-gradient penalty (double backpropagation): {} * mean over the batch of "
                              "||d loss_i / d x_i||^2, a graph node added to the loss",
                              c(input_grad)));
  }
  if (weight_decay > 0) {
    out.push_back(fmt::format("decoupled weight decay: each step w <- w - lr*{0}*w on the weights (not biases), then "
                              "the optimizer's update of the gradient alone (plain SGD: the step of l2(lambd={0}); "
                              "Adam: AdamW)",
                              c(weight_decay)));
  }
  if (mixup > 0) {
    out.push_back(fmt::format("mixup: each training batch mixed with a permutation of itself, lambda ~ Beta({0}, {0}) "
                              "per batch: x = lambda*x + (1-lambda)*x[perm], loss = lambda*loss(y) + "
                              "(1-lambda)*loss(y[perm])",
                              c(mixup)));
  }
  if (sam > 0) {
    out.push_back(fmt::format("SAM: each step takes the gradient at w + {}*g/||g|| (a second forward/backward pass) "
                              "and steps from w with it",
                              c(sam)));
  }
  return out;
}

bool is_optimizer_name(std::string_view name) { return name == "sgd" || name == "adam" || name == "adamw"; }

RunOptimizer make_optimizer(std::string_view kind, double lr, double momentum, const Methods& methods,
                            const xtgrad::NamedParameters& params) {
  namespace nn = xtgrad::nn;
  if (!is_optimizer_name(kind)) {
    throw std::invalid_argument(fmt::format("--optimizer: unknown optimizer '{}' (expected sgd, adam or adamw)", kind));
  }
  if (kind != "sgd" && momentum != 0) {
    throw std::invalid_argument(fmt::format("--momentum {} applies to --optimizer sgd only, not {}", momentum, kind));
  }
  const double decay = methods.weight_decay > 0 ? methods.weight_decay : kind == "adamw" ? 1e-2 : 0.0;
  // Decay on the weights the norm penalties select by default, none on the rest (biases).
  const xtgrad::Selection weights = xtgrad::Selection::weights_only();
  xtgrad::NamedParameters decayed, rest;
  for (const auto& named : params) (weights.selects(named.first, named.second) ? decayed : rest).push_back(named);
  nn::ParamGroups groups;
  if (!decayed.empty()) groups.emplace_back(decayed, -1, decay);
  if (!rest.empty()) groups.emplace_back(rest, -1, 0.0);
  RunOptimizer out;
  const auto c = [](double v) { return xtgrad::format_coefficient(v); };
  const std::string on = decay > 0 ? fmt::format(", decoupled weight decay {} on the weights", c(decay)) : "";
  if (kind == "sgd") {
    out.base = std::make_unique<nn::SGD>(
        std::move(groups), nn::SGDOptions(lr).momentum(momentum).weight_decay(decay).decoupled_weight_decay(true));
    out.description = fmt::format("SGD (lr {}{}){}", c(lr), momentum > 0 ? ", momentum " + c(momentum) : "", on);
  } else if (kind == "adam") {
    out.base = std::make_unique<nn::Adam>(std::move(groups),
                                          nn::AdamOptions(lr).weight_decay(decay).decoupled_weight_decay(true));
    out.description = fmt::format("Adam (lr {}, betas 0.9, 0.999, eps 1e-8){}", c(lr), on);
  } else {
    out.base = std::make_unique<nn::AdamW>(std::move(groups), nn::AdamWOptions(lr).weight_decay(decay));
    out.description = fmt::format("AdamW (lr {}, betas 0.9, 0.999, eps 1e-8){}{}", c(lr), on,
                                  methods.weight_decay > 0 ? "" : " (PyTorch's default)");
  }
  if (methods.sam > 0) {
    out.sam = std::make_unique<nn::SAM>(*out.base, methods.sam);
    out.description += fmt::format(", in SAM (rho {})", c(methods.sam));
  }
  return out;
}

}  // namespace mnist_app
