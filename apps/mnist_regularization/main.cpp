// mnist_regularization: the blog's L1/L2 experiment on real MNIST, one run per --reg spec, and
// the regularization chapter's other methods (methods.hpp) with FGSM robustness (--eval-fgsm).
// Exit codes, one table for every path (docs/troubleshooting.md has it too):
//   0 success                      4 training diverged
//   1 internal error (a bug)        5 an output could not be written (files, plots, checkpoints, stdout)
//   2 bad flag, spec or --resume    6 out of memory (or the run would not fit in the memory allowed)
//   3 missing or corrupt data       130 / 143 stopped by SIGINT / SIGTERM
// Under `mpirun -np N` (a build with MPI) the ranks train each run data-parallel, or with
// --sweep each rank trains whole runs (every N-th); only rank 0 prints and writes files.
#include <fcntl.h>
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <new>
#include <streambuf>
#include <system_error>
#include <string_view>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "atomic_file.hpp"
#include "blas_pool.hpp"
#include "checkpointing.hpp"
#include "cluster.hpp"
#include "experiment.hpp"
#include "flags.hpp"
#include "limits.hpp"
#include "methods.hpp"
#include "outputs.hpp"
#include "pictures.hpp"
#include "run_transfer.hpp"
#include "sweep.hpp"
#include "xtgrad/core/errors.hpp"
#include "xtgrad/core/gemm.hpp"

namespace {

using mnist_app::number_from_below;
using mnist_app::number_list;
using mnist_app::positive_number;
using mnist_app::refuse_empty_values;
using mnist_app::whole_number;

constexpr int exit_internal = 1, exit_usage = 2, exit_data = 3, exit_diverged = 4, exit_output = 5,
              exit_memory = 6;

// One line on stderr, written by one write: under mpirun the ranks' stderr meet in one stream,
// and a line written piece by piece (std::cerr is unbuffered) can be cut by another rank's.
void say(const std::string& message) { std::cerr << ("mnist_regularization: " + message + "\n") << std::flush; }

int fail(int code, const std::string& message) {
  say(message);
  return code;
}

// Opens /dev/null on each of fds 0, 1, 2 that is closed, so that no file the app opens later
// takes its number (and gets the table written into it). Returns whether stdout was closed.
bool reserve_standard_fds() {
  bool stdout_closed = false;
  for (int fd = 0; fd <= 2; ++fd) {
    if (::fcntl(fd, F_GETFD) >= 0 || errno != EBADF) continue;
    if (::open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) != fd) std::abort();  // open takes the lowest free fd
    stdout_closed = stdout_closed || fd == 1;
  }
  return stdout_closed;
}

// A failed write to stdout (a full device, a closed pipe) is an error, not a lost table.
void check_stdout() {
  std::cout.flush();
  if (!std::cout || std::ferror(stdout)) {
    const int err = errno;
    throw mnist_app::OutputError("standard output: write failed (" + mnist_app::os_reason(err) + ")");
  }
}

// Creates DIR and proves it is writable before hours of training, not after.
void check_output_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw std::invalid_argument("--out " + dir + ": cannot create the folder (" + ec.message() + ")");
  const std::string probe = (fs::path(dir) / ".write_test").string();
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw std::invalid_argument("--out " + dir + ": the folder is not writable (" + mnist_app::os_reason(errno) + ")");
  }
  ::close(fd);
  ::unlink(probe.c_str());
}

// A stream buffer that accepts everything and keeps nothing.
struct DiscardingBuffer : std::streambuf {
  int overflow(int c) override { return traits_type::not_eof(c); }
  std::streamsize xsputn(const char*, std::streamsize n) override { return n; }
};

// A signal arrived while the results were being written: the write in progress was finished.
struct StoppedWriting {
  std::string what;
};

std::string signal_name(int signal) { return signal == SIGINT ? "SIGINT" : signal == SIGTERM ? "SIGTERM" : "a signal"; }

// A fingerprint of the prepared data, compared across ranks.
std::string data_checksum(const mnist_app::PreparedData& d) {
  std::size_t h = 0;
  for (const xtgrad::Tensor* t : {&d.train.inputs, &d.train.targets, &d.test.inputs, &d.test.targets}) {
    const std::string_view bytes(reinterpret_cast<const char*>(t->data()), t->size() * sizeof(xtgrad::Scalar));
    h = h * 31 + std::hash<std::string_view>{}(bytes);
  }
  return std::to_string(h);
}

// Under mpirun, a step that failed on some ranks ends every rank with the code of the lowest
// failed rank, whose message that rank alone prints. Returns that code, or 0 to carry on.
int settle(mnist_app::Cluster& cluster, const mnist_app::Outcome& mine) {
  const mnist_app::Outcome first = cluster.first_failure(mine);
  if (first.code != 0 && first.rank == cluster.rank()) fail(first.code, first.message);
  return first.code;
}

// The app; main() adds only how the process ends.
int run(int argc, char** argv) {
  const bool stdout_closed = reserve_standard_fds();
  // Fresh pages cost ~12 µs each on this VM: keep freed memory instead of returning it.
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  mallopt(M_MMAP_THRESHOLD, 64 << 20);

  const std::unique_ptr<mnist_app::Cluster> cluster = mnist_app::Cluster::join();
  const bool parallel = cluster->size() > 1;
  // One voice, rank 0's: the others' std::cout discards what it is given and stays good (a
  // failed stream would make check_stdout end that rank alone, leaving rank 0 waiting).
  // (Never freed: std::cout is flushed after main returns.)
  if (!cluster->is_root()) std::cout.rdbuf(new DiscardingBuffer);
  mnist_app::Config config;
  CLI::App cli{"Trains the blog's 784-200-10 sigmoid network (or LeNet, --model) on MNIST (or Fashion-MNIST, "
               "--dataset) once per regularizer spec.\n"
               "Exit codes: 0 success, 1 internal error, 2 bad flag/spec/--resume, 3 missing or corrupt data,\n"
               "4 training diverged, 5 an output could not be written, 6 out of memory, 130/143 SIGINT/SIGTERM."};
  const auto count = mnist_app::max_count;
  auto* data_option = cli.add_option("--data", config.data,
                                     "folder of MNIST IDX files (raw or .gz) or a .npz file; default data/mnist, or "
                                     "/usr/share/datasets/fashion-mnist with --dataset fashion-mnist")
                          ->capture_default_str();
  cli.add_option("--model", config.model,
                 "mlp (the blog's 784-hidden-10 sigmoid network) or lenet (LeNet-5-like: conv 6@5x5 pad 2, maxpool, "
                 "conv 16@5x5, maxpool, dense 400-120-84-10, relu)")
      ->check(CLI::IsMember({"mlp", "lenet"}))->capture_default_str();
  cli.add_option("--dataset", config.dataset,
                 "mnist or fashion-mnist (the same IDX format; Fashion-MNIST from Debian's dataset-fashion-mnist)")
      ->check(CLI::IsMember({"mnist", "fashion-mnist"}))->capture_default_str();
  cli.add_option("--train-size", config.train_size, "training images drawn at random")
      ->check(whole_number(1, count))->capture_default_str();
  cli.add_option("--epochs", config.epochs, "passes over the training subset")
      ->check(whole_number(1, mnist_app::max_epochs))->capture_default_str();
  cli.add_option("--batch-size", config.batch_size, "minibatch size")
      ->check(whole_number(1, count))->capture_default_str();
  cli.add_option("--hidden", config.hidden, "hidden units")->check(whole_number(1, count))->capture_default_str();
  cli.add_option("--lr", config.lr, "SGD learning rate")->check(positive_number)->capture_default_str();
  cli.add_option("--momentum", config.momentum,
                 "SGD momentum mu in [0, 1) (PyTorch's: v <- mu*v + g, w <- w - lr*v); 0 is plain SGD")
      ->check(number_from_below(0, 1))->capture_default_str();
  cli.add_option("--seed", config.seed, "seed for the subset, the initial weights and the shuffles")
      ->check(whole_number(0, UINT64_MAX))->capture_default_str();
  cli.add_option("--threads", config.threads, "threads: from 2, one copies the next batch in the background; OpenBLAS uses up to N for large products")->check(whole_number(1, 256))->capture_default_str();
  cli.add_option("--out", config.out, "output folder")->capture_default_str();
  cli.add_flag("--no-plots", config.no_plots, "skip the PNG plots (loss, weights, pixels, path)");
  cli.add_flag("--quiet", config.quiet, "print only the final table");
  cli.add_option("--reg", config.regs,
                 "regularizer spec, repeatable: none, l1(lambd=X), l2(lambd=X), l1_l2(l1=X, l2=Y) (optional keys "
                 "mode=subgradient|prox (l1, l1_l2) and start=N: first epoch with the penalty on), dropout(p=P), "
                 "maxnorm(c=C), noise(std=S), label_smoothing(eps=E), early_stopping(patience=N), "
                 "adversarial(eps=E), input_grad(lambd=L), or several joined by '+', e.g. "
                 "'l2(lambd=1e-4)+dropout(p=0.5)'")
      ->capture_default_str();
  // The lists are split here (number_list), not by CLI11, which drops empty items.
  std::vector<std::string> eval_fgsm_given, lambdas_given;
  cli.add_option("--eval-fgsm", eval_fgsm_given,
                 "after training, test accuracy under a one-step FGSM perturbation of each size EPS (comma-separated, "
                 "in the [-1, 1] input space), for every run")
      ->allow_extra_args(false)->type_name("EPS[,EPS...]");
  auto* sweep_option =
      cli.add_option("--sweep", config.sweep,
                     "sweep lambda for a kind, repeatable: l1, l2, or with keys, e.g. 'l1(mode=prox)'; runs none plus "
                     "one run per --lambdas value, writes sweep.csv and path.png")
          ->excludes(cli.get_option("--reg"));
  cli.add_option("--lambdas", lambdas_given, "the lambdas of --sweep, comma-separated")
      ->allow_extra_args(false)->type_name("LAMBDA[,LAMBDA...]")->needs(sweep_option)->default_str(fmt::format("{}", fmt::join(config.lambdas, ",")));
  cli.add_option("--dump-graph", config.dump_graph,
                 "write one training step's graph to FILE.dot (and FILE.png when Graphviz is installed)");
  cli.add_flag("--blog-gradient", config.blog_gradient,
               "reproduce the blog's gradient (softmax Jacobian applied twice) instead of the true one");
  std::string checkpoint_dir;
  bool resume = false;
  auto* checkpoint_option = cli.add_option(
      "--checkpoint", checkpoint_dir, "folder for each run's checkpoint (model, optimizer, shuffles), saved every epoch");
  cli.add_flag("--resume", resume, "continue each run from its checkpoint; finished runs are not retrained")
      ->needs(checkpoint_option);
  bool overwrite = false;
  cli.add_flag("--overwrite", overwrite, "start afresh over the checkpoints already in --checkpoint DIR")
      ->needs(checkpoint_option)->excludes("--resume");
  refuse_empty_values(cli);
  // A rank that rejects its flags still takes part in the agreement below (a rank that returned
  // early would sit in MPI_Finalize while the others wait for it in a collective forever).
  mnist_app::Outcome parsed;
  bool help = false;
  try {
    cli.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    help = true;  // printed once the ranks agree on the flags
  } catch (const CLI::ParseError& e) {
    parsed = {exit_usage, std::string(e.what()) + " (see --help)"};
  }
  if (!help && parsed.code == 0) {
    try {
      config.eval_fgsm = number_list("--eval-fgsm", eval_fgsm_given, positive_number);
      if (!lambdas_given.empty()) config.lambdas = number_list("--lambdas", lambdas_given, positive_number);
    } catch (const std::invalid_argument& e) {
      parsed = {exit_usage, e.what()};
    }
  }
  if (!help && parsed.code == 0 && stdout_closed) {
    parsed = {exit_output, "standard output is closed (bad file descriptor): the results table could not be printed; "
                           "nothing was run"};
  }
  if (const int code = settle(*cluster, parsed)) return code;
  if (parallel) {
    try {
      std::string flags;
      for (int i = 1; i < argc; ++i) flags += std::string(i > 1 ? " " : "") + argv[i];
      cluster->check_agreement("the flags", flags);
    } catch (const std::invalid_argument& e) {
      return cluster->is_root() ? fail(exit_usage, e.what()) : exit_usage;  // one voice
    }
  }
  if (help) return cli.exit(CLI::CallForHelp());
  if (config.dataset == "fashion-mnist" && data_option->count() == 0) config.data = mnist_app::fashion_mnist_dir;
  config.ranks = cluster->size();
  // --sweep with several ranks: whole runs per rank (set once the flags are parsed).
  const bool spread = parallel && !config.sweep.empty();

  std::vector<mnist_app::Methods> regs;
  std::vector<mnist_app::SweepPoint> sweep;
  mnist_app::Checkpointing checkpoints(checkpoint_dir, resume, overwrite, config);
  mnist_app::MemoryNeed need;
  try {
    if (!config.sweep.empty()) {
      sweep = mnist_app::sweep_points(config.sweep, config.lambdas);
      config.regs.clear();
      for (const auto& point : sweep) config.regs.push_back(point.spec);
    }
    std::vector<std::string> specs;
    for (const auto& spec : config.regs) {
      regs.push_back(mnist_app::parse_methods(spec));
      mnist_app::check_train_size(regs.back(), config.train_size);
      specs.push_back(regs.back().describe());
    }
    for (const double eps : config.eval_fgsm) {
      if (!std::isfinite(eps) || eps > 2) {
        throw std::invalid_argument(fmt::format("--eval-fgsm: {} is outside (0, 2], the widest step that can "
                                                "change an input in [-1, 1]", eps));
      }
    }
    need = mnist_app::memory_need(config, 784, 10, 10000);  // MNIST: 28×28 inputs, 10 classes, 10,000 tests
    // The folders are rank 0's (no shared file system is assumed), and with --sweep over ranks
    // each rank's --checkpoint folder holds the checkpoints of the runs it trains; any refusal
    // ends every rank alike.
    checkpoints.set_runs(specs);
    std::string refused, note;
    if (cluster->is_root() || spread) {
      try {
        if (cluster->is_root()) check_output_dir(config.out);
        note = checkpoints.prepare();
      } catch (const std::invalid_argument& e) {
        refused = e.what();
      }
    }
    if (spread) {
      for (const std::string& r : cluster->all_gather(refused)) {
        if (refused.empty()) refused = r;
      }
    } else {
      refused = cluster->from_root(refused);
    }
    if (!refused.empty()) throw std::invalid_argument(refused);
    // (Checkpoints renamed or left unclaimed: said once, by rank 0.)
    if (!note.empty() && cluster->is_root()) say(note);
  } catch (const std::invalid_argument& e) {
    return fail(exit_usage, e.what());
  }
  // Refuse a run that cannot fit before loading anything: the raw MNIST files (~55 MB), the
  // prepared data, the model and one batch, and OpenBLAS 0.3.21's work buffer: a 128 MiB
  // malloc per thread (BUFFER_SIZE, fixed when it was built: no setting changes it), retried
  // forever when it fails — a hang under ulimit -v. Its threads: --threads, or more when the
  // environment gave OpenBLAS more (blas_pool.cpp).
  const int blas_threads = std::max(config.threads, mnist_app::blas_pool_threads());
  const std::uint64_t raw_mnist = 70000ull * 785, blas_buffers = std::uint64_t(blas_threads) * (128ull << 20);
  const std::uint64_t available = mnist_app::memory_available();
  // XTGRAD_NO_MEMORY_CHECK=1 skips this estimate (scripts/fault_test.sh uses it to reach the
  // watchdog and the std::bad_alloc path behind it).
  const char* no_check = std::getenv("XTGRAD_NO_MEMORY_CHECK");
  const bool check_memory = !(no_check && std::string(no_check) == "1");
  mnist_app::Outcome fits;
  if (check_memory && available != 0 && need.total() + raw_mnist + blas_buffers > available) {
    fits = {exit_memory, fmt::format("{}: the run needs about {} ({} data, {} model, {} activations, {} "
                                     "OpenBLAS buffers for {}) but this process may allocate only {} more ({}); use "
                                     "smaller values",
                                     mnist_app::largest_part(config, need),
                                     mnist_app::format_bytes(need.total() + raw_mnist + blas_buffers),
                                     mnist_app::format_bytes(need.data + raw_mnist),
                                     mnist_app::format_bytes(need.model),
                                     mnist_app::format_bytes(need.activations),
                                     mnist_app::format_bytes(blas_buffers),
                                     blas_threads == config.threads
                                         ? fmt::format("--threads {}", config.threads)
                                         : fmt::format("its {} threads (OPENBLAS_NUM_THREADS or OMP_NUM_THREADS)",
                                                       blas_threads),
                                     mnist_app::format_bytes(available),
                                     mnist_app::memory_limited() ? "ulimit -v" : "RAM + swap")};
  }
  if (const int code = settle(*cluster, fits)) return code;  // the limits may differ by rank
  // A first product now makes OpenBLAS take its buffer before anything else is allocated, so a
  // later shortage is a std::bad_alloc of ours. Should it loop anyway, a watchdog ends it. It
  // must be large: OpenBLAS computes products of up to ~10^6 multiply-adds without its buffer.
  xtgrad::set_blas_threads(config.threads);
  {
    mnist_app::BlasWatchdog watchdog(30);
    constexpr std::size_t n = 128;
    const std::vector<xtgrad::Scalar> a(n * n, 1);
    std::vector<xtgrad::Scalar> c(n * n);
    xtgrad::gemm(false, false, n, n, n, 1, a.data(), a.data(), 0, c.data());
  }
  mnist_app::install_stop_handlers();  // they set a flag; training stops at the next batch

  std::string phase = "loading the data from " + config.data;
  std::vector<std::string> written;  // the files of this invocation's results written so far
  const auto stop_check = [&] {
    if (mnist_app::stop_signal() != 0) throw StoppedWriting{};
  };
  try {
    if (config.dataset == "fashion-mnist" && !std::filesystem::exists(config.data)) {
      return fail(exit_data, fmt::format("--dataset fashion-mnist: {} does not exist; install Debian's "
                                         "dataset-fashion-mnist (apt-get install dataset-fashion-mnist, or scripts/install_deps.sh --test) or give --data FOLDER",
                                         config.data));
    }
    const xtgrad::nn::Mnist mnist = xtgrad::nn::load_mnist(config.data);
    mnist_app::Outcome enough;  // (each rank reads its own files)
    if (config.train_size > mnist.train.count) {
      enough = {exit_usage, fmt::format("--train-size {} is larger than the {} training images in {}",
                                        config.train_size, mnist.train.count, config.data)};
    }
    if (const int code = settle(*cluster, enough)) return code;
    phase = "preparing the training subset (--train-size " + std::to_string(config.train_size) + ")";
    const mnist_app::PreparedData data = mnist_app::prepare_data(mnist, config.train_size, config.seed);
    if (parallel) {
      // Same flags, other files (another node's copy of --data): a usage error, said once.
      try {
        cluster->check_agreement("the data's checksum", data_checksum(data));
      } catch (const std::invalid_argument& e) {
        if (!cluster->is_root()) return exit_usage;
        return fail(exit_usage, fmt::format("--data {}: the ranks read different images or labels ({}); every rank "
                                            "must read the same files",
                                            config.data, e.what()));
      }
    }
    if (!config.quiet) {
      std::cout << fmt::format("{}: {} training images drawn from {}, {} test images; {} gradient\n",
                               config.dataset == "mnist" ? "MNIST" : "Fashion-MNIST", config.train_size, mnist.train.count, mnist.test.count,
                               config.blog_gradient ? "the blog's" : "the true");
      check_stdout();
    }
    if (!config.dump_graph.empty() && cluster->is_root()) {
      // The graph of the first run with a penalty, else of the first run.
      const xtgrad::Regularizer* shown = regs.front().penalty.get();
      for (const auto& reg : regs) {
        if (reg.penalty->describe() != "none") {
          shown = reg.penalty.get();
          break;
        }
      }
      phase = "drawing --dump-graph";
      std::cout << mnist_app::dump_graph(data, config, *shown, config.dump_graph) << "\n";
      check_stdout();
    }
    const std::string identity = xtgrad::nn::dataset_fingerprint(data.train);
    std::vector<mnist_app::RunResult> runs;
    if (spread) {
      // --sweep over N ranks: run i on rank i mod N, no per-step communication; rank 0
      // gathers the results in run order.
      std::vector<std::pair<std::size_t, mnist_app::RunResult>> mine;
      // Each run is checkpointed by the rank that trains it, as by one process (it is one
      // process's training: any number of ranks, or one process, may resume it); a refused
      // resume or a failed save there ends the job, since the others would wait for its results.
      for (std::size_t i = std::size_t(cluster->rank()); i < regs.size(); i += std::size_t(cluster->size())) {
        try {
          mine.emplace_back(i, mnist_app::run_experiment(data, config, regs[i], std::cout,
                                                         checkpoints.control(i, regs[i].describe(), identity)));
        } catch (const mnist_app::ResumeError& e) {
          return cluster->abort(fail(exit_usage, e.what()));
        } catch (const mnist_app::OutputError& e) {
          return cluster->abort(fail(exit_output, e.what()));
        }
      }
      std::vector<std::pair<std::size_t, mnist_app::RunResult>> all;
      for (const std::string& part : cluster->all_gather(mnist_app::encode_runs(mine))) {
        for (auto& run : mnist_app::decode_runs(part)) all.push_back(std::move(run));
      }
      std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
      for (auto& run : all) runs.push_back(std::move(run.second));
      if (cluster->is_root()) {
        mnist_app::write_summary(config.out, config, runs);
        mnist_app::write_history(config.out, runs);
      }
    }
    for (const auto& reg : regs) {
      if (spread) break;
      phase = fmt::format("training run {} ({}) with --hidden {} and --batch-size {}", runs.size() + 1,
                          reg.describe(), config.hidden, config.batch_size);
      mnist_app::RunControl control = checkpoints.control(runs.size(), reg.describe(), identity);
      if (parallel) {
        control.make_reducer = [&](const xtgrad::NamedParameters& p) { return cluster->make_reducer(p); };
        // A signal stops every rank at the same batch.
        control.should_stop = [&] { return cluster->any(mnist_app::stop_signal() != 0); };
        // Rank 0 reads and writes the checkpoint; every rank loads what it read.
        control.writer = cluster->is_root();
        control.ranks = cluster->size();
        control.from_root = [&](const std::string& text) { return cluster->from_root(text); };
        control.any = [&](bool local) { return cluster->any(local); };
      }
      runs.push_back(mnist_app::run_experiment(data, config, reg, std::cout, control));
      // Keep what is done so far: results on disk grow run by run.
      if (!cluster->is_root()) continue;
      phase = "writing the results";
      mnist_app::write_summary(config.out, config, runs);
      mnist_app::write_history(config.out, runs);
      if (!config.quiet) check_stdout();
    }
    if (!cluster->is_root()) return 0;
    written = {"summary.json", "history.csv"};
    stop_check();
    mnist_app::print_table(std::cout, runs, config.eval_fgsm);
    check_stdout();
    const auto sweep_rows = mnist_app::sweep_rows(sweep, runs);
    if (!sweep.empty()) {
      mnist_app::print_sweep_table(std::cout, sweep_rows);
      check_stdout();
      mnist_app::write_sweep_csv(config.out, sweep_rows);
      written.push_back("sweep.csv");
      stop_check();
    }
    if (!config.no_plots) {
      // Each plot is drawn, verified and renamed in place, or an OutputError ends the run.
      const auto plot = [&](const std::string& note, std::vector<std::string> files) {
        if (!note.empty()) say(note);
        else written.insert(written.end(), files.begin(), files.end());
        stop_check();
      };
      plot(mnist_app::write_plots(config.out, runs), {"loss.png", "weights.png"});
      plot(mnist_app::write_pixels_png(config.out, runs), {"pixels.png"});
      if (!sweep.empty()) plot(mnist_app::write_path_png(config.out, sweep_rows), {"path.png"});
      if (!config.eval_fgsm.empty()) plot(mnist_app::write_fgsm_png(config.out, config.eval_fgsm, runs), {"fgsm.png"});
    }
    std::string list;
    for (const auto& f : written) list += (list.empty() ? "" : ", ") + f;
    std::cout << "\nwrote " << (std::filesystem::path(config.out) / "").string() << list << "\n";
    check_stdout();
  } catch (const StoppedWriting&) {
    std::string list;
    for (const auto& f : written) list += (list.empty() ? "" : ", ") + f;
    const int signal = mnist_app::stop_signal();
    return fail(128 + signal, fmt::format("stopped by {} after training; the files in progress were finished: "
                                          "{} in {} (the rest not written)",
                                          signal_name(signal), list, config.out));
  } catch (const mnist_app::OutputError& e) {
    const int signal = mnist_app::stop_signal();
    if (signal != 0) {  // e.g. gnuplot stopped by the same Ctrl-C
      return fail(128 + signal,
                  fmt::format("stopped by {} while writing the results: {}", signal_name(signal), e.what()));
    }
    return fail(exit_output, e.what());
  } catch (const xtgrad::DataError& e) {
    // Maybe on this rank alone (a missing file): end every rank instead of leaving them waiting.
    if (parallel) return cluster->abort(fail(exit_data, e.what()));
    return fail(exit_data, e.what());
  } catch (const xtgrad::DivergenceError& e) {
    // With --sweep over ranks only this rank diverged: the others would wait for its results.
    if (spread) return cluster->abort(fail(exit_diverged, checkpoints.diverged(e.what())));
    return fail(exit_diverged, checkpoints.diverged(e.what()));
  } catch (const xtgrad::Interrupted& e) {
    const int signal = mnist_app::stop_signal();
    std::string message = checkpoints.interrupted(e, signal, config.out);
    // Open MPI's mpirun answers a SIGINT (Ctrl-C) and a SIGTERM alike: SIGTERM to every rank,
    // SIGKILL 1 s later, and exit status 1 for itself, whatever the ranks return.
    if (parallel && signal == SIGTERM) message += " (mpirun sends SIGTERM to every rank for a Ctrl-C too)";
    if (spread) return cluster->abort(fail(128 + signal, message));
    return fail(128 + signal, message);
  } catch (const mnist_app::ResumeError& e) {
    return fail(exit_usage, e.what());
  } catch (const std::bad_alloc&) {
    return fail(exit_memory, fmt::format("out of memory while {} (the run needs about {}, most of it for {}; this "
                                         "process may allocate {} ({}))",
                                         phase, mnist_app::format_bytes(need.total() + raw_mnist + blas_buffers),
                                         mnist_app::largest_part(config, need), mnist_app::format_bytes(available),
                                         mnist_app::memory_limited() ? "ulimit -v" : "RAM + swap"));
  } catch (const std::system_error& e) {
    if (e.code() == std::errc::not_enough_memory || e.code() == std::errc::resource_unavailable_try_again) {
      return fail(exit_memory, fmt::format("out of memory while {}: {}", phase, e.what()));
    }
    return fail(exit_internal, fmt::format("internal error while {}: {}", phase, e.what()));
  } catch (const std::exception& e) {
    const std::string message = fmt::format("internal error while {}: {}", phase, e.what());
    if (parallel) return cluster->abort(fail(exit_internal, message));
    return fail(exit_internal, message);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  mnist_app::one_blas_thread_unless_chosen(argv);
  const int code = run(argc, argv);  // (MPI is finalised by then)
  if (code == exit_memory) {
    // OpenBLAS threads may still be retrying their buffers, and OpenBLAS joins its threads at
    // exit: leave without the exit-time teardown, so that the exit is prompt.
    std::cout.flush();
    std::cerr.flush();
    std::fflush(nullptr);
    ::_exit(code);
  }
  return code;
}
