#include "xtgrad/nn/checkpoint.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <sstream>
#include <stdexcept>
#include <vector>

#include <zlib.h>

#include "xtgrad/core/errors.hpp"
#include "xtgrad/core/xt.hpp"
#include "xtgrad/io/npz.hpp"
#include "xtgrad/nn/layers.hpp"

namespace xtgrad {
namespace nn {
namespace {

const char kParam[] = "param/";
const char kOptim[] = "optim/";
const char kEpoch[] = "meta/epoch";
const char kRng[] = "meta/rng";
const char kHistory[] = "meta/history";
const char kHistoryColumns[] = "meta/history_columns";
const char kRun[] = "meta/run";
const char kData[] = "meta/data";
// "linear_out_in": nn::Linear weights are stored (out, in), PyTorch's layout. Files without it
// were written before 0.2, when they were (in, out); loading transposes them.
const char kLayout[] = "meta/layout";
const char kLayoutOutIn[] = "linear_out_in";
const char kTable[] = "table/";
const char kEarly[] = "early/";
const char kEarlyBestEpoch[] = "early/best_epoch";
const char kEarlyBadEpochs[] = "early/bad_epochs";
const char kEarlyStopped[] = "early/stopped";
const char kEarlyBestAccuracy[] = "early/best_accuracy";
const char kEarlyBest[] = "early/best/";
const char kColumns[] = "epoch,data_loss,penalty,loss,test_accuracy,seconds,eval_seconds";
constexpr std::size_t kHistoryWidth = 7;

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

NpyArray text_array(const std::string& text) {
  return NpyArray{{text.size()}, "|u1", std::vector<std::uint8_t>(text.begin(), text.end())};
}

NpyArray int64_scalar(std::int64_t v) {
  NpyArray a{{}, "<i8", std::vector<std::uint8_t>(sizeof v)};
  std::memcpy(a.bytes.data(), &v, sizeof v);
  return a;
}

NpyArray history_array(const History& history) {
  std::vector<double> rows;
  rows.reserve(history.size() * kHistoryWidth);
  for (const EpochStats& e : history) {
    rows.insert(rows.end(), {double(e.epoch), e.data_loss, e.penalty, e.loss, e.test_accuracy, e.seconds,
                             e.eval_seconds});
  }
  NpyArray a{{history.size(), kHistoryWidth}, "<f8", std::vector<std::uint8_t>(rows.size() * sizeof(double))};
  if (!rows.empty()) std::memcpy(a.bytes.data(), rows.data(), a.bytes.size());
  return a;
}

NpyArray table_array(const std::string& path, const std::string& name, const std::vector<std::vector<double>>& rows) {
  const std::size_t columns = rows.empty() ? 0 : rows.front().size();
  NpyArray a{{rows.size(), columns}, "<f8", std::vector<std::uint8_t>(rows.size() * columns * sizeof(double))};
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (rows[i].size() != columns) {
      throw std::invalid_argument("save_checkpoint: " + path + ": table '" + name + "' row " + std::to_string(i) +
                                  " has " + std::to_string(rows[i].size()) + " values, row 0 has " +
                                  std::to_string(columns));
    }
    if (columns) std::memcpy(a.bytes.data() + i * columns * sizeof(double), rows[i].data(), columns * sizeof(double));
  }
  return a;
}

// The archive's array `key`, which must exist with `dtype` and `rank` dimensions.
const NpyArray& meta_array(const std::string& path, const std::map<std::string, NpyArray>& arrays, const char* key,
                           const char* dtype, std::size_t rank) {
  const auto it = arrays.find(key);
  if (it == arrays.end()) throw DataError(path + ": not a checkpoint: it has no '" + key + "' array");
  if (it->second.dtype != dtype || it->second.shape.size() != rank) {
    throw DataError(path + ": '" + key + "' must be a " + std::to_string(rank) + "-d array of dtype " + dtype +
                    ", got dtype " + it->second.dtype + " with " + std::to_string(it->second.shape.size()) +
                    " dimensions");
  }
  return it->second;
}

NpyArray float64_scalar(double v) {
  NpyArray a{{}, "<f8", std::vector<std::uint8_t>(sizeof v)};
  std::memcpy(a.bytes.data(), &v, sizeof v);
  return a;
}

std::int64_t int64_of(const NpyArray& a) {
  std::int64_t v = 0;
  std::memcpy(&v, a.bytes.data(), sizeof v);
  return v;
}

std::string text_of(const NpyArray& a) { return std::string(a.bytes.begin(), a.bytes.end()); }

// CRC-32 of `bytes`, in chunks (zlib's length is 32-bit).
uLong crc_of(uLong crc, const void* data, std::size_t bytes) {
  const auto* p = static_cast<const Bytef*>(data);
  while (bytes > 0) {
    const std::size_t n = std::min<std::size_t>(bytes, 1u << 30);
    crc = crc32(crc, p, static_cast<uInt>(n));
    p += n;
    bytes -= n;
  }
  return crc;
}

}  // namespace

template <class T>
std::string dataset_fingerprint(const BasicDataset<T>& data) {
  uLong crc = crc32(0L, Z_NULL, 0);
  crc = crc_of(crc, data.inputs.data(), data.inputs.size() * sizeof(T));
  crc = crc_of(crc, data.targets.data(), data.targets.size() * sizeof(T));
  char hex[9];
  std::snprintf(hex, sizeof hex, "%08lx", static_cast<unsigned long>(crc & 0xffffffffUL));
  return "inputs " + shape_str(data.inputs) + ", targets " + shape_str(data.targets) + ", crc32 " + hex;
}

// The dotted names of the weights of the model's nn::Linear layers ("fc1.weight").
template <class T>
std::vector<std::string> linear_weight_names(BasicModule<T>& model) {
  std::vector<std::string> names;
  for (const auto& [path, m] : model.named_modules()) {
    if (dynamic_cast<BasicLinear<T>*>(m)) names.push_back(path.empty() ? "weight" : path + ".weight");
  }
  return names;
}

// A checkpoint written before 0.2 holds each Linear weight (and its optimizer and early-stopping
// copies) as (in, out): transposes those 2-d arrays to today's (out, in), in `arrays`.
template <class T>
void convert_linear_layout(std::map<std::string, NpyArray>& arrays, const std::string& path,
                           BasicModule<T>& model) {
  const std::vector<std::string> weights = linear_weight_names(model);
  const auto belongs = [&](const std::string& key) {
    for (const std::string& w : weights) {
      if (key == kParam + w || key == kEarlyBest + w || starts_with(key, (kOptim + w + ".").c_str())) return true;
    }
    return false;
  };
  for (auto& [key, array] : arrays) {
    if (array.shape.size() != 2 || !belongs(key)) continue;
    const TensorOf<T> old = from_npy<T>(array, path + ": " + key);
    array = to_npy(TensorOf<T>(xt::transpose(old)));
  }
}

template <class T>
void save_checkpoint(const std::string& path, const BasicModule<T>& model, const BasicOptimizer<T>& optimizer,
                     const NonDeduced<BasicCheckpoint<T>>& meta) {
  if (meta.history.size() != meta.epoch) {
    throw std::invalid_argument("save_checkpoint: " + path + ": epoch " + std::to_string(meta.epoch) + " but " +
                                std::to_string(meta.history.size()) + " history records");
  }
  std::map<std::string, NpyArray> arrays;
  NamedParametersOf<T> saved = model.named_parameters();  // and the buffers (BatchNorm's statistics)
  for (auto& entry : model.named_buffers()) saved.push_back(std::move(entry));
  for (const auto& [name, p] : saved) arrays.emplace(kParam + name, to_npy(p.value()));
  for (const auto& [entry, t] : optimizer.state()) arrays.emplace(kOptim + entry, to_npy(t));
  std::ostringstream rng_text;
  rng_text << meta.rng;
  arrays.emplace(kEpoch, int64_scalar(static_cast<std::int64_t>(meta.epoch)));
  arrays.emplace(kRng, text_array(rng_text.str()));
  arrays.emplace(kHistory, history_array(meta.history));
  arrays.emplace(kHistoryColumns, text_array(kColumns));
  arrays.emplace(kRun, text_array(meta.run));
  arrays.emplace(kData, text_array(meta.data));
  arrays.emplace(kLayout, text_array(kLayoutOutIn));
  for (const auto& [name, rows] : meta.tables) arrays.emplace(kTable + name, table_array(path, name, rows));
  if (meta.early_stopping) {
    const BasicEarlyStoppingState<T>& es = *meta.early_stopping;
    if (!es.best_values.empty() && es.best_values.size() != saved.size()) {
      throw std::invalid_argument("save_checkpoint: " + path + ": " + std::to_string(es.best_values.size()) +
                                  " early-stopping values for a model of " + std::to_string(saved.size()) +
                                  " parameters and buffers");
    }
    arrays.emplace(kEarlyBestEpoch, int64_scalar(static_cast<std::int64_t>(es.best_epoch)));
    arrays.emplace(kEarlyBadEpochs, int64_scalar(static_cast<std::int64_t>(es.bad_epochs)));
    arrays.emplace(kEarlyStopped, int64_scalar(es.stopped ? 1 : 0));
    arrays.emplace(kEarlyBestAccuracy, float64_scalar(es.best_accuracy));
    for (std::size_t i = 0; i < es.best_values.size(); ++i) {
      arrays.emplace(kEarlyBest + saved[i].first, to_npy(es.best_values[i]));
    }
  }
  write_npz(path, arrays);  // temporary, fsync, rename, fsync of the folder
}

template <class T>
BasicCheckpoint<T> load_checkpoint(const std::string& path, BasicModule<T>& model, BasicOptimizer<T>& optimizer) {
  return load_checkpoint_bytes(read_npz_bytes(path), path, model, optimizer);
}

template <class T>
BasicCheckpoint<T> load_checkpoint_bytes(const std::vector<std::uint8_t>& bytes, const std::string& path,
                                         BasicModule<T>& model, BasicOptimizer<T>& optimizer) {
  std::map<std::string, NpyArray> arrays = parse_npz(bytes, path);
  if (!arrays.count(kLayout)) {
    convert_linear_layout(arrays, path, model);  // written before 0.2: Linear weights (in, out)
  } else if (text_of(meta_array(path, arrays, kLayout, "|u1", 1)) != kLayoutOutIn) {
    throw DataError(path + ": '" + kLayout + "' is '" + text_of(arrays.at(kLayout)) + "', expected '" + kLayoutOutIn +
                    "' (a checkpoint of a newer xtgrad?)");
  }

  // Everything is read and checked before the model or the optimizer changes.
  BasicCheckpoint<T> meta;
  const NpyArray& epoch = meta_array(path, arrays, kEpoch, "<i8", 0);
  std::int64_t epochs_done = 0;
  std::memcpy(&epochs_done, epoch.bytes.data(), sizeof epochs_done);
  if (epochs_done < 0) throw DataError(path + ": '" + kEpoch + "' is negative: " + std::to_string(epochs_done));
  meta.epoch = static_cast<std::size_t>(epochs_done);

  std::istringstream rng_text(text_of(meta_array(path, arrays, kRng, "|u1", 1)));
  rng_text >> meta.rng;
  if (!rng_text || !(rng_text >> std::ws).eof()) {
    throw DataError(path + ": '" + kRng + "' is not the text state of a std::mt19937_64");
  }

  const NpyArray& history = meta_array(path, arrays, kHistory, "<f8", 2);
  if (history.shape[0] != meta.epoch || history.shape[1] != kHistoryWidth) {
    throw DataError(path + ": '" + kHistory + "' must be (" + std::to_string(meta.epoch) + ", " +
                    std::to_string(kHistoryWidth) + ") for " + std::to_string(meta.epoch) +
                    " completed epochs, got (" + std::to_string(history.shape[0]) + ", " +
                    std::to_string(history.shape[1]) + ")");
  }
  std::vector<double> rows(meta.epoch * kHistoryWidth);
  if (!rows.empty()) std::memcpy(rows.data(), history.bytes.data(), rows.size() * sizeof(double));
  for (std::size_t i = 0; i < meta.epoch; ++i) {
    const double* r = rows.data() + i * kHistoryWidth;
    EpochStats e;
    e.epoch = static_cast<std::size_t>(r[0]);
    e.data_loss = r[1];
    e.penalty = r[2];
    e.loss = r[3];
    e.test_accuracy = r[4];
    e.seconds = r[5];
    e.eval_seconds = r[6];
    meta.history.push_back(e);
  }
  if (arrays.count(kRun)) meta.run = text_of(meta_array(path, arrays, kRun, "|u1", 1));
  if (arrays.count(kData)) meta.data = text_of(meta_array(path, arrays, kData, "|u1", 1));

  NamedParametersOf<T> params = model.named_parameters();  // and the buffers, as saved
  for (auto& entry : model.named_buffers()) params.push_back(std::move(entry));
  std::vector<TensorOf<T>> values;
  values.reserve(params.size());
  for (const auto& [name, p] : params) {
    const auto it = arrays.find(kParam + name);
    if (it == arrays.end()) {
      throw std::invalid_argument(path + ": has no array for parameter '" + name + "' of shape " +
                                  shape_str(p.value()));
    }
    TensorOf<T> t = from_npy<T>(it->second, path + ": " + it->first);
    if (shape_of(t) != p.shape()) {
      throw std::invalid_argument(path + ": parameter '" + name + "' has shape " + shape_str(t) +
                                  " in the checkpoint but " + shape_str(p.value()) + " in the model");
    }
    values.push_back(std::move(t));
  }
  if (arrays.count(kEarlyBestEpoch)) {
    BasicEarlyStoppingState<T> es;
    const std::int64_t best = int64_of(meta_array(path, arrays, kEarlyBestEpoch, "<i8", 0));
    const std::int64_t bad = int64_of(meta_array(path, arrays, kEarlyBadEpochs, "<i8", 0));
    const std::int64_t stopped = int64_of(meta_array(path, arrays, kEarlyStopped, "<i8", 0));
    std::memcpy(&es.best_accuracy, meta_array(path, arrays, kEarlyBestAccuracy, "<f8", 0).bytes.data(),
                sizeof es.best_accuracy);
    if (best < 0 || std::uint64_t(best) > meta.epoch || bad < 0 || std::uint64_t(bad) > meta.epoch ||
        (stopped != 0 && stopped != 1)) {
      throw DataError(path + ": early stopping's best epoch " + std::to_string(best) + ", bad epochs " +
                      std::to_string(bad) + " or stopped " + std::to_string(stopped) + " do not fit " +
                      std::to_string(meta.epoch) + " completed epochs");
    }
    es.best_epoch = std::size_t(best);
    es.bad_epochs = std::size_t(bad);
    es.stopped = stopped == 1;
    if (es.best_epoch > 0) {  // one value per parameter and buffer, in the model's order
      for (const auto& [name, p] : params) {
        const auto it = arrays.find(kEarlyBest + name);
        if (it == arrays.end()) {
          throw std::invalid_argument(path + ": has no early-stopping value for parameter '" + name + "'");
        }
        TensorOf<T> t = from_npy<T>(it->second, path + ": " + it->first);
        if (shape_of(t) != p.shape()) {
          throw std::invalid_argument(path + ": early-stopping value of '" + name + "' has shape " + shape_str(t) +
                                      " in the checkpoint but " + shape_str(p.value()) + " in the model");
        }
        es.best_values.push_back(std::move(t));
      }
    }
    meta.early_stopping = std::move(es);
  }
  OptimizerStateOf<T> state;
  for (const auto& [key, a] : arrays) {
    if (starts_with(key, kParam)) {
      bool known = false;
      const std::string name = key.substr(std::strlen(kParam));
      for (const auto& param : params) known = known || param.first == name;
      if (!known) throw std::invalid_argument(path + ": array '" + key + "' matches no parameter of the model");
    } else if (starts_with(key, kOptim)) {
      state.emplace_back(key.substr(std::strlen(kOptim)), from_npy<T>(a, path + ": " + key));
    } else if (starts_with(key, kTable)) {
      const NpyArray& t = meta_array(path, arrays, key.c_str(), "<f8", 2);
      std::vector<std::vector<double>>& rows = meta.tables[key.substr(std::strlen(kTable))];
      rows.assign(t.shape[0], std::vector<double>(t.shape[1]));
      for (std::size_t i = 0; i < rows.size(); ++i) {
        const std::size_t row_bytes = t.shape[1] * sizeof(double);
        if (row_bytes) std::memcpy(rows[i].data(), t.bytes.data() + i * row_bytes, row_bytes);
      }
    } else if (starts_with(key, kEarly)) {
      const bool best = starts_with(key, kEarlyBest);
      const std::string k = key;
      bool known = k == kEarlyBestEpoch || k == kEarlyBadEpochs || k == kEarlyStopped || k == kEarlyBestAccuracy;
      if (best && meta.early_stopping && meta.early_stopping->best_epoch > 0) {
        const std::string name = key.substr(std::strlen(kEarlyBest));
        for (const auto& param : params) known = known || param.first == name;
      }
      if (!known) throw DataError(path + ": unexpected array '" + key + "' in a checkpoint");
    } else if (key != kEpoch && key != kRng && key != kHistory && key != kHistoryColumns && key != kRun && key != kLayout &&
               key != kData) {
      throw DataError(path + ": unexpected array '" + key + "' in a checkpoint");
    }
  }
  try {
    optimizer.load_state(state);  // checks every entry; unchanged on error
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(path + ": " + e.what());
  }
  for (std::size_t i = 0; i < params.size(); ++i) xt::noalias(params[i].second.mutable_value()) = values[i];
  return meta;
}

template std::string dataset_fingerprint(const BasicDataset<float>&);
template std::string dataset_fingerprint(const BasicDataset<double>&);
template void save_checkpoint(const std::string&, const BasicModule<float>&, const BasicOptimizer<float>&,
                              const BasicCheckpoint<float>&);
template void save_checkpoint(const std::string&, const BasicModule<double>&, const BasicOptimizer<double>&,
                              const BasicCheckpoint<double>&);
template BasicCheckpoint<float> load_checkpoint(const std::string&, BasicModule<float>&, BasicOptimizer<float>&);
template BasicCheckpoint<double> load_checkpoint(const std::string&, BasicModule<double>&, BasicOptimizer<double>&);
template BasicCheckpoint<float> load_checkpoint_bytes(const std::vector<std::uint8_t>&, const std::string&,
                                                      BasicModule<float>&, BasicOptimizer<float>&);
template BasicCheckpoint<double> load_checkpoint_bytes(const std::vector<std::uint8_t>&, const std::string&,
                                                       BasicModule<double>&, BasicOptimizer<double>&);

}  // namespace nn
}  // namespace xtgrad
