// How sparse the selected tensors are: exact zeros, near zeros (|w| < eps), and for
// matrices the rows and columns that are entirely zero.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "xtgrad/core/variable.hpp"
#include "xtgrad/regularizers/selection.hpp"

namespace xtgrad {

struct SparsityRow {
  std::string name;
  Shape shape;
  std::size_t count = 0;            // elements
  std::size_t zeros = 0;            // w == 0 exactly
  std::size_t near_zeros = 0;       // |w| < eps (includes the exact zeros)
  double zero_fraction = 0;         // zeros / count (0 for an empty tensor)
  double near_zero_fraction = 0;    // near_zeros / count
  double eps = 0;                   // the threshold used
  bool is_matrix = false;           // 2-d: the fields below are meaningful
  std::size_t rows = 0, cols = 0;   // for a Linear W (out, in): rows are output units, columns inputs
  std::size_t zero_rows = 0;        // rows with every w == 0 (an output unit with no input)
  std::size_t zero_cols = 0;        // columns with every w == 0 (an input switched off)
  std::size_t near_zero_rows = 0;   // rows with every |w| < eps
  std::size_t near_zero_cols = 0;   // columns with every |w| < eps
};

// One row per selected tensor, in order. Throws std::invalid_argument if eps is not a
// finite number > 0 or a parameter is an empty Variable.
template <class T>
std::vector<SparsityRow> sparsity_report(const NamedParametersOf<T>& params,
                                         const BasicSelection<T>& selection = BasicSelection<T>(),
                                         double eps = 1e-3);

// A printable table of the rows, with a total line.
std::string format_sparsity(const std::vector<SparsityRow>& rows);

}  // namespace xtgrad
