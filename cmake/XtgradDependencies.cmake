# Finds the libraries xtgrad is built on, with the settings every consumer must share. Used by
# the build and, installed beside xtgradConfig.cmake, by every find_package(xtgrad).

# OpenBLAS by name: not whatever libblas.so.3 points to (netlib is 17x slower here).
# Set before xtensor-blas, whose package config calls find_dependency(BLAS) itself.
set(BLA_VENDOR OpenBLAS)
find_package(BLAS REQUIRED)
find_package(LAPACK REQUIRED)

# XSIMD on: the imported xtensor target then carries xsimd and -DXTENSOR_USE_XSIMD.
set(XTENSOR_USE_XSIMD ON)
find_package(xtl REQUIRED)
find_package(xsimd REQUIRED)
find_package(xtensor REQUIRED)
find_package(xtensor-blas REQUIRED)
find_package(ZLIB REQUIRED)   # .gz IDX files
find_package(Threads REQUIRED)  # the batch prefetch thread

if(NOT TARGET xtgrad_openblas)
  add_library(xtgrad_openblas INTERFACE IMPORTED)
  set_target_properties(xtgrad_openblas PROPERTIES INTERFACE_LINK_LIBRARIES "BLAS::BLAS;LAPACK::LAPACK;ZLIB::ZLIB;Threads::Threads")
endif()
