#include "xtgrad/distributed/mpi_communicator.hpp"

#include <mpi.h>
#include <sched.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>

namespace xtgrad {
namespace distributed {
namespace {

// Throws std::runtime_error naming the MPI call unless it succeeded.
void check(int code, const char* call) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  throw std::runtime_error(std::string(call) + " failed: " + std::string(text, static_cast<std::size_t>(length)));
}

}  // namespace

// Completes requests: polls MPI_Test busily for up to a budget, then every ~20 µs with a sleep
// in between. MPI_Wait busy-polls, so a rank waiting for a peer that lost its core (more
// runnable threads than cores) would burn the time slice that peer needs. The budget adapts
// between kMinSpin and MpiOptions::spin: a wait that outlasts it halves it (the peer was
// likely off its core, and spinning for it again would likely be wasted too), one that ends
// while spinning raises it by a quarter, so on idle cores, where waits are short, it stays at
// the most, and where the peer is off its core about half the time it falls.
class MpiCommunicator::Waiter {
 public:
  explicit Waiter(std::chrono::microseconds most) : most_(most), budget_(most) {}

  // MpiOptions::spin is microseconds::max(): MPI's own waits, blocking calls included.
  bool spins_forever() const { return most_ == std::chrono::microseconds::max(); }

  void wait(MPI_Request& request) {
    if (spins_forever()) {
      check(MPI_Wait(&request, MPI_STATUS_IGNORE), "MPI_Wait");
      return;
    }
    int flag = 0;
    const auto start = std::chrono::steady_clock::now();
    for (bool slept = false;;) {
      check(MPI_Test(&request, &flag, MPI_STATUS_IGNORE), "MPI_Test");
      if (flag) {
        budget_ = slept ? std::max(std::min(most_, kMinSpin), budget_ / 2) : std::min(most_, budget_ + budget_ / 4);
        return;
      }
      if (std::chrono::steady_clock::now() - start > budget_) {
        std::this_thread::sleep_for(std::chrono::microseconds(20));
        slept = true;
      }
    }
  }

 private:
  static constexpr std::chrono::microseconds kMinSpin{20};
  std::chrono::microseconds most_, budget_;
};

namespace {

// Applies MpiOptions::affinity (the same on every rank) after MPI_Init, which may bind the
// process too. Widening asks for every CPU; the kernel limits the set to the process's cpuset.
// Best effort: a failure keeps the binding. `automatic` first counts the ranks on this node, a
// collective every rank reaches whatever its own affinity calls do.
void apply_affinity(MpiOptions::Affinity affinity, MPI_Comm comm) {
  if (affinity == MpiOptions::Affinity::keep) return;
  int ranks_on_node = 1;
  if (affinity == MpiOptions::Affinity::automatic) {
    MPI_Comm node = MPI_COMM_NULL;
    check(MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node), "MPI_Comm_split_type");
    MPI_Comm_size(node, &ranks_on_node);
    MPI_Comm_free(&node);
  }
  cpu_set_t bound, all, allowed;
  if (::sched_getaffinity(0, sizeof bound, &bound) != 0) return;
  CPU_ZERO(&all);
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) CPU_SET(cpu, &all);
  if (::sched_setaffinity(0, sizeof all, &all) != 0 || affinity == MpiOptions::Affinity::widen) return;
  // automatic: keep the widened set only where the rule says so (`allowed`: what widening gave)
  if (::sched_getaffinity(0, sizeof allowed, &allowed) != 0 ||
      !should_widen_affinity(CPU_COUNT(&bound), ranks_on_node, CPU_COUNT(&allowed))) {
    (void)::sched_setaffinity(0, sizeof bound, &bound);
  }
}

template <class T>
MPI_Datatype mpi_type();
template <>
MPI_Datatype mpi_type<float>() { return MPI_FLOAT; }
template <>
MPI_Datatype mpi_type<double>() { return MPI_DOUBLE; }

// The MPI operation that reduces for `op`; mean is a sum divided afterwards.
MPI_Op mpi_op(ReduceOp op) {
  switch (op) {
    case ReduceOp::sum:
    case ReduceOp::mean:
      return MPI_SUM;
    case ReduceOp::max:
      return MPI_MAX;
    case ReduceOp::min:
      return MPI_MIN;
  }
  throw std::invalid_argument("all_reduce: unknown ReduceOp");
}

template <class T>
void divide(T* data, std::size_t n, int size) {
  const T scale = T(1) / T(size);
  for (std::size_t i = 0; i < n; ++i) data[i] *= scale;
}

// MPI counts are int: larger arrays go in pieces of at most this many elements.
constexpr std::size_t max_count = std::size_t(INT_MAX);

template <class T>
class MpiPendingReduction : public PendingReduction {
 public:
  MpiPendingReduction(MPI_Comm comm, T* data, std::size_t n, ReduceOp op, int size, MpiCommunicator::Waiter& waiter)
      : data_(data), n_(n), mean_(op == ReduceOp::mean), size_(size), waiter_(waiter) {
    check(MPI_Iallreduce(MPI_IN_PLACE, data, static_cast<int>(n), mpi_type<T>(), mpi_op(op), comm, &request_),
          "MPI_Iallreduce");
  }
  ~MpiPendingReduction() override {
    if (!finished_) MPI_Wait(&request_, MPI_STATUS_IGNORE);  // no throw from a destructor
  }
  bool done() override {
    if (finished_) return true;
    int flag = 0;
    check(MPI_Test(&request_, &flag, MPI_STATUS_IGNORE), "MPI_Test");
    if (flag) complete();
    return finished_;
  }
  void wait() override {
    if (finished_) return;
    waiter_.wait(request_);
    complete();
  }

 private:
  void complete() {
    finished_ = true;
    if (mean_) divide(data_, n_, size_);
  }
  MPI_Request request_ = MPI_REQUEST_NULL;
  T* data_;
  std::size_t n_;
  bool mean_;
  int size_;
  MpiCommunicator::Waiter& waiter_;
  bool finished_ = false;
};

template <class T>
void blocking_all_reduce(MPI_Comm comm, T* data, std::size_t n, ReduceOp op, int size, MpiCommunicator::Waiter& waiter) {
  for (std::size_t done = 0; done < n; done += max_count) {
    const int count = static_cast<int>(std::min(max_count, n - done));
    if (waiter.spins_forever()) {
      check(MPI_Allreduce(MPI_IN_PLACE, data + done, count, mpi_type<T>(), mpi_op(op), comm), "MPI_Allreduce");
    } else {
      MPI_Request request = MPI_REQUEST_NULL;
      check(MPI_Iallreduce(MPI_IN_PLACE, data + done, count, mpi_type<T>(), mpi_op(op), comm, &request),
            "MPI_Iallreduce");
      waiter.wait(request);
    }
  }
  if (op == ReduceOp::mean) divide(data, n, size);
}

template <class T>
void blocking_broadcast(MPI_Comm comm, T* data, std::size_t n, int root, int size) {
  if (root < 0 || root >= size) {
    throw std::invalid_argument("broadcast: root " + std::to_string(root) + " is not a rank of a group of " +
                                std::to_string(size));
  }
  for (std::size_t done = 0; done < n; done += max_count) {
    const int count = static_cast<int>(std::min(max_count, n - done));
    check(MPI_Bcast(data + done, count, mpi_type<T>(), root, comm), "MPI_Bcast");
  }
}

template <class T>
std::unique_ptr<PendingReduction> start(MPI_Comm comm, T* data, std::size_t n, ReduceOp op, int size,
                                        MpiCommunicator::Waiter& waiter) {
  if (n > max_count) {
    throw std::invalid_argument("start_all_reduce: " + std::to_string(n) + " elements; at most " +
                                std::to_string(max_count) + " in one non-blocking reduction");
  }
  return std::make_unique<MpiPendingReduction<T>>(comm, data, n, op, size, waiter);
}

}  // namespace

struct MpiCommunicator::Impl {
  MPI_Comm comm = MPI_COMM_NULL;
  bool owns_mpi = false;  // this object initialised MPI and finalises it
};

bool should_widen_affinity(int bound_cpus, int ranks_on_node, int node_cpus) {
  return bound_cpus == 1 && ranks_on_node >= node_cpus;
}

MpiCommunicator::MpiCommunicator(MpiOptions options)
    : impl_(std::make_unique<Impl>()), options_(options), waiter_(std::make_unique<Waiter>(options.spin)) {
  int initialized = 0;
  check(MPI_Initialized(&initialized), "MPI_Initialized");
  if (!initialized) {
    // Only the calling thread talks to MPI (the batch prefetch thread never does).
    int provided = 0;
    check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
    impl_->owns_mpi = true;
  }
  check(MPI_Comm_dup(MPI_COMM_WORLD, &impl_->comm), "MPI_Comm_dup");
  // Errors come back as codes (then exceptions) instead of MPI's default abort.
  check(MPI_Comm_set_errhandler(impl_->comm, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
  check(MPI_Comm_rank(impl_->comm, &rank_), "MPI_Comm_rank");
  check(MPI_Comm_size(impl_->comm, &size_), "MPI_Comm_size");
  apply_affinity(options_.affinity, impl_->comm);
}

MpiCommunicator::~MpiCommunicator() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized) return;
  if (impl_->comm != MPI_COMM_NULL) MPI_Comm_free(&impl_->comm);
  if (impl_->owns_mpi) MPI_Finalize();
}

void MpiCommunicator::all_reduce(float* data, std::size_t n, ReduceOp op) {
  blocking_all_reduce(impl_->comm, data, n, op, size_, *waiter_);
}
void MpiCommunicator::all_reduce(double* data, std::size_t n, ReduceOp op) {
  blocking_all_reduce(impl_->comm, data, n, op, size_, *waiter_);
}
std::unique_ptr<PendingReduction> MpiCommunicator::start_all_reduce(float* data, std::size_t n, ReduceOp op) {
  return start(impl_->comm, data, n, op, size_, *waiter_);
}
std::unique_ptr<PendingReduction> MpiCommunicator::start_all_reduce(double* data, std::size_t n, ReduceOp op) {
  return start(impl_->comm, data, n, op, size_, *waiter_);
}
void MpiCommunicator::broadcast(float* data, std::size_t n, int root) {
  blocking_broadcast(impl_->comm, data, n, root, size_);
}
void MpiCommunicator::broadcast(double* data, std::size_t n, int root) {
  blocking_broadcast(impl_->comm, data, n, root, size_);
}

std::vector<std::string> MpiCommunicator::all_gather(const std::string& mine) {
  if (mine.size() > max_count) throw std::invalid_argument("all_gather: a string of more than 2³¹ bytes");
  // Lengths first, then the bytes at their offsets (total < 2³¹ bytes).
  const int length = static_cast<int>(mine.size());
  std::vector<int> lengths(static_cast<std::size_t>(size_)), offsets(static_cast<std::size_t>(size_));
  check(MPI_Allgather(&length, 1, MPI_INT, lengths.data(), 1, MPI_INT, impl_->comm), "MPI_Allgather");
  std::size_t total = 0;
  for (int r = 0; r < size_; ++r) {
    offsets[r] = static_cast<int>(total);
    total += static_cast<std::size_t>(lengths[r]);
    if (total > max_count) throw std::invalid_argument("all_gather: more than 2³¹ bytes in all");
  }
  std::string all(total, '\0');
  check(MPI_Allgatherv(mine.data(), length, MPI_CHAR, all.data(), lengths.data(), offsets.data(), MPI_CHAR,
                       impl_->comm),
        "MPI_Allgatherv");
  std::vector<std::string> out;
  out.reserve(lengths.size());
  for (int r = 0; r < size_; ++r) out.push_back(all.substr(offsets[r], lengths[r]));
  return out;
}

void MpiCommunicator::broadcast_bytes(std::vector<std::uint8_t>& bytes, int root) {
  if (root < 0 || root >= size_) {
    throw std::invalid_argument("broadcast_bytes: root " + std::to_string(root) + " is not a rank of a group of " +
                                std::to_string(size_));
  }
  // The length first (64-bit), then the bytes in pieces of at most 2³¹ − 1.
  std::uint64_t length = bytes.size();
  check(MPI_Bcast(&length, 1, MPI_UINT64_T, root, impl_->comm), "MPI_Bcast");
  if (rank_ != root) bytes.resize(static_cast<std::size_t>(length));
  for (std::size_t done = 0; done < bytes.size(); done += max_count) {
    const int count = static_cast<int>(std::min(max_count, bytes.size() - done));
    check(MPI_Bcast(bytes.data() + done, count, MPI_BYTE, root, impl_->comm), "MPI_Bcast");
  }
}

void MpiCommunicator::barrier() { check(MPI_Barrier(impl_->comm), "MPI_Barrier"); }

void MpiCommunicator::abort(int code) {
  MPI_Abort(impl_->comm, code);
  std::abort();  // MPI_Abort does not return; this keeps [[noreturn]] honest
}

}  // namespace distributed
}  // namespace xtgrad
