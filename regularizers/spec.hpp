// The CLI's regularizer spec strings, read by one strict hand-written parser (never eval):
//   none | l1(lambd=X) | l2(lambd=X) | l1_l2(l1=X, l2=Y) | group_lasso(lambd=X)
// with whitespace allowed around every token and X, Y finite numbers ≥ 0 (1e-4, 0.01, 1, .5).
// Optional keys, in any order: mode=subgradient|prox (l1, l1_l2, group_lasso: how the L1 or
// group term is applied), groups=units|inputs and layers=hidden|all (group_lasso,
// group_lasso.hpp) and start=N (every
// kind but none: the first epoch with the penalty on, an integer ≥ 1), e.g.
// l1(lambd=1e-4, mode=prox, start=10), group_lasso(lambd=1e-3, groups=inputs, mode=prox). The grammar is spec_terms.hpp's; this file gives the
// names, keys and values their meaning.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "xtgrad/regularizers/group_lasso.hpp"
#include "xtgrad/regularizers/regularizer.hpp"
#include "xtgrad/regularizers/selection.hpp"
#include "xtgrad/regularizers/spec_terms.hpp"

namespace xtgrad {

struct RegSpec {
  std::string kind;  // "none", "l1", "l2", "l1_l2" or "group_lasso"
  double l1 = 0;     // coefficient of Σ|w| (l1's lambd, l1_l2's l1)
  double l2 = 0;     // coefficient of ½Σw² (l2's lambd, l1_l2's l2)
  std::string text;  // the spec it was read from, as given
  L1Mode mode = L1Mode::subgradient;  // key mode (l1, l1_l2)
  std::size_t start = 1;              // key start: first epoch (1-based) with the penalty on
  double group = 0;                   // coefficient of Σ_g √|g|·‖w_g‖₂ (group_lasso's lambd)
  GroupBy groups = GroupBy::units;    // key groups (group_lasso)
  GroupLayers layers = GroupLayers::hidden;  // key layers (group_lasso)
};

// Parses `text`; throws std::invalid_argument quoting the whole spec and saying what is
// wrong (unknown name or key, repeated or missing key, missing value or parenthesis, a value
// that is not a finite number ≥ 0, a mode other than subgradient or prox, groups other than
// units or inputs, a start that is not
// an integer ≥ 1, anything after ')', an empty spec).
RegSpec parse_regularizer_spec(std::string_view text);

// The norm penalties' names, keys and value check, for a caller that parses them among its
// own terms (parse_spec_terms with these forms and others), then reads them with
// regularizer_spec.
const SpecGrammar& regularizer_grammar();
// The RegSpec of a term of regularizer_grammar(); its text is the term's whole spec. Throws
// std::invalid_argument (SpecTerm::fail) for a value that is not what its key takes, checked in
// the order given, and for a name or key that is not the grammar's.
RegSpec regularizer_spec(const SpecTerm& term);

// The regularizer a spec names, over parameters of scalar type T (float unless given or
// deduced from `selection`), penalizing `selection` (weights only by default).
template <class T = float>
std::unique_ptr<BasicRegularizer<T>> make_regularizer(const RegSpec& spec, BasicSelection<T> selection = {});
// parse_regularizer_spec then make_regularizer.
template <class T = float>
std::unique_ptr<BasicRegularizer<T>> make_regularizer(std::string_view text, BasicSelection<T> selection = {});

}  // namespace xtgrad
