#include "xtgrad/distributed/data_parallel.hpp"

#include <algorithm>
#include <chrono>
#include <sstream>
#include <stdexcept>

namespace xtgrad {
namespace distributed {
namespace {

// "fc1.weight (784, 200)" per line: what every rank must agree on.
template <class Scalar>
std::string describe(const NamedParametersOf<Scalar>& params) {
  std::string out;
  for (const auto& [name, p] : params) out += name + '\t' + shape_str(p.shape()) + '\n';
  return out;
}

std::vector<std::pair<std::string, std::string>> parse(const std::string& description) {
  std::vector<std::pair<std::string, std::string>> out;
  std::istringstream in(description);
  std::string line;
  while (std::getline(in, line)) {
    const std::size_t tab = line.find('\t');
    out.emplace_back(line.substr(0, tab), line.substr(tab + 1));
  }
  return out;
}

// Whether t has shape `like`'s (xtensor shapes compared without building vectors).
template <class Scalar>
bool same_shape(const TensorOf<Scalar>& t, const TensorOf<Scalar>& like) {
  return t.dimension() == like.dimension() && std::equal(t.shape().begin(), t.shape().end(), like.shape().begin());
}

}  // namespace

template <class Scalar>
BasicDistributedDataParallel<Scalar>::BasicDistributedDataParallel(NamedParametersOf<Scalar> params,
                                                                   Communicator& comm,
                                                                   DataParallelOptions options)
    : params_(std::move(params)), comm_(comm), options_(options) {
  if (options_.bucket_bytes == 0) {
    throw std::invalid_argument("DistributedDataParallel: bucket_bytes must be positive");
  }
  check_same_parameters();
  for (auto& [name, p] : params_) comm_.broadcast(p.mutable_value(), 0);
  make_buckets();
  packed_.assign(params_.size(), false);
  if (options_.overlap) {
    for (std::size_t i = 0; i < params_.size(); ++i) {
      hooks_.push_back(params_[i].second.register_post_accumulate_grad_hook(
          [this, i](const BasicVariable<Scalar>&) { on_gradient_ready(i); }));
    }
  }
}

template <class Scalar>
BasicDistributedDataParallel<Scalar>::~BasicDistributedDataParallel() {
  for (BasicHookHandle<Scalar>& h : hooks_) h.remove();
  for (Bucket& b : buckets_) {
    if (b.pending) b.pending->wait();  // MPI still writes into the bucket
  }
}

template <class Scalar>
void BasicDistributedDataParallel<Scalar>::check_same_parameters() {
  // Every rank gathers every rank's list, so every rank finds the same first difference and
  // throws the same message: no rank is left waiting in a collective.
  const std::vector<std::string> all = comm_.all_gather(describe(params_));
  const auto reference = parse(all[0]);
  for (std::size_t r = 1; r < all.size(); ++r) {
    if (all[r] == all[0]) continue;
    const auto theirs = parse(all[r]);
    const std::string ranks = " on rank 0 but ";
    const std::string other = " on rank " + std::to_string(r);
    for (std::size_t i = 0; i < std::min(reference.size(), theirs.size()); ++i) {
      if (reference[i].first != theirs[i].first) {
        throw std::invalid_argument("DistributedDataParallel: parameter " + std::to_string(i) + " is '" +
                                    reference[i].first + "'" + ranks + "'" + theirs[i].first + "'" + other);
      }
      if (reference[i].second != theirs[i].second) {
        throw std::invalid_argument("DistributedDataParallel: parameter '" + reference[i].first + "' has shape " +
                                    reference[i].second + ranks + theirs[i].second + other);
      }
    }
    throw std::invalid_argument("DistributedDataParallel: " + std::to_string(reference.size()) +
                                " parameters on rank 0 but " + std::to_string(theirs.size()) + other);
  }
}

template <class Scalar>
void BasicDistributedDataParallel<Scalar>::make_buckets() {
  // Reverse parameter order: the last layer's gradients are finished first by backward(). A
  // parameter of at least half a bucket gets one of its own.
  bucket_of_.assign(params_.size(), 0);
  slot_of_.assign(params_.size(), 0);
  std::size_t bytes = 0;
  bool last_alone = false;
  for (std::size_t k = params_.size(); k-- > 0;) {
    const std::size_t size = params_[k].second.size() * sizeof(Scalar);
    const bool alone = 2 * size >= options_.bucket_bytes;
    if (buckets_.empty() || alone || last_alone || bytes + size > options_.bucket_bytes) {
      buckets_.emplace_back();
      bytes = 0;
    }
    Bucket& b = buckets_.back();
    bucket_of_[k] = buckets_.size() - 1;
    slot_of_[k] = b.params.size();
    b.offsets.push_back(b.params.empty() ? 0 : b.offsets.back() + params_[b.params.back()].second.size());
    b.params.push_back(k);
    bytes += size;
    last_alone = alone;
  }
  for (Bucket& b : buckets_) {
    b.in_place = b.params.size() == 1;
    if (!b.in_place) b.flat = TensorOf<Scalar>::from_shape({b.offsets.back() + params_[b.params.back()].second.size()});
  }
}

template <class Scalar>
TensorOf<Scalar>& BasicDistributedDataParallel<Scalar>::buffer(Bucket& b) {
  return b.in_place ? params_[b.params.front()].second.node()->grad : b.flat;
}

template <class Scalar>
void BasicDistributedDataParallel<Scalar>::pack(std::size_t i) {
  Bucket& b = buckets_[bucket_of_[i]];
  BasicNode<Scalar>& node = *params_[i].second.node();
  const Scalar w = Scalar(weight_);
  const std::size_t n = node.value.size();
  if (b.in_place) {
    if (node.has_grad) {
      Scalar* g = node.grad.data();
      for (std::size_t k = 0; k < n; ++k) g[k] *= w;
    } else {  // no gradient on this rank: it contributes zeros, reduced in a gradient made here
      if (!same_shape(node.grad, node.value)) node.grad.resize(node.value.shape());
      std::fill(node.grad.data(), node.grad.data() + n, Scalar(0));
      node.has_grad = true;
    }
  } else {
    Scalar* dst = b.flat.data() + b.offsets[slot_of_[i]];
    if (node.has_grad) {
      const Scalar* src = node.grad.data();
      for (std::size_t k = 0; k < n; ++k) dst[k] = w * src[k];
    } else {
      std::fill(dst, dst + n, Scalar(0));
    }
  }
  packed_[i] = true;
  ++b.ready;
}

template <class Scalar>
std::vector<std::string> BasicDistributedDataParallel<Scalar>::bucket_names(std::size_t bucket) const {
  std::vector<std::string> out;
  for (std::size_t i : buckets_.at(bucket).params) out.push_back(params_[i].first);
  return out;
}

template <class Scalar>
void BasicDistributedDataParallel<Scalar>::begin_step(std::size_t rows, std::size_t batch_rows) {
  if (batch_rows == 0 || rows > batch_rows) {
    throw std::invalid_argument("DistributedDataParallel::begin_step: " + std::to_string(rows) +
                                " rows of a batch of " + std::to_string(batch_rows));
  }
  if (in_step_) throw std::logic_error("DistributedDataParallel::begin_step: the previous step was not finished");
  weight_ = double(rows) / double(batch_rows);
  in_step_ = true;
  next_to_start_ = 0;
  std::fill(packed_.begin(), packed_.end(), false);
  for (Bucket& b : buckets_) {
    b.ready = 0;
    b.started = false;
  }
}

template <class Scalar>
void BasicDistributedDataParallel<Scalar>::on_gradient_ready(std::size_t i) {
  if (!in_step_) return;  // a backward() outside begin_step/finish_step (e.g. a gradient check)
  if (packed_[i]) {
    throw std::logic_error("DistributedDataParallel: '" + params_[i].first +
                           "' got a second gradient before finish_step(); one backward() per step");
  }
  pack(i);
  start_ready_buckets();
  // Let MPI move the reductions in flight along (it progresses only inside MPI calls).
  for (std::size_t k = 0; k < next_to_start_; ++k) {
    if (buckets_[k].pending) buckets_[k].pending->done();
  }
}

template <class Scalar>
void BasicDistributedDataParallel<Scalar>::start_ready_buckets() {
  while (next_to_start_ < buckets_.size() && buckets_[next_to_start_].ready == buckets_[next_to_start_].params.size()) {
    start(buckets_[next_to_start_++]);
  }
}

template <class Scalar>
void BasicDistributedDataParallel<Scalar>::start(Bucket& b) {
  TensorOf<Scalar>& data = buffer(b);
  b.pending = comm_.start_all_reduce(data.data(), data.size(), ReduceOp::sum);
  b.started = true;
}

template <class Scalar>
double BasicDistributedDataParallel<Scalar>::finish_step(double local_loss) {
  if (!in_step_) throw std::logic_error("DistributedDataParallel::finish_step: begin_step() was not called");
  const auto start = std::chrono::steady_clock::now();
  // Gradients the hooks did not pack (no hooks, or a rank whose shard was empty or whose graph
  // did not reach a parameter): packed now, zeros where there is no gradient.
  for (std::size_t i = 0; i < params_.size(); ++i) {
    if (!packed_[i]) pack(i);
  }
  if (options_.overlap) {
    start_ready_buckets();
  } else {
    for (; next_to_start_ < buckets_.size(); ++next_to_start_) {
      TensorOf<Scalar>& data = buffer(buckets_[next_to_start_]);
      comm_.all_reduce(data.data(), data.size(), ReduceOp::sum);
    }
  }
  double loss = weight_ * local_loss;
  comm_.all_reduce(&loss, 1, ReduceOp::sum);
  // Unpack every packed bucket as it completes into the gradients (created where a rank had none).
  for (Bucket& b : buckets_) {
    if (b.pending) {
      b.pending->wait();
      b.pending.reset();
    }
    if (b.in_place) continue;
    for (std::size_t s = 0; s < b.params.size(); ++s) {
      BasicNode<Scalar>& node = *params_[b.params[s]].second.node();
      if (!node.has_grad) {
        if (!same_shape(node.grad, node.value)) node.grad.resize(node.value.shape());
        node.has_grad = true;
      }
      const Scalar* src = b.flat.data() + b.offsets[s];
      std::copy(src, src + node.grad.size(), node.grad.data());
    }
  }
  in_step_ = false;
  finish_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return loss;
}

template <class Scalar>
double BasicDistributedDataParallel<Scalar>::sum(double value) {
  comm_.all_reduce(&value, 1, ReduceOp::sum);
  return value;
}

template class BasicDistributedDataParallel<float>;
template class BasicDistributedDataParallel<double>;

}  // namespace distributed
}  // namespace xtgrad
