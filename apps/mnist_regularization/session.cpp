#include "session.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <iostream>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "atomic_file.hpp"
#include "pictures.hpp"
#include "process.hpp"
#include "run_transfer.hpp"
#include "outputs.hpp"
#include "xtgrad/io/mnist.hpp"
#include "xtgrad/nn/checkpoint.hpp"

namespace mnist_app {
namespace {

// A fingerprint of the prepared data, compared across ranks.
std::string data_checksum(const PreparedData& d) {
  std::size_t h = 0;
  for (const xtgrad::Tensor* t : {&d.train.inputs, &d.train.targets, &d.test.inputs, &d.test.targets}) {
    const std::string_view bytes(reinterpret_cast<const char*>(t->data()), t->size() * sizeof(xtgrad::Scalar));
    h = h * 31 + std::hash<std::string_view>{}(bytes);
  }
  return std::to_string(h);
}

}  // namespace

Session::Session(Communicator& ranks, Invocation& invocation)
    : ranks(ranks),
      config(invocation.config),
      parallel(ranks.world_size() > 1),
      spread(parallel && (!invocation.config.sweep.empty() || !invocation.config.seeds.empty())),
      checkpoints(invocation.checkpoint_dir, invocation.resume, invocation.overwrite, invocation.config) {
  config.ranks = ranks.world_size();
}

MemoryNeed plan_runs(Session& s) {
  Config& config = s.config;
  if (!config.sweep.empty()) {
    s.sweep = sweep_points(config.sweep, config.lambdas);
    config.regs.clear();
    for (const auto& point : s.sweep) config.regs.push_back(point.spec);
  }
  std::vector<std::string> specs;
  for (const auto& spec : config.regs) {
    s.regs.push_back(parse_methods(spec));
    check_train_size(s.regs.back(), config.train_size);
    if (s.parallel && !s.spread) check_data_parallel(s.regs.back(), config.ranks);  // mixup needs whole batches
    specs.push_back(s.regs.back().describe());
  }
  // --seeds: every spec once per seed, each run checkpointed under its spec and seed.
  s.seeds = config.seeds.empty() ? std::vector<std::uint64_t>{config.seed} : config.seeds;
  if (!config.seeds.empty()) {
    std::vector<std::string> per_seed;
    for (const std::uint64_t seed : s.seeds) {
      for (const auto& spec : specs) per_seed.push_back(run_label(spec, seed));
    }
    specs = per_seed;
  }
  for (const double eps : config.eval_fgsm) {
    if (!std::isfinite(eps) || eps > 2) {
      throw std::invalid_argument(fmt::format("--eval-fgsm: {} is outside (0, 2], the widest step that can "
                                              "change an input in [-1, 1]", eps));
    }
  }
  bool sam = false;  // a run that keeps SAM's copy of the weights
  for (const auto& methods : s.regs) sam = sam || methods.sam > 0;
  const MemoryNeed need = memory_need(config, 784, 10, 10000, sam);  // MNIST: 28×28 inputs, 10 classes, 10,000 tests
  // The folders are rank 0's (no shared file system is assumed), and with --sweep over ranks
  // each rank's --checkpoint folder holds the checkpoints of the runs it trains; any refusal
  // ends every rank alike.
  s.checkpoints.set_runs(specs);
  const bool root = s.ranks.rank() == 0;
  std::string refused, note;
  if (root || s.spread) {
    try {
      if (root) check_output_dir("--out", config.out);
      note = s.checkpoints.prepare();
    } catch (const std::invalid_argument& e) {
      refused = e.what();
    }
  }
  if (s.spread) {
    for (const std::string& r : s.ranks.all_gather(refused)) {
      if (refused.empty()) refused = r;
    }
  } else {
    refused = from_root(s.ranks, refused);
  }
  if (!refused.empty()) throw std::invalid_argument(refused);
  if (!note.empty() && root) say(note);  // (checkpoints renamed or left unclaimed: said once)
  return need;
}

int load_data(Session& s, PreparedData& data) {
  const Config& config = s.config;
  s.phase = "loading the data from " + config.data;
  if (config.dataset == "fashion-mnist" && !std::filesystem::exists(config.data)) {
    return fail(exit_data, fmt::format("--dataset fashion-mnist: {} does not exist; install Debian's "
                                       "dataset-fashion-mnist (apt-get install dataset-fashion-mnist, or scripts/install_deps.sh --test) or give --data FOLDER",
                                       config.data));
  }
  s.mnist = std::make_shared<const xtgrad::nn::Mnist>(xtgrad::nn::load_mnist(config.data));
  const xtgrad::nn::Mnist& mnist = *s.mnist;
  Outcome enough;  // (each rank reads its own files)
  if (config.train_size > mnist.train.count) {
    enough = {exit_usage, fmt::format("--train-size {} is larger than the {} training images in {}", config.train_size,
                                      mnist.train.count, config.data)};
  }
  if (const int code = settle(s.ranks, enough)) return code;
  s.phase = "preparing the training subset (--train-size " + std::to_string(config.train_size) + ")";
  data = prepare_data(mnist, config.train_size, s.seeds.front());
  if (s.parallel) {
    // Same flags, other files (another node's copy of --data): a usage error, said once.
    try {
      check_agreement(s.ranks, "the data's checksum", data_checksum(data));
    } catch (const std::invalid_argument& e) {
      if (s.ranks.rank() != 0) return exit_usage;
      return fail(exit_usage, fmt::format("--data {}: the ranks read different images or labels ({}); every rank "
                                          "must read the same files",
                                          config.data, e.what()));
    }
  }
  if (!config.quiet) {
    std::cout << fmt::format("{}: {} training images drawn from {}, {} test images; {} gradient\n",
                             config.dataset == "mnist" ? "MNIST" : "Fashion-MNIST", config.train_size,
                             mnist.train.count, mnist.test.count, config.blog_gradient ? "the blog's" : "the true");
    if (!config.seeds.empty()) {
      std::cout << fmt::format("seeds {}: each draws its own subset, initial weights and order, shared by its {} runs\n",
                               fmt::join(config.seeds, ","), s.regs.size());
    }
    check_stdout();
  }
  if (!config.dump_graph.empty() && s.ranks.rank() == 0) {
    // The graph of the first run with a penalty, else of the first run.
    const xtgrad::Regularizer* shown = s.regs.front().penalty.get();
    for (const auto& reg : s.regs) {
      if (reg.penalty->describe() != "none") {
        shown = reg.penalty.get();
        break;
      }
    }
    s.phase = "drawing --dump-graph";
    std::cout << dump_graph(data, config, *shown, config.dump_graph) << "\n";
    check_stdout();
  }
  return 0;
}

namespace {

// Run k of the invocation: regs[k % M] under seeds[k / M] (M specs), with the data of its seed
// (load_data's for the first seed, else drawn here and kept while the next runs share it).
struct RunPlan {
  RunPlan(Session& session, const PreparedData& first_seed) : s(session), first(first_seed) {}
  Session& s;
  const PreparedData& first;
  PreparedData redrawn;
  std::uint64_t redrawn_seed = 0;
  bool have_redrawn = false;

  std::size_t count() const { return s.seeds.size() * s.regs.size(); }
  const Methods& methods(std::size_t k) const { return s.regs[k % s.regs.size()]; }
  std::uint64_t seed(std::size_t k) const { return s.seeds[k / s.regs.size()]; }
  std::string label(std::size_t k) const {
    return s.config.seeds.empty() ? methods(k).describe() : run_label(methods(k).describe(), seed(k));
  }
  Config config(std::size_t k) const {
    Config c = s.config;
    c.seed = seed(k);
    return c;
  }
  const PreparedData& data(std::size_t k) {
    const std::uint64_t wanted = seed(k);
    if (wanted == s.seeds.front()) return first;
    if (!have_redrawn || redrawn_seed != wanted) {
      s.phase = fmt::format("preparing the training subset of seed {}", wanted);
      redrawn = prepare_data(*s.mnist, s.config.train_size, wanted);
      redrawn_seed = wanted;
      have_redrawn = true;
    }
    return redrawn;
  }
  RunResult run(std::size_t k, RunControl control) {
    const PreparedData& d = data(k);
    return run_experiment(d, config(k), methods(k), std::cout, std::move(control));
  }
  RunControl control(std::size_t k) {
    return s.checkpoints.control(k, label(k), xtgrad::nn::dataset_fingerprint(data(k).train));
  }
};

// --sweep or --seeds over N ranks: run i on rank i mod N, no per-step communication; rank 0
// gathers the results in run order. Each run is checkpointed by the rank that trains it, as by
// one process (it is one process's training: any number of ranks, or one process, may resume it);
// a refused resume or a failed save there ends the job, since the others would wait for its
// results.
int train_spread(Session& s, RunPlan& plan, std::vector<RunResult>& runs) {
  std::vector<std::pair<std::size_t, RunResult>> mine;
  for (std::size_t i = std::size_t(s.ranks.rank()); i < plan.count(); i += std::size_t(s.ranks.world_size())) {
    try {
      mine.emplace_back(i, plan.run(i, plan.control(i)));
    } catch (const ResumeError& e) {
      return end_every_rank(s.ranks, fail(exit_usage, e.what()));
    } catch (const OutputError& e) {
      return end_every_rank(s.ranks, fail(exit_output, e.what()));
    }
  }
  std::vector<std::pair<std::size_t, RunResult>> all;
  for (const std::string& part : s.ranks.all_gather(encode_runs(mine))) {
    for (auto& run : decode_runs(part)) all.push_back(std::move(run));
  }
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& run : all) runs.push_back(std::move(run.second));
  if (s.ranks.rank() == 0) {
    write_summary(s.config.out, s.config, runs);
    write_history(s.config.out, runs);
  }
  return 0;
}

}  // namespace

std::string run_label(const std::string& spec, std::uint64_t seed) { return fmt::format("{} seed={}", spec, seed); }

int train_runs(Session& s, const PreparedData& data, std::vector<RunResult>& runs) {
  RunPlan plan(s, data);
  if (s.spread) return train_spread(s, plan, runs);
  const Config& config = s.config;
  for (std::size_t k = 0; k < plan.count(); ++k) {
    RunControl control = plan.control(k);
    s.phase = fmt::format("training run {} ({}) with --hidden {} and --batch-size {}", runs.size() + 1, plan.label(k),
                          config.hidden, config.batch_size);
    if (s.parallel) {
      // Data-parallel: the reducer also makes rank 0 alone read and write the checkpoints.
      control.make_reducer = [&](const xtgrad::NamedParameters& p) { return make_reducer(s.ranks, p); };
      // A signal stops every rank at the same batch.
      control.should_stop = [&] { return any(s.ranks, stop_signal() != 0); };
    }
    runs.push_back(plan.run(k, std::move(control)));
    // Keep what is done so far: results on disk grow run by run.
    if (s.ranks.rank() != 0) continue;
    s.phase = "writing the results";
    write_summary(config.out, config, runs);
    write_history(config.out, runs);
    if (!config.quiet) check_stdout();
  }
  return 0;
}

}  // namespace mnist_app
