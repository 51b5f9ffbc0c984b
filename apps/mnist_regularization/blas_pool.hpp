// OpenBLAS's own threads, which start when the library loads, before main().
#pragma once

namespace mnist_app {

// When none of OPENBLAS_NUM_THREADS, GOTO_NUM_THREADS and OMP_NUM_THREADS is set, starts the
// program again (execv, same process) with OPENBLAS_NUM_THREADS=1, so that OpenBLAS starts no
// pool thread of its own: the app's products run on one thread unless --threads asks for more
// (set_blas_threads then grows the pool), and every pool thread takes 128 MiB at once
// (blas_pool.cpp says why that matters). Call first in main(), before MPI or any thread starts.
void one_blas_thread_unless_chosen(char** argv);

// The threads OpenBLAS runs products on now (its pool and the caller), each with a 128 MiB
// work buffer.
int blas_pool_threads();

}  // namespace mnist_app
