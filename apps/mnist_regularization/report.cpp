#include "report.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "atomic_file.hpp"
#include "xtgrad/io/gnuplot.hpp"

namespace mnist_app {

using xtgrad::io::check_png;

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// What each plot the app draws shows; a picture not listed is captioned by its file name.
const std::map<std::string, std::string>& captions() {
  static const std::map<std::string, std::string> known = {
      {"loss.png", "Training data loss (cross-entropy, mean over the batches) per epoch, one line per run."},
      {"weights.png", "First-layer weights: the histogram and log10 |w| of each run."},
      {"pixels.png", "Each input pixel's outgoing weight norm: where a penalty switched inputs off."},
      {"path.png", "The lambda path: test accuracy and exact zeros against lambda, per swept kind."},
      {"fgsm.png", "Test accuracy under a one-step FGSM perturbation of each size."},
      {"reliability.png", "Reliability diagram: per confidence bin, accuracy against mean confidence; "
                          "below the diagonal is overconfident, above underconfident."},
      {"size_path.png", "The accuracy-size path of the sweep: test accuracy against the hidden units left "
                        "after pruning and against inference time."},
  };
  return known;
}

std::string read_whole(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw OutputError(fmt::format("--report: cannot read {} ({})", path, what));
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string cell(const json& v) {
  if (v.is_number_integer() || v.is_number_unsigned()) return v.dump();
  if (v.is_number_float()) return fmt::format("{:.4g}", v.get<double>());
  if (v.is_string()) return html_escape(v.get<std::string>());
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  if (v.is_null()) return "&ndash;";
  return html_escape(v.dump());
}

bool is_scalar(const json& v) { return v.is_primitive(); }

// A table of `rows` (objects): one column per scalar field some row has, in the order met,
// the fields that name a row ("reg", "tensor") first.
void object_table(std::ostream& out, const json& rows) {
  std::vector<std::string> columns;
  for (const char* name : {"reg", "seed", "tensor"}) {
    for (const auto& row : rows) {
      if (row.is_object() && row.contains(name)) {
        columns.push_back(name);
        break;
      }
    }
  }
  for (const auto& row : rows) {
    if (!row.is_object()) continue;
    for (const auto& [key, value] : row.items()) {
      if (is_scalar(value) && std::find(columns.begin(), columns.end(), key) == columns.end()) columns.push_back(key);
    }
  }
  out << "<div class=\"wide\"><table><tr>";
  for (const auto& c : columns) out << "<th>" << html_escape(c) << "</th>";
  out << "</tr>\n";
  for (const auto& row : rows) {
    if (!row.is_object()) continue;
    out << "<tr>";
    for (const auto& c : columns) out << "<td>" << (row.contains(c) ? cell(row.at(c)) : "&ndash;") << "</td>";
    out << "</tr>\n";
  }
  out << "</table></div>\n";
}

void key_value_table(std::ostream& out, const json& object) {
  out << "<table>\n";
  for (const auto& [key, value] : object.items()) {
    out << "<tr><th>" << html_escape(key) << "</th><td>" << cell(value) << "</td></tr>\n";
  }
  out << "</table>\n";
}

// FGSM accuracy per run and epsilon, when the runs were evaluated under it.
void fgsm_table(std::ostream& out, const json& runs) {
  std::vector<double> eps;
  for (const auto& run : runs) {
    for (const auto& e : run.value("fgsm_test_accuracy", json::array())) {
      const double x = e.value("eps", 0.0);
      if (std::find(eps.begin(), eps.end(), x) == eps.end()) eps.push_back(x);
    }
  }
  if (eps.empty()) return;
  out << "<h3>Test accuracy under FGSM</h3>\n<table><tr><th>reg</th><th>seed</th>";
  for (double e : eps) out << fmt::format("<th>&epsilon; = {:g}</th>", e);
  out << "</tr>\n";
  for (const auto& run : runs) {
    out << "<tr><td>" << cell(run.value("reg", json())) << "</td><td>" << cell(run.value("seed", json())) << "</td>";
    for (double e : eps) {
      json found;
      for (const auto& f : run.value("fgsm_test_accuracy", json::array())) {
        if (f.value("eps", 0.0) == e) found = f.value("test_accuracy", json());
      }
      out << "<td>" << cell(found) << "</td>";
    }
    out << "</tr>\n";
  }
  out << "</table>\n";
}

// "m ± h" from a metric's mean and its 95% interval [lo, hi]; "m [lo, hi] *" for a paired
// difference whose interval excludes 0.
std::string mean_and_interval(const json& mean, const json& ci) {
  if (!mean.is_number() || !ci.is_array() || ci.size() != 2) return "&ndash;";
  return fmt::format("{:.4g} &plusmn; {:.2g}", mean.get<double>(), (ci[1].get<double>() - ci[0].get<double>()) / 2);
}
std::string paired_difference(const json& d) {
  if (!d.is_object() || !d.contains("ci95")) return "&ndash;";
  const json& ci = d.at("ci95");
  return fmt::format("{:+.4g} [{:+.4g}, {:+.4g}]{}", d.value("mean", 0.0), ci[0].get<double>(), ci[1].get<double>(),
                     d.value("excludes_zero", false) ? " <b>*</b>" : "");
}

// --seeds: per method, each metric's mean ± half-width of its 95% t-interval and its paired
// difference from none (the metrics are the by_method keys "X_mean").
void seeds_table(std::ostream& out, const json& by_method) {
  std::vector<std::string> metrics;
  for (const auto& row : by_method) {
    for (const auto& [key, value] : row.items()) {
      const std::string suffix = "_mean";
      if (key.size() > suffix.size() && key.compare(key.size() - suffix.size(), suffix.size(), suffix) == 0) {
        const std::string m = key.substr(0, key.size() - suffix.size());
        if (std::find(metrics.begin(), metrics.end(), m) == metrics.end()) metrics.push_back(m);
      }
    }
  }
  // Accuracy first, then the rest in the order met.
  const auto accuracy = std::find(metrics.begin(), metrics.end(), std::string("test_accuracy"));
  if (accuracy != metrics.end()) std::rotate(metrics.begin(), accuracy, accuracy + 1);
  out << "<h2>Across seeds</h2>\n<p>Mean &plusmn; half-width of the 95% t-interval over the seeds; "
         "the difference from none is paired by seed, <b>*</b> where its 95% interval excludes 0.</p>\n"
         "<div class=\"wide\"><table><tr><th>reg</th><th>seeds</th>";
  for (const auto& m : metrics) out << "<th>" << html_escape(m) << "</th><th>" << html_escape(m) << " &minus; none</th>";
  out << "</tr>\n";
  for (const auto& row : by_method) {
    out << "<tr><td>" << cell(row.value("reg", json())) << "</td><td>" << row.value("seeds", json::array()).size()
        << "</td>";
    for (const auto& m : metrics) {
      // test accuracy's paired difference is "paired_difference_ci95", the others' "X_paired_difference_ci95".
      const json diff = row.value(m + "_paired_difference_ci95", row.value(m == "test_accuracy" ? "paired_difference_ci95" : "", json()));
      out << "<td>" << mean_and_interval(row.value(m + "_mean", json()), row.value(m + "_ci95", json())) << "</td><td>"
          << paired_difference(diff) << "</td>";
    }
    out << "</tr>\n";
  }
  out << "</table></div>\n";
}

void sparsity_tables(std::ostream& out, const json& runs) {
  bool heading = false;
  for (const auto& run : runs) {
    const json rows = run.value("sparsity", json::array());
    if (rows.empty()) continue;
    if (!heading) out << "<h2>Sparsity</h2>\n";
    heading = true;
    out << "<h3>" << cell(run.value("reg", json())) << "</h3>\n";
    object_table(out, rows);
  }
}

const char* const style = R"(body{font-family:sans-serif;margin:2em;color:#222}.wide{overflow-x:auto}
table{border-collapse:collapse;margin:0.5em 0 1.5em}th,td{border:1px solid #ccc;padding:3px 8px;text-align:right;white-space:nowrap}
th{background:#eef}td:first-child{text-align:left}figure{margin:1em 0}img{max-width:100%;border:1px solid #ddd}
figcaption{color:#555;font-size:0.9em}details{margin-bottom:1em})";

}  // namespace

std::string base64(const std::string& bytes) {
  static const char* const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  // Three bytes → four 6-bit digits; the last one or two bytes are padded with '='.
  for (; i + 2 < bytes.size(); i += 3) {
    const unsigned v = (unsigned char)bytes[i] << 16 | (unsigned char)bytes[i + 1] << 8 | (unsigned char)bytes[i + 2];
    out += {alphabet[v >> 18], alphabet[(v >> 12) & 63], alphabet[(v >> 6) & 63], alphabet[v & 63]};
  }
  if (i + 1 == bytes.size()) {
    const unsigned v = (unsigned char)bytes[i] << 16;
    out += {alphabet[v >> 18], alphabet[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == bytes.size()) {
    const unsigned v = (unsigned char)bytes[i] << 16 | (unsigned char)bytes[i + 1] << 8;
    out += {alphabet[v >> 18], alphabet[(v >> 12) & 63], alphabet[(v >> 6) & 63], '='};
  }
  return out;
}

std::string html_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

void write_report(const std::string& dir, const std::vector<std::string>& pictures) {
  const std::string summary_path = (fs::path(dir) / "summary.json").string();
  json summary;
  try {
    summary = json::parse(read_whole(summary_path, "written by this run before the report"));
  } catch (const json::parse_error& e) {
    throw OutputError(fmt::format("--report: {} is not valid JSON ({})", summary_path, e.what()));
  }
  const json runs = summary.value("runs", json::array());

  std::ostringstream page;
  page << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
       << "<title>xtgrad regularization lab: " << html_escape(dir) << "</title>\n<style>" << style
       << "</style></head><body>\n<h1>Regularization lab</h1>\n"
       << "<p>Written by <code>mnist_regularization --report</code> from <code>summary.json</code> in <code>"
       << html_escape(dir) << "</code>.</p>\n";

  if (summary.contains("by_method")) seeds_table(page, summary.at("by_method"));
  page << "<h2>Runs</h2>\n";
  object_table(page, runs);
  fgsm_table(page, runs);
  // Other result lists the summary holds (e.g. a sweep or a comparison across seeds).
  for (const auto& [key, value] : summary.items()) {
    if (key == "config" || key == "runs" || key == "by_method") continue;
    page << "<h2>" << html_escape(key) << "</h2>\n";
    if (value.is_array()) object_table(page, value);
    else if (value.is_object()) key_value_table(page, value);
    else page << "<p>" << cell(value) << "</p>\n";
  }

  if (!pictures.empty()) page << "<h2>Plots</h2>\n";
  for (const auto& name : pictures) {
    const std::string path = (fs::path(dir) / name).string();
    check_png(path, "--report: " + name);
    const auto known = captions().find(name);
    page << "<figure><img alt=\"" << html_escape(name) << "\" src=\"data:image/png;base64,"
         << base64(read_whole(path, "a plot of this run")) << "\">\n<figcaption>" << html_escape(name) << ": "
         << html_escape(known != captions().end() ? known->second : name) << "</figcaption></figure>\n";
  }

  sparsity_tables(page, runs);
  page << "<h2>Settings</h2>\n";
  key_value_table(page, summary.value("config", json::object()));
  page << "</body></html>\n";
  write_file_atomically((fs::path(dir) / "report.html").string(), [&](std::ostream& out) { out << page.str(); });
}

}  // namespace mnist_app
