// Each rank's default pool size under the launch ctest ran it with (CMakeLists.txt beside this
// file: plain mpirun, --bind-to none, --bind-to socket, --map-by ppr:R:node:pe=T, -x
// XTGRAD_NUM_THREADS). The rule (core/parallel.cpp, default_num_threads): XTGRAD_NUM_THREADS if
// set; else each of the R ranks on a node takes at most its share of the node's CPUs,
//   min(CPUs it may run on, online CPUs / R, cgroup quota / R), at least 1,
// so ranks × threads fit the node. R here comes from the ranks themselves (who shares my host),
// not from the launcher's environment that the library reads.
#include <gtest/gtest.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "mpi_test_main.hpp"
#include "xtgrad/core/parallel.hpp"

namespace {

using xtgrad_test::world;

struct RankView {
  std::string host;
  std::string launched;  // the launcher's binding, before MpiCommunicator may have widened it
  std::string cpus;      // "0-1", as /proc/self/status lists them
  int bound = 0;     // CPUs in its affinity mask
  int threads = 0;   // num_threads()
};

std::string host_name() {
  char name[256] = {};
  gethostname(name, sizeof name - 1);
  return name;
}

// The affinity mask as a CPU list ("0,2-3").
std::string cpu_list(const cpu_set_t& set) {
  std::string out;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (!CPU_ISSET(cpu, &set)) continue;
    int last = cpu;
    while (last + 1 < CPU_SETSIZE && CPU_ISSET(last + 1, &set)) ++last;
    out += (out.empty() ? "" : ",") + std::to_string(cpu) + (last > cpu ? "-" + std::to_string(last) : "");
    cpu = last;
  }
  return out;
}

std::string current_cpu_list() {
  cpu_set_t set;
  CPU_ZERO(&set);
  return sched_getaffinity(0, sizeof set, &set) == 0 ? cpu_list(set) : "?";
}

// Taken before main() (and MPI_Init): the binding mpirun gave the process.
const std::string launched_cpus = current_cpu_list();

RankView my_view() {
  cpu_set_t set;
  CPU_ZERO(&set);
  EXPECT_EQ(sched_getaffinity(0, sizeof set, &set), 0);
  return {host_name(), launched_cpus, cpu_list(set), CPU_COUNT(&set), xtgrad::num_threads()};
}

// Every rank's view, in rank order.
std::vector<RankView> all_views() {
  const RankView mine = my_view();
  std::ostringstream line;
  line << mine.host << ' ' << mine.launched << ' ' << mine.cpus << ' ' << mine.bound << ' ' << mine.threads;
  std::vector<RankView> out;
  for (const std::string& text : world().all_gather(line.str())) {
    std::istringstream in(text);
    RankView v;
    in >> v.host >> v.launched >> v.cpus >> v.bound >> v.threads;
    out.push_back(v);
  }
  return out;
}

int ranks_on_host(const std::vector<RankView>& views, const std::string& host) {
  return int(std::count_if(views.begin(), views.end(), [&](const RankView& v) { return v.host == host; }));
}

TEST(NumThreads, EachRankGetsWhatTheRuleSays) {
  const std::vector<RankView> views = all_views();
  const RankView& me = views[std::size_t(world().rank())];
  const int ranks = ranks_on_host(views, me.host);
  const long online = sysconf(_SC_NPROCESSORS_ONLN);
  if (world().rank() == 0) {
    for (std::size_t r = 0; r < views.size(); ++r) {
      std::cout << "[num_threads] rank " << r << " of " << views.size() << " on " << views[r].host
                << ": launched on CPUs " << views[r].launched << ", runs on " << views[r].cpus << " ("
                << views[r].bound << " of " << online << " online), " << ranks_on_host(views, views[r].host)
                << " ranks on the node, num_threads() " << views[r].threads << "\n";
    }
  }
  const char* forced = std::getenv("XTGRAD_NUM_THREADS");
  if (forced && *forced) {
    EXPECT_EQ(me.threads, std::atoi(forced)) << "XTGRAD_NUM_THREADS=" << forced;
    return;
  }
  // available_cpus() is min(mask, cgroup quota): below the mask only when a quota is in force.
  const int available = xtgrad::available_cpus();
  long expected = std::min<long>(available, online / ranks);
  if (available < me.bound) expected = std::min<long>(expected, available / ranks);
  expected = std::max(1L, expected);
  EXPECT_EQ(me.threads, expected) << "rank " << world().rank() << ": CPUs " << me.cpus << ", " << ranks
                                  << " ranks on the node, " << online << " online, available_cpus() " << available;
  EXPECT_EQ(me.threads, xtgrad::default_num_threads());
}

// The point of the rule, whatever the binding: the node's ranks' threads fit its CPUs (one
// thread per rank where ranks outnumber them), and no rank has more threads than CPUs to run on.
TEST(NumThreads, RanksTimesThreadsFitTheNode) {
  if (const char* forced = std::getenv("XTGRAD_NUM_THREADS"); forced && *forced) GTEST_SKIP() << "set by hand";
  const std::vector<RankView> views = all_views();
  const RankView& me = views[std::size_t(world().rank())];
  const int ranks = ranks_on_host(views, me.host);
  int total = 0;
  for (const RankView& v : views) total += v.host == me.host ? v.threads : 0;
  EXPECT_LE(total, std::max<long>(sysconf(_SC_NPROCESSORS_ONLN), ranks));
  EXPECT_LE(me.threads, me.bound);
}

// The launcher's environment, which default_num_threads() reads, agrees with the ranks' own count.
TEST(NumThreads, LauncherCountsTheNodesRanks) {
  const char* local = std::getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
  if (!local) local = std::getenv("MPI_LOCALNRANKS");
  if (!local) GTEST_SKIP() << "the launcher sets neither OMPI_COMM_WORLD_LOCAL_SIZE nor MPI_LOCALNRANKS";
  const std::vector<RankView> views = all_views();
  EXPECT_EQ(std::atoi(local), ranks_on_host(views, views[std::size_t(world().rank())].host));
}

}  // namespace
