// The xtgrad side of the state-dict round trip (state_dict_roundtrip.py): builds model MODEL in
// double with PyTorch's names, loads DIR/state.npz (a torch state dict) with nn::load_parameters,
// and writes to DIR/out.npz the output y on DIR/input.npz's x in training mode, then takes one
// SGD step (lr 0.1) on Σ y·r and writes the stepped parameters and buffers with
// nn::save_parameters to DIR/stepped.npz and the evaluation-mode output after the step as
// y_after. Usage: state_dict_runner MODEL DIR. Exit 0 done, 2 bad usage or input.
#include <cstdio>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "xtgrad/xtgrad.hpp"

namespace {

namespace nn = xtgrad::nn;
using Module = nn::BasicModule<double>;
using Variable = xtgrad::BasicVariable<double>;

// LSTM(3 → 5, 2 layers, batch_first) over (N, T, 3), then Linear(5 → 2) at every step.
struct LstmTagger : Module {
  nn::BasicLSTM<double> lstm;
  nn::BasicLinear<double> head;
  explicit LstmTagger(xtgrad::Rng& rng)
      : lstm(register_module("lstm", nn::BasicLSTM<double>(3, 5, rng, nn::LSTMOptions().num_layers(2).batch_first(true)))),
        head(register_module("head", nn::BasicLinear<double>(5, 2, rng))) {}
  Variable forward(const Variable& x) override { return head(lstm(x)); }
};

// Tokens (N, T) → Embedding(11 → 8) → a 2-layer causal TransformerEncoder (2 heads, feed-forward
// 16, dropout 0, batch_first, final LayerNorm) → Linear(8 → 11): logits (N, T, 11).
struct TinyLanguageModel : Module {
  nn::BasicEmbedding<double> embed;
  nn::BasicTransformerEncoder<double> encoder;
  nn::BasicLinear<double> head;
  explicit TinyLanguageModel(xtgrad::Rng& rng)
      : embed(register_module("embed", nn::BasicEmbedding<double>(11, 8, rng))),
        encoder(register_module(
            "encoder", nn::BasicTransformerEncoder<double>(
                           nn::BasicTransformerEncoderLayer<double>(
                               8, 2, rng, nn::TransformerLayerOptions().dim_feedforward(16).dropout(0).batch_first(true)),
                           2, nn::BasicLayerNorm<double>({8})))),
        head(register_module("head", nn::BasicLinear<double>(8, 11, rng))) {}
  // x: the token ids as numbers (N, T).
  Variable forward(const Variable& x) override {
    const std::size_t steps = x.shape()[1];
    const Variable h = embed(xtgrad::to_index_tensor(x.value()));
    return head(encoder(h, nn::BasicTransformerEncoderForwardOptions<double>().mask(
                               nn::square_subsequent_mask<double>(steps))));
  }
};

// The torch models of state_dict_roundtrip.py, written with xtgrad's modules.
std::shared_ptr<Module> make_model(const std::string& name, xtgrad::Rng& rng) {
  if (name == "cnn") {
    // conv3×3(1→4)-BN-ReLU-maxpool, conv3×3(4→8)-BN-ReLU-maxpool, flatten, Linear(32→16)-ReLU, Linear(16→3)
    const nn::Conv2dOptions same = nn::Conv2dOptions().set_padding(1);
    auto net = std::make_shared<nn::BasicSequential<double>>();
    net->add(nn::BasicConv2d<double>(1, 4, 3, rng, same)).add(nn::BasicBatchNorm2d<double>(4))
        .add(nn::BasicReLU<double>()).add(nn::BasicMaxPool2d<double>(2))
        .add(nn::BasicConv2d<double>(4, 8, 3, rng, same)).add(nn::BasicBatchNorm2d<double>(8))
        .add(nn::BasicReLU<double>()).add(nn::BasicMaxPool2d<double>(2))
        .add(nn::BasicFlatten<double>()).add(nn::BasicLinear<double>(32, 16, rng)).add(nn::BasicReLU<double>())
        .add(nn::BasicLinear<double>(16, 3, rng));
    return net;
  }
  if (name == "lstm") return std::make_shared<LstmTagger>(rng);
  if (name == "transformer") return std::make_shared<TinyLanguageModel>(rng);
  return nullptr;
}

xtgrad::TensorOf<double> array(const std::map<std::string, nn::NpyArray>& arrays, const std::string& key,
                               const std::string& path) {
  const auto it = arrays.find(key);
  if (it == arrays.end()) throw std::invalid_argument(path + ": has no array '" + key + "'");
  return nn::from_npy<double>(it->second, path + ": " + key);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: state_dict_runner MODEL DIR\n");
    return 2;
  }
  const std::string model_name = argv[1], dir = argv[2];
  try {
    xtgrad::Rng rng(0);
    const std::shared_ptr<Module> model = make_model(model_name, rng);
    if (!model) throw std::invalid_argument("unknown model '" + model_name + "'");
    nn::load_parameters(*model, dir + "/state.npz");
    const std::string input_path = dir + "/input.npz";
    const auto inputs = nn::read_npz(input_path);
    const Variable x(array(inputs, "x", input_path)), r(array(inputs, "r", input_path));

    model->train();
    const Variable y = (*model)(x);
    xtgrad::sum(y * r).backward();
    for (auto& [name, p] : model->named_parameters()) {
      Variable handle = p;
      handle.mutable_value() -= 0.1 * p.grad();
    }
    nn::save_parameters(*model, dir + "/stepped.npz");
    model->eval();
    const Variable y_after = (*model)(x);
    nn::write_npz(dir + "/out.npz", {{"y", nn::to_npy(y.value())}, {"y_after", nn::to_npy(y_after.value())}});
  } catch (const std::exception& e) {
    std::fprintf(stderr, "state_dict_runner %s: %s\n", model_name.c_str(), e.what());
    return 2;
  }
  return 0;
}
