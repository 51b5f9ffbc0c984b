// io/atomic_file: a file written whole or not at all. Committed, the target holds exactly the
// bytes written and no temporary is left; abandoned (an exception on the way), the old target
// is untouched and the temporary removed; a failure is an io::WriteError (a DataError) naming
// the file and the OS reason. commit_file and write_whole_file, which the app's plots use, too.
#include "xtgrad/io/atomic_file.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <string>

#include "fixture_files.hpp"

namespace {

namespace fs = std::filesystem;
using xtgrad::DataError;
using xtgrad::io::AtomicFile;
using xtgrad::io::WriteError;
using namespace xtgrad_test;

std::string text_of(const std::string& path) {
  const Bytes b = read_all(path);
  return std::string(b.begin(), b.end());
}

TEST(AtomicFile, CommitPutsTheBytesInPlaceAndLeavesNoTemporary) {
  TempDir dir;
  const std::string path = dir.file("out.txt");
  write_raw(path, {'o', 'l', 'd'});
  {
    AtomicFile out(path);
    EXPECT_EQ(out.temporary(), path + ".tmp");
    out.write("new ", 4);
    out.write(std::string("content"));
    EXPECT_EQ(text_of(path), "old");  // nothing visible before commit
    out.commit();
  }
  EXPECT_EQ(text_of(path), "new content");
  EXPECT_FALSE(fs::exists(path + ".tmp"));
}

TEST(AtomicFile, AbandonedKeepsTheOldFileAndRemovesTheTemporary) {
  TempDir dir;
  const std::string path = dir.file("out.txt");
  write_raw(path, {'o', 'l', 'd'});
  try {
    AtomicFile out(path);
    out.write(std::string("half"));
    throw std::runtime_error("stopped");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(text_of(path), "old");
  EXPECT_FALSE(fs::exists(path + ".tmp"));
}

TEST(AtomicFile, FailureIsAWriteErrorNamingTheFileAndTheReason) {
  TempDir dir;
  const std::string path = dir.file("no/such/folder/out.txt");
  try {
    AtomicFile out(path);
    ADD_FAILURE() << "no exception";
  } catch (const WriteError& e) {
    expect_has(e.what(), {path, "cannot create", "(no such file or directory)"});
  }
  EXPECT_THROW(xtgrad::io::write_file_atomically(path, [](std::ostream& o) { o << "x"; }), DataError);
}

TEST(AtomicFile, WriteFileAtomicallyWritesWhatTheCallbackStreams) {
  TempDir dir;
  const std::string path = dir.file("table.csv");
  xtgrad::io::write_file_atomically(path, [](std::ostream& o) { o << "a,b\n" << 1 << ',' << 2 << '\n'; });
  EXPECT_EQ(text_of(path), "a,b\n1,2\n");
  EXPECT_FALSE(fs::exists(path + ".tmp"));
}

TEST(AtomicFile, CommitFileAndWriteWholeFile) {
  TempDir dir;
  const std::string scratch = dir.file("scratch.png"), path = dir.file("plot.png");
  EXPECT_EQ(xtgrad::io::write_whole_file(scratch, "image"), 0);
  xtgrad::io::commit_file(scratch, path);
  EXPECT_EQ(text_of(path), "image");
  EXPECT_FALSE(fs::exists(scratch));
  EXPECT_EQ(xtgrad::io::write_whole_file(dir.file("no/folder/x"), "x"), ENOENT);
  // A missing scratch file: WriteError naming the target, which is left as it was.
  EXPECT_THROW(xtgrad::io::commit_file(scratch, path), WriteError);
  EXPECT_EQ(text_of(path), "image");
  EXPECT_EQ(xtgrad::io::os_reason(ENOSPC), "no space left on device");
}

}  // namespace
