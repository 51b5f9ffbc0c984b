// OpenBLAS (Debian's pthreads build) starts its thread pool in the library's constructor, one
// thread per core unless an environment variable says otherwise, and each pool thread mallocs
// its 128 MiB work buffer at once, retrying forever when that fails. Under ulimit -v that is a
// thread spinning from the start and an exit that never ends (OpenBLAS joins it at exit);
// openblas_set_num_threads(1) in main() cannot help: the pool exists by then. A setenv in
// .preinit_array is undone too (libc sets environ from the original array after it).
#include "blas_pool.hpp"

#include <unistd.h>

#include <cstdlib>
#include <initializer_list>

extern "C" int openblas_get_num_threads(void);

namespace mnist_app {

void one_blas_thread_unless_chosen(char** argv) {
  for (const char* v : {"OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS"}) {
    if (std::getenv(v)) return;
  }
  ::setenv("OPENBLAS_NUM_THREADS", "1", 1);
  ::execv("/proc/self/exe", argv);  // returns only on failure: then the pool stays as it is
}

int blas_pool_threads() { return openblas_get_num_threads(); }

}  // namespace mnist_app
