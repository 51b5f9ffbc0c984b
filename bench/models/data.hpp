// The data of the bench/models_* programs, as plain arrays both frameworks copy from, so the
// xtgrad and the libtorch run of a model see the same pixels, the same batches in the same
// order and the same text windows. IDX files raw or gzipped (zlib's gzread reads both).
#pragma once

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace bench {

// The unsigned-byte payload of IDX file `name` (or `name`.gz) in `folder`; dims its extents.
inline std::vector<std::uint8_t> read_idx(const std::string& folder, const std::string& name,
                                          std::vector<std::size_t>& dims) {
  const std::string candidates[] = {folder + "/" + name, folder + "/" + name + ".gz"};
  for (const std::string& path : candidates) {
    gzFile f = gzopen(path.c_str(), "rb");
    if (!f) continue;
    std::vector<std::uint8_t> bytes;
    std::uint8_t buf[1 << 16];
    int got;
    while ((got = gzread(f, buf, sizeof buf)) > 0) bytes.insert(bytes.end(), buf, buf + got);
    gzclose(f);
    if (bytes.size() < 4 || bytes[2] != 0x08) throw std::runtime_error(path + ": not an unsigned-byte IDX file");
    const std::size_t rank = bytes[3], header = 4 + 4 * rank;
    dims.assign(rank, 0);
    for (std::size_t d = 0; d < rank; ++d)
      for (std::size_t b = 0; b < 4; ++b) dims[d] = dims[d] << 8 | bytes[4 + 4 * d + b];
    bytes.erase(bytes.begin(), bytes.begin() + std::ptrdiff_t(header));
    return bytes;
  }
  throw std::runtime_error("'" + name + "' (or .gz) not found in '" + folder + "'");
}

enum class Pixels { minus_one_one, standardize, unit };  // (x/255 − .5)·2, (x/255 − .1307)/.3081, x/255

// The first `count` training images (count = 0: all) as rows of 784 floats, and their labels.
struct Images {
  std::size_t count = 0, pixels = 0;
  std::vector<float> x;             // count × pixels
  std::vector<std::int64_t> y;      // count
};

inline Images load_train_images(const std::string& folder, std::size_t count, Pixels scaling) {
  std::vector<std::size_t> di, dl;
  const auto img = read_idx(folder, "train-images-idx3-ubyte", di);
  const auto lab = read_idx(folder, "train-labels-idx1-ubyte", dl);
  Images s;
  s.count = count ? std::min(count, di[0]) : di[0];
  s.pixels = di[1] * di[2];
  s.x.resize(s.count * s.pixels);
  for (std::size_t i = 0; i < s.x.size(); ++i) {
    const float v = float(img[i]) / 255.0f;
    s.x[i] = scaling == Pixels::minus_one_one ? (v - 0.5f) * 2.0f
             : scaling == Pixels::standardize ? (v - 0.1307f) / 0.3081f : v;
  }
  s.y.assign(lab.begin(), lab.begin() + std::ptrdiff_t(s.count));
  return s;
}

// Row indices of step i's batch: epochs of reshuffled [0, n) (last partial batch dropped),
// drawn from `seed` alone.
inline std::vector<std::vector<std::size_t>> batch_plan(std::size_t n, std::size_t batch, std::size_t steps,
                                                         unsigned long long seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::size_t> order(n);
  std::vector<std::vector<std::size_t>> plan;
  while (plan.size() < steps) {
    for (std::size_t i = 0; i < n; ++i) order[i] = i;
    for (std::size_t i = n; i > 1; --i) std::swap(order[i - 1], order[rng() % i]);  // Fisher–Yates
    for (std::size_t b = 0; b + batch <= n && plan.size() < steps; b += batch)
      plan.emplace_back(order.begin() + std::ptrdiff_t(b), order.begin() + std::ptrdiff_t(b + batch));
  }
  return plan;
}

// Rows `idx` of the row-major (·, width) array `src`, packed into `dst` (idx.size() × width).
template <class T>
void gather_rows(const T* src, std::size_t width, const std::vector<std::size_t>& idx, T* dst) {
  for (std::size_t r = 0; r < idx.size(); ++r) std::memcpy(dst + r * width, src + idx[r] * width, width * sizeof(T));
}

// A text as character ids over its sorted distinct bytes.
struct CharText {
  std::vector<std::int64_t> ids;
  std::size_t vocab = 0;
};

inline CharText load_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read text '" + path + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string s = ss.str();
  std::map<unsigned char, std::int64_t> id;
  for (unsigned char c : s) id[c] = 0;
  std::int64_t next = 0;
  for (auto& kv : id) kv.second = next++;
  CharText t;
  t.vocab = id.size();
  for (unsigned char c : s) t.ids.push_back(id[c]);
  return t;
}

// Step i's `batch` windows: inputs ids[o, o + context) and targets ids[o + 1, o + context + 1),
// each batch × context, row-major; offsets drawn from `seed` alone.
struct TextBatch {
  std::vector<std::int64_t> x, y;
};

inline std::vector<TextBatch> text_plan(const CharText& t, std::size_t batch, std::size_t context, std::size_t steps,
                                        unsigned long long seed) {
  if (t.ids.size() <= context + 1) throw std::runtime_error("text shorter than the context");
  std::mt19937_64 rng(seed);
  std::vector<TextBatch> plan(steps);
  for (auto& b : plan)
    for (std::size_t r = 0; r < batch; ++r) {
      const std::size_t o = rng() % (t.ids.size() - context - 1);
      b.x.insert(b.x.end(), t.ids.begin() + std::ptrdiff_t(o), t.ids.begin() + std::ptrdiff_t(o + context));
      b.y.insert(b.y.end(), t.ids.begin() + std::ptrdiff_t(o + 1), t.ids.begin() + std::ptrdiff_t(o + context + 1));
    }
  return plan;
}

}  // namespace bench
