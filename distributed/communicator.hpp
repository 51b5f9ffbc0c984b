// A group of processes (ranks) that reduce and share arrays: what data-parallel training
// needs from MPI, as an interface, so tests can exercise it and another backend could
// replace it. MpiCommunicator (mpi_communicator.hpp) is the MPI implementation;
// SingleProcessCommunicator (single_process_communicator.hpp, no MPI needed) is a group of one.
//
// Precision-free: each operation on arrays has a float and a double overload.
//
// Every call is collective: each rank of the group must make the same calls, in the same
// order, with the same sizes; otherwise the job hangs or fails inside MPI.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "xtgrad/core/tensor.hpp"  // TensorOf<T>

namespace xtgrad {
namespace distributed {

// How all_reduce combines the ranks' arrays element by element.
enum class ReduceOp {
  sum,   // x ← Σ_r x_r
  mean,  // x ← (1/N) Σ_r x_r
  max,   // x ← max_r x_r
  min,   // x ← min_r x_r
};

// A non-blocking all_reduce in flight. The buffer it was started on must stay alive and
// untouched until done() returns true or wait() returns. Destroying one still in flight
// waits for it.
class PendingReduction {
 public:
  virtual ~PendingReduction() = default;
  // Whether it has completed (the buffer then holds the result); also lets MPI progress.
  virtual bool done() = 0;
  // Blocks until it has completed.
  virtual void wait() = 0;
};

class Communicator {
 public:
  virtual ~Communicator() = default;

  // This process's index in the group, 0 ≤ rank < world_size.
  virtual int rank() const = 0;
  // Number of processes N in the group.
  virtual int world_size() const = 0;

  // data[0..n) ← the element-wise reduction over ranks, in place, on every rank.
  virtual void all_reduce(float* data, std::size_t n, ReduceOp op) = 0;
  virtual void all_reduce(double* data, std::size_t n, ReduceOp op) = 0;
  // Same, started now and finished by the returned handle (n < 2³¹).
  virtual std::unique_ptr<PendingReduction> start_all_reduce(float* data, std::size_t n, ReduceOp op) = 0;
  virtual std::unique_ptr<PendingReduction> start_all_reduce(double* data, std::size_t n, ReduceOp op) = 0;

  // data[0..n) ← rank root's data[0..n), on every rank.
  virtual void broadcast(float* data, std::size_t n, int root) = 0;
  virtual void broadcast(double* data, std::size_t n, int root) = 0;
  // Every rank's `mine`, indexed by rank (the strings may differ in length).
  virtual std::vector<std::string> all_gather(const std::string& mine) = 0;
  // bytes ← rank root's bytes, on every rank (resized to root's length; any length, 0 included).
  virtual void broadcast_bytes(std::vector<std::uint8_t>& bytes, int root) = 0;

  // Returns once every rank has called it.
  virtual void barrier() = 0;
  // Ends every rank of the job with exit code `code` (for an error only some ranks saw,
  // which would otherwise leave the others waiting in a collective). Does not return.
  [[noreturn]] virtual void abort(int code) = 0;

  // The same on whole tensors (any shape, row-major contiguous).
  void all_reduce(TensorOf<float>& t, ReduceOp op = ReduceOp::sum) { all_reduce(t.data(), t.size(), op); }
  void all_reduce(TensorOf<double>& t, ReduceOp op = ReduceOp::sum) { all_reduce(t.data(), t.size(), op); }
  void broadcast(TensorOf<float>& t, int root = 0) { broadcast(t.data(), t.size(), root); }
  void broadcast(TensorOf<double>& t, int root = 0) { broadcast(t.data(), t.size(), root); }
};

}  // namespace distributed
}  // namespace xtgrad
