// The app's agreements over a Communicator: the same code serves one process and the ranks
// of an mpirun.
#include "cluster.hpp"

#include <cstdint>
#include <iostream>
#include <stdexcept>
#include <vector>

namespace mnist_app {

void check_agreement(Communicator& ranks, const std::string& what, const std::string& value) {
  const std::vector<std::string> all = ranks.all_gather(value);
  for (std::size_t r = 1; r < all.size(); ++r) {
    if (all[r] != all[0]) {
      throw std::invalid_argument("the ranks disagree on " + what + ": rank 0 has '" + all[0] + "' but rank " +
                                  std::to_string(r) + " has '" + all[r] + "'");
    }
  }
}

Outcome first_failure(Communicator& ranks, const Outcome& mine) {
  // Each rank's code and message as "CODE MESSAGE".
  const std::vector<std::string> all = ranks.all_gather(std::to_string(mine.code) + " " + mine.message);
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

std::string from_root(Communicator& ranks, const std::string& text) {
  std::vector<std::uint8_t> bytes(text.begin(), text.end());
  ranks.broadcast_bytes(bytes, 0);
  return std::string(bytes.begin(), bytes.end());
}

bool any(Communicator& ranks, bool local) {
  double flag = local ? 1 : 0;
  ranks.all_reduce(&flag, 1, xtgrad::distributed::ReduceOp::max);
  return flag > 0;
}

int end_every_rank(Communicator& ranks, int code) {
  if (ranks.world_size() == 1) return code;
  std::cout.flush();
  std::cerr.flush();
  ranks.abort(code);
  return code;  // abort does not return; this keeps -Wreturn-type quiet
}

}  // namespace mnist_app
