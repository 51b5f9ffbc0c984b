// --report: DIR/report.html, one self-contained page over what a run wrote. It reads
// DIR/summary.json (written first) and embeds the plots as PNG data, so the page needs no
// network and no other file: it can be mailed or archived alone.
#pragma once

#include <string>
#include <vector>

namespace mnist_app {

// Writes DIR/report.html atomically from DIR/summary.json and the PNGs named in `pictures`
// (files in DIR; each verified complete). Sections: the settings, one table per run list in
// the summary (every scalar field that some run has, in the order first met), each run's
// sparsity, and the pictures with a caption. OutputError when summary.json cannot be read or
// the page cannot be written.
void write_report(const std::string& dir, const std::vector<std::string>& pictures);

// `bytes` in base64 (RFC 4648, with padding): the body of a data: URL.
std::string base64(const std::string& bytes);

// `text` with &, <, >, " and ' as HTML entities.
std::string html_escape(const std::string& text);

}  // namespace mnist_app
