#include "flags.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <stdexcept>

#include <fmt/format.h>

namespace mnist_app {

namespace {

constexpr const char* kEmpty = "the value is empty";

// `text` as a number ("nan" and "inf" included), or nothing when it is not one.
std::optional<double> to_number(const std::string& text) {
  if (text.empty()) return std::nullopt;
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (*end != '\0') return std::nullopt;
  return value;
}

// "a,,b" → {"a", "", "b"}; unlike std::getline, a leading or trailing empty item is kept.
std::vector<std::string> split_at_commas(const std::string& text) {
  std::vector<std::string> items;
  std::size_t begin = 0;
  for (std::size_t comma = text.find(','); comma != std::string::npos; comma = text.find(',', begin)) {
    items.push_back(text.substr(begin, comma - begin));
    begin = comma + 1;
  }
  items.push_back(text.substr(begin));
  return items;
}

}  // namespace

// CLI::PositiveNumber's message reads "Value 0 not in range 0.000000 to 1797…(309 digits)",
// also for a non-number: this one says what is wrong in a few words.
const CLI::Validator positive_number(
    [](std::string& text) -> std::string {
      if (text.empty()) return kEmpty;
      const std::optional<double> value = to_number(text);
      if (!value) return "'" + text + "' is not a number";
      if (!(*value > 0) || !std::isfinite(*value)) return "must be a finite positive number, got " + text;
      return "";
    },
    "POSITIVE");

CLI::Validator whole_number(std::uint64_t lowest, std::uint64_t highest) {
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        if (text.empty()) return kEmpty;
        const std::string range = fmt::format("must be a whole number from {} to {}, got {}", lowest, highest, text);
        if (text.find_first_not_of("0123456789") != std::string::npos) return range;
        errno = 0;
        const unsigned long long value = std::strtoull(text.c_str(), nullptr, 10);
        if (errno == ERANGE || value < lowest || value > highest) return range;
        return "";
      },
      fmt::format("INT in [{}, {}]", lowest, highest));
}

CLI::Validator number_from_below(double lowest, double above) {
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        if (text.empty()) return kEmpty;
        const std::optional<double> value = to_number(text);
        if (!value || !(*value >= lowest && *value < above)) return fmt::format("must be in [{}, {}), got {}", lowest, above, text);
        return "";
      },
      fmt::format("FLOAT in [{}, {})", lowest, above));
}

void refuse_empty_values(CLI::App& cli) {
  const CLI::Validator non_empty([](std::string& text) { return text.empty() ? std::string(kEmpty) : ""; }, "");
  for (CLI::Option* option : cli.get_options()) {
    if (option->get_type_size_max() > 0) option->check(non_empty);  // (a flag takes no value)
  }
}

namespace {

// The items of a repeatable comma-separated flag, each checked by `item_check`:
// std::invalid_argument naming the flag for an empty item or one the check refuses.
std::vector<std::string> checked_items(const std::string& flag, const std::vector<std::string>& given,
                                       const CLI::Validator& item_check) {
  std::vector<std::string> out;
  for (const std::string& text : given) {
    const std::vector<std::string> items = split_at_commas(text);
    for (std::size_t i = 0; i < items.size(); ++i) {
      std::string item = items[i];
      if (item.empty()) {
        throw std::invalid_argument(
            items.size() == 1 ? fmt::format("{}: {}", flag, kEmpty)
                              : fmt::format("{} '{}': item {} of the comma-separated list is empty", flag, text, i + 1));
      }
      const std::string refused = item_check(item);
      if (!refused.empty()) throw std::invalid_argument(fmt::format("{}: {}", flag, refused));
      out.push_back(std::move(item));
    }
  }
  return out;
}

}  // namespace

std::vector<double> number_list(const std::string& flag, const std::vector<std::string>& given,
                                const CLI::Validator& item_check) {
  std::vector<double> values;
  for (const std::string& item : checked_items(flag, given, item_check)) {
    const std::optional<double> value = to_number(item);
    if (!value) throw std::invalid_argument(fmt::format("{}: '{}' is not a number", flag, item));
    values.push_back(*value);
  }
  return values;
}

std::vector<std::uint64_t> seed_list(const std::string& flag, const std::vector<std::string>& given) {
  const CLI::Validator seed_check = whole_number(0, UINT64_MAX);
  std::vector<std::uint64_t> seeds;
  for (const std::string& item : checked_items(flag, given, seed_check)) {
    const std::uint64_t seed = std::strtoull(item.c_str(), nullptr, 10);
    if (std::find(seeds.begin(), seeds.end(), seed) != seeds.end()) {
      throw std::invalid_argument(fmt::format("{}: seed {} is given twice (each seed is one paired replicate)", flag, seed));
    }
    seeds.push_back(seed);
  }
  if (seeds.size() < 2) {
    throw std::invalid_argument(fmt::format("{}: needs at least 2 seeds for a confidence interval, got {} (for one "
                                            "run use --seed)", flag, seeds.size()));
  }
  return seeds;
}

}  // namespace mnist_app
