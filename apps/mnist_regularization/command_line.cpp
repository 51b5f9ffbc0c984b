#include "command_line.hpp"

#include <fmt/format.h>

#include "flags.hpp"
#include "limits.hpp"
#include "process.hpp"
#include "xtgrad/core/parallel.hpp"

namespace mnist_app {

Outcome parse_command_line(CLI::App& cli, int argc, char** argv, bool stdout_closed, Invocation& inv) {
  Config& config = inv.config;
  cli.description("Trains the blog's 784-200-10 sigmoid network (or LeNet, --model) on MNIST (or Fashion-MNIST, "
                  "--dataset) once per regularizer spec.\n"
                  "Exit codes: 0 success, 1 internal error, 2 bad flag/spec/--resume, 3 missing or corrupt data,\n"
                  "4 training diverged, 5 an output could not be written, 6 out of memory, 130/143 SIGINT/SIGTERM.");
  const auto count = max_count;
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
      ->check(whole_number(1, max_epochs))->capture_default_str();
  cli.add_option("--batch-size", config.batch_size, "minibatch size")
      ->check(whole_number(1, count))->capture_default_str();
  cli.add_option("--hidden", config.hidden, "hidden units")->check(whole_number(1, count))->capture_default_str();
  auto* lr_option = cli.add_option("--lr", config.lr, "learning rate; default 0.1 with --optimizer sgd, 0.001 with adam "
                                   "or adamw")->check(positive_number)->capture_default_str();
  cli.add_option("--optimizer", config.optimizer,
                 "sgd (the blog's; --momentum), adam or adamw (PyTorch's; adamw's decay is weight_decay(lambd=L)'s "
                 "L, else 0.01); weight_decay(lambd=L) in --reg is decoupled under each")
      ->check(CLI::IsMember({"sgd", "adam", "adamw"}))->capture_default_str();
  cli.add_option("--momentum", config.momentum,
                 "SGD momentum mu in [0, 1) (PyTorch's: v <- mu*v + g, w <- w - lr*v); 0 is plain SGD")
      ->check(number_from_below(0, 1))->capture_default_str();
  cli.add_option("--seed", config.seed, "seed for the subset, the initial weights and the shuffles")
      ->check(whole_number(0, UINT64_MAX))->capture_default_str();
  try {
    config.threads = xtgrad::default_num_threads();  // the CPUs this process may use, or XTGRAD_NUM_THREADS
  } catch (const std::invalid_argument& e) {
    return {exit_usage, e.what()};
  }
  auto* threads_option = cli.add_option("--threads", config.threads,
                 "threads for xtgrad's ops (products, convolutions, elementwise ops); default: the CPUs this process "
                 "may use (affinity and cgroup quota) or XTGRAD_NUM_THREADS")
      ->check(whole_number(1, 256))->capture_default_str();
  cli.add_option("--out", config.out, "output folder")->capture_default_str();
  cli.add_flag("--no-plots", config.no_plots, "skip the PNG plots (loss, weights, pixels, reliability, path, fgsm)");
  cli.add_flag("--report", config.report,
               "write report.html: the tables and plots of the run on one self-contained page (no network needed)");
  cli.add_flag("--quiet", config.quiet, "print only the final table");
  cli.add_option("--reg", config.regs,
                 "regularizer spec, repeatable: none, l1(lambd=X), l2(lambd=X), l1_l2(l1=X, l2=Y), "
                 "group_lasso(lambd=X) (optional keys mode=subgradient|prox (l1, l1_l2, group_lasso), "
                 "groups=units|inputs and layers=hidden|all (group_lasso), start=N: first epoch with the penalty on), "
                 "dropout(p=P), "
                 "maxnorm(c=C), noise(std=S), label_smoothing(eps=E), early_stopping(patience=N), "
                 "adversarial(eps=E), input_grad(lambd=L), weight_decay(lambd=L), mixup(alpha=A), sam(rho=R), or "
                 "several joined by '+', e.g. "
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
                     "sweep lambda for a kind, repeatable: l1, l2, group_lasso, or with keys, e.g. 'l1(mode=prox)', "
                     "'group_lasso(mode=prox)'; runs none plus one run per --lambdas value, writes sweep.csv and path.png, "
                     "and with --prune size_path.png (accuracy against hidden units left and inference time)")
          ->excludes(cli.get_option("--reg"));
  cli.add_option("--lambdas", lambdas_given, "the lambdas of --sweep, comma-separated")
      ->allow_extra_args(false)->type_name("LAMBDA[,LAMBDA...]")->needs(sweep_option)->default_str(fmt::format("{}", fmt::join(config.lambdas, ",")));
  std::vector<std::string> seeds_given;
  cli.add_option("--seeds", seeds_given,
                 "repeat every run once per seed (comma-separated, at least 2), each seed with its own subset, "
                 "initial weights and order shared by all its runs (paired); adds means, 95% t-intervals and "
                 "paired differences against 'none' to the table and summary.json; with --sweep, every point of the "
                 "path once per seed, the plots drawing each point's mean and interval")
      ->allow_extra_args(false)->type_name("SEED,SEED[,...]")->excludes(cli.get_option("--seed"));
  cli.add_option("--dump-graph", config.dump_graph,
                 "write one training step's graph to FILE.dot (and FILE.png when Graphviz is installed)");
  cli.add_flag("--prune", config.prune,
               "after each run remove its dead hidden units (incoming weights all 0, e.g. after "
               "'group_lasso(lambd=X, mode=prox)'), write the smaller model to pruned.npz, and report its test accuracy "
               "and inference time at batch 1 and 256 beside the unpruned model's (summary.json \"pruned\")");
  cli.add_flag("--blog-gradient", config.blog_gradient,
               "reproduce the blog's gradient (softmax Jacobian applied twice) instead of the true one");
  auto* checkpoint_option = cli.add_option(
      "--checkpoint", inv.checkpoint_dir, "folder for each run's checkpoint (model, optimizer, shuffles), saved every epoch");
  cli.add_flag("--resume", inv.resume, "continue each run from its checkpoint; finished runs are not retrained")
      ->needs(checkpoint_option);
  cli.add_flag("--overwrite", inv.overwrite, "start afresh over the checkpoints already in --checkpoint DIR")
      ->needs(checkpoint_option)->excludes("--resume");
  refuse_empty_values(cli);
  try {
    cli.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    inv.help = true;
    return {};
  } catch (const CLI::ParseError& e) {
    return {exit_usage, std::string(e.what()) + " (see --help)"};
  }
  try {
    config.eval_fgsm = number_list("--eval-fgsm", eval_fgsm_given, positive_number);
    if (!lambdas_given.empty()) config.lambdas = number_list("--lambdas", lambdas_given, positive_number);
    if (!seeds_given.empty()) config.seeds = seed_list("--seeds", seeds_given);
  } catch (const std::invalid_argument& e) {
    return {exit_usage, e.what()};
  }
  if (stdout_closed) {
    return {exit_output, "standard output is closed (bad file descriptor): the results table could not be printed; "
                         "nothing was run"};
  }
  if (config.dataset == "fashion-mnist" && data_option->count() == 0) config.data = fashion_mnist_dir;
  // Adam's default learning rate unless --lr is given; momentum is SGD's.
  if (config.optimizer != "sgd" && lr_option->count() == 0) config.lr = 1e-3;
  if (config.optimizer != "sgd" && config.momentum != 0) {
    return {exit_usage, fmt::format("--momentum {} applies to --optimizer sgd only, not {}", config.momentum,
                                    config.optimizer)};
  }
  inv.threads_given = threads_option->count() > 0;
  return {};
}

}  // namespace mnist_app
