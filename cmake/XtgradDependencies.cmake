# Finds the libraries xtgrad is built on, with the settings every consumer must share.
include(CMakeFindDependencyMacro)

# OpenBLAS by name: not whatever libblas.so.3 points to (netlib is 17x slower here).
# Set before xtensor-blas, whose package config calls find_dependency(BLAS) itself.
set(BLA_VENDOR OpenBLAS)
find_dependency(BLAS)
find_dependency(LAPACK)

# XSIMD on: the imported xtensor target then carries xsimd and -DXTENSOR_USE_XSIMD.
set(XTENSOR_USE_XSIMD ON)
find_dependency(xtl)
find_dependency(xsimd)
find_dependency(xtensor)
find_dependency(xtensor-blas)

if(NOT TARGET xtgrad_openblas)
  add_library(xtgrad_openblas INTERFACE IMPORTED)
  set_target_properties(xtgrad_openblas PROPERTIES INTERFACE_LINK_LIBRARIES "BLAS::BLAS;LAPACK::LAPACK")
endif()
find_dependency(ZLIB)
set_property(TARGET xtgrad_openblas APPEND PROPERTY INTERFACE_LINK_LIBRARIES ZLIB::ZLIB)
