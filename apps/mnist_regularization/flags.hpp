// The checks every value on the command line goes through, in one place. CLI11 alone takes
// `--momentum ''` as 0 and drops the empty items of `--eval-fgsm '0.1,,0.2'`: here an empty
// value, or an empty item of a list, is refused naming the flag (exit 2), like any bad value.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace mnist_app {

// A finite number > 0.
extern const CLI::Validator positive_number;
// Digits only (no sign, no exponent), from `lowest` to `highest`: "-1" never wraps to 2^64 − 1.
CLI::Validator whole_number(std::uint64_t lowest, std::uint64_t highest);
// A number in [lowest, above).
CLI::Validator number_from_below(double lowest, double above);

// Adds to every option of `cli` that takes a value a check refusing an empty one ('' or
// "--flag="), whatever its type: CLI11 would read '' as 0 or as "not given".
void refuse_empty_values(CLI::App& cli);

// The items of a comma-separated list flag, over all its occurrences ("0.1,0.2", or the flag
// repeated), in order. Throws std::invalid_argument naming `flag` for an empty item ("0.1,,0.2",
// "0.1,", ",0.1", "") or one `item_check` refuses (its message then follows the flag) or that is
// not a number.
std::vector<double> number_list(const std::string& flag, const std::vector<std::string>& given,
                                const CLI::Validator& item_check);

// The seeds of --seeds: whole numbers 0 .. 2^64 − 1, comma-separated over all occurrences of the
// flag, in order. Throws std::invalid_argument naming `flag` for an empty item, one that is not a
// whole number in range, a seed given twice, or fewer than 2 seeds (an interval needs 2 runs).
std::vector<std::uint64_t> seed_list(const std::string& flag, const std::vector<std::string>& given);

}  // namespace mnist_app
