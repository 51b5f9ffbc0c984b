// Module diff cases for the attention modules (see attention.py): MultiheadAttention,
// TransformerEncoderLayer, TransformerDecoderLayer, TransformerEncoder.
#include <memory>
#include <optional>
#include <string>

#include "module_case.hpp"
#include "xtgrad/nn/attention.hpp"

namespace {

namespace nn = xtgrad::nn;
using module_diff::input;
using module_diff::json;
using module_diff::Named;
using module_diff::Variable;
using Tensor = xtgrad::TensorOf<double>;

nn::MaskType mask_type(const json& config, const char* key) {
  return config.at(key).get<std::string>() == "boolean" ? nn::MaskType::boolean : nn::MaskType::additive;
}

// The input `name`'s value if the case has it.
std::optional<Tensor> maybe(const Named& inputs, const std::string& name) {
  const auto it = inputs.find(name);
  if (it == inputs.end()) return std::nullopt;
  return it->second.value();
}

nn::TransformerLayerOptions layer_options(const json& c) {
  return nn::TransformerLayerOptions()
      .dim_feedforward(c.at("dim_feedforward").get<std::size_t>())
      .dropout(c.at("dropout").get<double>())
      .activation(c.at("activation").get<std::string>() == "gelu" ? nn::TransformerActivation::gelu
                                                                   : nn::TransformerActivation::relu)
      .norm_first(c.at("norm_first").get<bool>())
      .batch_first(c.at("batch_first").get<bool>());
}

const bool mha_registered = module_diff::register_module_case(
    "MultiheadAttention",
    {[](const json& c, xtgrad::Rng& rng) -> std::shared_ptr<module_diff::Module> {
       return std::make_shared<nn::BasicMultiheadAttention<double>>(
           c.at("embed_dim").get<std::size_t>(), c.at("num_heads").get<std::size_t>(), rng,
           nn::MultiheadAttentionOptions().batch_first(c.at("batch_first").get<bool>()).bias(c.at("bias").get<bool>()));
     },
     [](module_diff::Module& module, const json& c, const Named& inputs) {
       auto& mha = dynamic_cast<nn::BasicMultiheadAttention<double>&>(module);
       nn::BasicMultiheadAttentionForwardOptions<double> o;
       if (auto m = maybe(inputs, "attn_mask")) o.attn_mask(*m, mask_type(c, "attn_mask_type"));
       if (auto m = maybe(inputs, "key_padding_mask")) o.key_padding_mask(*m);
       o.is_causal(c.at("is_causal").get<bool>())
           .need_weights(c.at("need_weights").get<bool>())
           .average_attn_weights(c.at("average_attn_weights").get<bool>());
       const Variable& q = input(inputs, "query");
       const bool self = c.at("self_attention").get<bool>();
       const auto r = self ? mha(q, q, q, o) : mha(q, input(inputs, "key"), input(inputs, "value"), o);
       Named out{{"y", r.output}};
       if (r.weights.defined()) out["w"] = r.weights;
       return out;
     }});

const bool encoder_layer_registered = module_diff::register_module_case(
    "TransformerEncoderLayer",
    {[](const json& c, xtgrad::Rng& rng) -> std::shared_ptr<module_diff::Module> {
       return std::make_shared<nn::BasicTransformerEncoderLayer<double>>(
           c.at("d_model").get<std::size_t>(), c.at("nhead").get<std::size_t>(), rng, layer_options(c));
     },
     [](module_diff::Module& module, const json& c, const Named& inputs) {
       auto& layer = dynamic_cast<nn::BasicTransformerEncoderLayer<double>&>(module);
       nn::BasicTransformerEncoderForwardOptions<double> o;
       if (auto m = maybe(inputs, "mask")) o.mask(*m, mask_type(c, "mask_type"));
       if (auto m = maybe(inputs, "src_key_padding_mask")) o.src_key_padding_mask(*m);
       o.is_causal(c.at("is_causal").get<bool>());
       return Named{{"y", layer(input(inputs, "src"), o)}};
     }});

const bool decoder_layer_registered = module_diff::register_module_case(
    "TransformerDecoderLayer",
    {[](const json& c, xtgrad::Rng& rng) -> std::shared_ptr<module_diff::Module> {
       return std::make_shared<nn::BasicTransformerDecoderLayer<double>>(
           c.at("d_model").get<std::size_t>(), c.at("nhead").get<std::size_t>(), rng, layer_options(c));
     },
     [](module_diff::Module& module, const json&, const Named& inputs) {
       auto& layer = dynamic_cast<nn::BasicTransformerDecoderLayer<double>&>(module);
       const auto o = nn::BasicTransformerDecoderForwardOptions<double>()
                          .tgt_is_causal(true)
                          .memory_mask(input(inputs, "memory_mask").value())
                          .tgt_key_padding_mask(input(inputs, "tgt_key_padding_mask").value())
                          .memory_key_padding_mask(input(inputs, "memory_key_padding_mask").value());
       return Named{{"y", layer(input(inputs, "tgt"), input(inputs, "memory"), o)}};
     }});

const bool encoder_registered = module_diff::register_module_case(
    "TransformerEncoder",
    {[](const json& c, xtgrad::Rng& rng) -> std::shared_ptr<module_diff::Module> {
       const std::size_t d = c.at("d_model").get<std::size_t>();
       const nn::BasicTransformerEncoderLayer<double> layer(d, c.at("nhead").get<std::size_t>(), rng,
                                                            layer_options(c));
       std::optional<nn::BasicLayerNorm<double>> norm;
       if (c.at("final_norm").get<bool>()) norm.emplace(xtgrad::Shape{d});
       return std::make_shared<nn::BasicTransformerEncoder<double>>(layer, c.at("num_layers").get<std::size_t>(),
                                                                    norm);
     },
     [](module_diff::Module& module, const json&, const Named& inputs) {
       auto& encoder = dynamic_cast<nn::BasicTransformerEncoder<double>&>(module);
       const auto o = nn::BasicTransformerEncoderForwardOptions<double>().is_causal(true).src_key_padding_mask(
           input(inputs, "src_key_padding_mask").value());
       return Named{{"y", encoder(input(inputs, "src"), o)}};
     }});

}  // namespace
