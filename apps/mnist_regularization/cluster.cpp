// The collective checks of Cluster, over its all_gather: the same code serves one process and
// the ranks of an mpirun.
#include <stdexcept>

#include "cluster.hpp"

namespace mnist_app {

void Cluster::check_agreement(const std::string& what, const std::string& value) {
  const std::vector<std::string> all = all_gather(value);
  for (std::size_t r = 1; r < all.size(); ++r) {
    if (all[r] != all[0]) {
      throw std::invalid_argument("the ranks disagree on " + what + ": rank 0 has '" + all[0] + "' but rank " +
                                  std::to_string(r) + " has '" + all[r] + "'");
    }
  }
}

Outcome Cluster::first_failure(const Outcome& mine) {
  // Each rank's code and message as "CODE MESSAGE".
  const std::vector<std::string> all = all_gather(std::to_string(mine.code) + " " + mine.message);
  Outcome first;
  bool alike = true;
  for (std::size_t r = 0; r < all.size(); ++r) {
    const std::size_t space = all[r].find(' ');
    const int code = std::stoi(all[r].substr(0, space));
    alike = alike && all[r] == all[0];
    if (code == 0 || first.code != 0) continue;
    first = Outcome{code, all[r].substr(space + 1), int(r)};
  }
  if (first.code != 0 && !alike) {
    first.message = "rank " + std::to_string(first.rank) + " of " + std::to_string(all.size()) + ": " + first.message;
  }
  return first;
}

}  // namespace mnist_app
