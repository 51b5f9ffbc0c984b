// distributed_speed: seconds per epoch of the seed model trained data-parallel over MPI, and
// an allreduce microbenchmark. Run under mpirun (bench/distributed.sh does, with 1 and 2 ranks).
//
//   mpirun -np 2 build/bench/distributed_speed --data data/mnist --batch-size 256 [--no-overlap]
//   mpirun -np 2 build/bench/distributed_speed --allreduce
//
// Training: the seed model (784-200 sigmoid-10, weights 0.01·N(0,1), SGD lr 0.1) on
// --train-size MNIST images, global batch --batch-size split over the ranks (each rank its
// shard of every batch, gradients averaged by DistributedDataParallel), one OpenBLAS thread
// per rank, and xtgrad::default_num_threads() pool threads per rank (XTGRAD_NUM_THREADS, or the
// rank's share of the node's CPUs: 1 each for 2 ranks on 2 cores; "threads" in the JSON line).
// With one rank it is plain nn::fit (no communicator in the loop). An epoch's seconds are the
// slowest rank's training pass (nn::fit times it); the last stdout line of rank 0 is one JSON
// object: seconds_per_epoch is the median of the epochs after the first (warm-up),
// test_accuracy the final model's on the 10,000 test images.
//
// --allreduce: for 4 KiB .. 64 MiB of floats (and the seed model's 636,040 bytes), the time of
// one blocking allreduce (median of repeats) and the bandwidths: algbw = bytes / time,
// busbw = algbw · 2(N−1)/N (what a ring moves per rank), one JSON line per size.
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <memory>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "experiment.hpp"
#include "xtgrad/core/gemm.hpp"
#include "xtgrad/core/parallel.hpp"
#include "xtgrad/distributed/data_parallel.hpp"
#include "xtgrad/distributed/mpi_communicator.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using xtgrad::distributed::MpiCommunicator;
using xtgrad::distributed::ReduceOp;

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

void allreduce_benchmark(MpiCommunicator& comm) {
  std::vector<std::size_t> sizes;
  for (std::size_t bytes = 4096; bytes <= (std::size_t(64) << 20); bytes *= 4) sizes.push_back(bytes);
  sizes.push_back(159010 * sizeof(float));  // the seed model's gradient
  std::sort(sizes.begin(), sizes.end());
  const int n = comm.world_size();
  for (std::size_t bytes : sizes) {
    std::vector<float> data(bytes / sizeof(float), 1.0f);
    std::vector<double> times;
    const auto budget_start = Clock::now();
    for (int rep = 0; rep < 1000; ++rep) {
      comm.barrier();
      const auto start = Clock::now();
      comm.all_reduce(data.data(), data.size(), ReduceOp::sum);
      double t = std::chrono::duration<double>(Clock::now() - start).count();
      comm.all_reduce(&t, 1, ReduceOp::max);  // the slowest rank's
      if (rep >= 3) times.push_back(t);       // 3 warm-up repeats
      double elapsed = std::chrono::duration<double>(Clock::now() - budget_start).count();
      comm.all_reduce(&elapsed, 1, ReduceOp::max);
      if (rep >= 12 && elapsed > 1.0) break;  // ≥ 10 timed repeats, about 1 s per size
    }
    const double t = median(times);
    const double algbw = double(bytes) / t / 1e9;
    if (comm.rank() == 0) {
      std::cout << nlohmann::json{{"allreduce_bytes", bytes},   {"ranks", n},
                                  {"microseconds", t * 1e6},    {"algbw_GBps", algbw},
                                  {"busbw_GBps", algbw * 2.0 * (n - 1) / n}, {"repeats", times.size()}}
                       .dump()
                << std::endl;
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  mallopt(M_TRIM_THRESHOLD, 256 << 20);  // as the app: keep freed memory
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  // --spin-us must be known before the communicator exists: read it first.
  xtgrad::distributed::MpiOptions mpi_options;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) != "--spin-us") continue;
    const long long us = std::stoll(argv[i + 1]);
    mpi_options.spin = us < 0 ? std::chrono::microseconds::max() : std::chrono::microseconds(us);
  }
  MpiCommunicator comm(mpi_options);

  mnist_app::Config config;
  config.epochs = 4;
  bool allreduce = false, no_overlap = false;
  double bucket_mb = 1.0;
  CLI::App cli{"Seconds per epoch of the seed model, data-parallel over the MPI ranks; or --allreduce."};
  cli.add_option("--data", config.data, "folder of MNIST IDX files")->capture_default_str();
  cli.add_option("--train-size", config.train_size, "training images")->capture_default_str();
  cli.add_option("--epochs", config.epochs, "epochs; the first is the warm-up")->check(CLI::PositiveNumber)->capture_default_str();
  cli.add_option("--batch-size", config.batch_size, "global batch, split over the ranks")->check(CLI::PositiveNumber)->capture_default_str();
  cli.add_option("--bucket-mb", bucket_mb, "gradient bucket size in MiB")->check(CLI::PositiveNumber)->capture_default_str();
  cli.add_flag("--no-overlap", no_overlap, "allreduce after backward instead of from the gradient-ready hook");
  long long spin_us = mpi_options.spin.count();
  cli.add_option("--spin-us", spin_us, "busy-poll this long, then sleep-poll, in waits; -1: MPI's own (always spinning) waits")
      ->capture_default_str();
  cli.add_flag("--allreduce", allreduce, "run the allreduce microbenchmark instead");
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return comm.rank() == 0 ? cli.exit(e) : (e.get_exit_code() ? 2 : 0);
  }
  // xtgrad's pool keeps its default (XTGRAD_NUM_THREADS, or this rank's share of the node's
  // CPUs); OpenBLAS's own threads are never used (OPENBLAS_NUM_THREADS=1, gemm.hpp).
  try {
    if (allreduce) {
      allreduce_benchmark(comm);
      return 0;
    }
    const xtgrad::nn::Mnist mnist = xtgrad::nn::load_mnist(config.data);
    const mnist_app::PreparedData data = mnist_app::prepare_data(mnist, config.train_size, config.seed);
    xtgrad::Rng rng(config.seed * 0x9E3779B97F4A7C15ULL + 1);  // as run_experiment
    mnist_app::TwoLayerNet model(784, config.hidden, 10, rng);
    xtgrad::nn::SGD sgd(model.named_parameters(), config.lr);
    xtgrad::nn::FitOptions options;
    options.epochs = config.epochs;
    options.batch_size = config.batch_size;
    options.progress_bar = false;
    std::unique_ptr<xtgrad::distributed::DistributedDataParallel> ddp;
    if (comm.world_size() > 1) {
      xtgrad::distributed::DataParallelOptions ddp_options;
      ddp_options.overlap = !no_overlap;
      ddp_options.bucket_bytes = std::size_t(bucket_mb * (1 << 20));
      ddp = std::make_unique<xtgrad::distributed::DistributedDataParallel>(model.named_parameters(), comm, ddp_options);
      options.reducer = ddp.get();
    }
    const xtgrad::nn::History history = xtgrad::nn::fit(model, sgd, data.train, nullptr, rng, options);
    std::vector<double> seconds;
    for (const auto& e : history) {
      double s = e.seconds;
      comm.all_reduce(&s, 1, ReduceOp::max);
      seconds.push_back(s);
    }
    double finish = ddp ? ddp->finish_seconds() / double(history.size()) : 0.0;
    comm.all_reduce(&finish, 1, ReduceOp::max);
    std::vector<double> timed(seconds.size() > 1 ? seconds.begin() + 1 : seconds.begin(), seconds.end());
    if (comm.rank() == 0) {
      const double accuracy = xtgrad::nn::accuracy(model, data.test);
      std::cout << nlohmann::json{{"implementation", "xtgrad"},
                                  {"ranks", comm.world_size()},
                                  {"threads", xtgrad::num_threads()},  // rank 0's pool (default_num_threads())
                                  {"batch_size", config.batch_size},
                                  {"overlap", comm.world_size() > 1 && !no_overlap},
                                  {"bucket_mb", bucket_mb},
                                  {"spin_us", mpi_options.spin == std::chrono::microseconds::max() ? -1 : spin_us},
                                  {"train_size", config.train_size},
                                  {"epochs", config.epochs},
                                  {"epoch_seconds", seconds},
                                  {"seconds_per_epoch", median(timed)},
                                  {"finish_step_seconds_per_epoch", finish},
                                  {"final_loss", history.back().data_loss},
                                  {"test_accuracy", accuracy}}
                       .dump()
                << std::endl;
    }
  } catch (const std::exception& e) {
    std::cerr << "distributed_speed (rank " << comm.rank() << "): " << e.what() << "\n";
    comm.abort(1);
  }
  return 0;
}
