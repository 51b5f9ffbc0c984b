// io/gnuplot: helper programs run without a shell, PNGs verified complete before they replace
// the old file, and write_line_plot for a training script's curves. The plotting cases need
// gnuplot (scripts/install_deps.sh installs gnuplot-nox); they are skipped without it.
#include "xtgrad/io/gnuplot.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "fixture_files.hpp"
#include "test_util.hpp"
#include "xtgrad/io/atomic_file.hpp"

namespace {

namespace fs = std::filesystem;
using namespace xtgrad::io;
using namespace xtgrad_test;

std::uint32_t big_endian(const Bytes& b, std::size_t at) {
  return std::uint32_t(b[at]) << 24 | std::uint32_t(b[at + 1]) << 16 | std::uint32_t(b[at + 2]) << 8 | b[at + 3];
}

// A PNG's width and height, from its IHDR chunk (bytes 16-23).
std::pair<std::uint32_t, std::uint32_t> png_size(const std::string& path) {
  const Bytes b = read_all(path);
  if (b.size() < 24) return {0, 0};
  return {big_endian(b, 16), big_endian(b, 20)};
}

TEST(Gnuplot, StringsAreQuotedWithTheirQuotesDoubled) {
  EXPECT_EQ(gnuplot_string("l2(lambd=0.01)"), "'l2(lambd=0.01)'");
  EXPECT_EQ(gnuplot_string("it's"), "'it''s'");
  EXPECT_EQ(gnuplot_string(""), "''");
}

TEST(RunProgram, CapturesStdoutAndStderrAndTheExitStatus) {
  TempDir dir;
  const ProgramRun run = run_program({"sh", "-c", "pwd; echo second >&2; exit 3"}, dir.path());
  EXPECT_FALSE(run.succeeded());
  EXPECT_EQ(describe_status(run.status), "exit status 3");
  EXPECT_EQ(fs::canonical(run.first_line()), fs::canonical(dir.path()));  // it ran in `cwd`
  EXPECT_NE(run.output.find("second"), std::string::npos);
  EXPECT_TRUE(run_program({"true"}, dir.path()).succeeded());
}

TEST(RunProgram, ArgumentsArriveAsTheyAreAndASignalIsNamed) {
  TempDir dir;
  EXPECT_EQ(run_program({"printf", "%s|", "a b", "'c'", "$HOME"}, dir.path()).output, "a b|'c'|$HOME|");
  const ProgramRun killed = run_program({"sh", "-c", "kill -9 $$"}, dir.path());
  EXPECT_NE(describe_status(killed.status).find("killed by signal 9"), std::string::npos) << describe_status(killed.status);
}

TEST(RunProgram, AMissingProgramIsAWriteErrorNamingIt) {
  TempDir dir;
  EXPECT_FALSE(installed("xtgrad-no-such-program"));
  EXPECT_TRUE(installed("sh"));
  const std::string m = message_of<WriteError>([&] { run_program({"xtgrad-no-such-program"}, dir.path()); });
  EXPECT_EQ(m, "xtgrad-no-such-program: not found in PATH");
  EXPECT_THROW(run_program({"xtgrad-no-such-program"}, dir.path()), WriteError);
}

TEST(CheckPng, ATruncatedOrMissingFileIsRefusedWithItsName) {
  TempDir dir;
  const std::string png = dir.file("cut.png");
  write_raw(png, {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R', 0, 0, 0, 1});
  const std::string m = message_of<WriteError>([&] { check_png(png, "loss.png"); });
  EXPECT_NE(m.find("loss.png: gnuplot wrote an incomplete PNG (20 bytes"), std::string::npos) << m;
  EXPECT_NE(message_of<WriteError>([&] { check_png(dir.file("none.png"), "x.png"); }).find("x.png: gnuplot did not write it"),
            std::string::npos);
}

TEST(WriteLinePlot, BadSeriesAreRefusedBeforeAnythingIsDrawn) {
  TempDir dir;
  const std::string path = dir.file("loss.png");
  LinePlot plot;
  plot.series = {{"train", {1, 2, 3}, {0.9, 0.5}}};
  std::string m = message_of<std::invalid_argument>([&] { write_line_plot(path, plot); });
  EXPECT_NE(m.find("series 'train' has 3 x and 2 y values"), std::string::npos) << m;
  plot.series = {{"test", {1, 2}, {0.5, 0.0}}};
  plot.log_y = true;
  m = message_of<std::invalid_argument>([&] { write_line_plot(path, plot); });
  EXPECT_NE(m.find("series 'test': point 1"), std::string::npos) << m;
  plot.log_y = false;
  plot.series = {{"nan", {1}, {std::nan("")}}};
  EXPECT_THROW(write_line_plot(path, plot), std::invalid_argument);
  EXPECT_FALSE(fs::exists(path));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 0);  // no scratch left
}

TEST(WriteLinePlot, DrawsACompletePngOfTheAskedSize) {
  if (!installed("gnuplot")) GTEST_SKIP() << "gnuplot is not installed";
  TempDir dir;
  const std::string path = dir.file("curves.png");
  LinePlot plot;
  plot.title = "loss per epoch, 'quoted' & <marked>";
  plot.xlabel = "epoch";
  plot.ylabel = "loss";
  plot.log_y = true;
  plot.width = 640;
  plot.height = 400;
  plot.series = {{"train", {1, 2, 3, 4}, {2.3, 0.9, 0.5, 0.4}}, {"l2(lambd=0.01)", {1, 2, 3, 4}, {2.3, 1.1, 0.8, 0.7}}};
  ASSERT_TRUE(write_line_plot(path, plot));
  EXPECT_NO_THROW(check_png(path, "curves.png"));
  EXPECT_EQ(png_size(path), std::make_pair(std::uint32_t(640), std::uint32_t(400)));
  // only the PNG is left in the folder (the scratch folder is gone)
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
  // no series: the axes alone, still a PNG
  plot.series.clear();
  ASSERT_TRUE(write_line_plot(path, plot));
  EXPECT_NO_THROW(check_png(path, "curves.png"));
}

TEST(PlotJob, AFailingScriptKeepsTheOldPngAndSaysWhatGnuplotSaid) {
  if (!installed("gnuplot")) GTEST_SKIP() << "gnuplot is not installed";
  TempDir dir;
  const std::string path = dir.file("loss.png");
  write_raw(path, {'o', 'l', 'd'});
  const std::string m = message_of<WriteError>([&] {
    PlotJob job(dir.path(), "loss.png");
    job.run("set terminal pngcairo\nset output 'loss.png'\nthis_is_not_a_command\n", {"loss.png"});
  });
  EXPECT_NE(m.find(path + ": gnuplot failed (exit status"), std::string::npos) << m;
  EXPECT_EQ(read_all(path), (Bytes{'o', 'l', 'd'}));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
}

TEST(WriteLinePlot, AMissingFolderIsAWriteErrorNamingThePng) {
  if (!installed("gnuplot")) GTEST_SKIP() << "gnuplot is not installed";
  TempDir dir;
  LinePlot plot;
  plot.series = {{"a", {0, 1}, {0, 1}}};
  const std::string path = dir.file("missing/plot.png");
  EXPECT_THROW(write_line_plot(path, plot), WriteError);
  EXPECT_NE(message_of<WriteError>([&] { write_line_plot(path, plot); }).find(path + ": cannot create a scratch folder"),
            std::string::npos);
}

}  // namespace
