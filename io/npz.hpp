// numpy .npy arrays inside .npz (zip) archives: read (stored or deflated entries) and write
// (stored), with conversion to and from Tensor.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "xtgrad/core/tensor.hpp"
#include "xtgrad/io/atomic_file.hpp"  // io::WriteError, which write_npz throws

namespace xtgrad {
namespace nn {

// One .npy array: its shape (empty for a 0-d array), numpy dtype string ("|u1", "<i4",
// "<i8", "<f4" or "<f8") and its little-endian, row-major bytes.
struct NpyArray {
  std::vector<std::size_t> shape;
  std::string dtype;
  std::vector<std::uint8_t> bytes;
};

// Bytes per element of a supported dtype; 0 for any other string.
std::size_t npy_itemsize(const std::string& dtype);

// Every array of an .npz archive, keyed by entry name without ".npy". Throws DataError naming
// the file (and entry) when the archive or an array is malformed, a CRC differs, or an entry
// uses an unsupported compression, dtype or Fortran order.
std::map<std::string, NpyArray> read_npz(const std::string& path);
// The same in two steps, e.g. to read a file on one process and parse it on several:
// the file's bytes (DataError if it is not a readable regular file), and the arrays of an
// archive held in memory, `path` naming it in the messages.
std::vector<std::uint8_t> read_npz_bytes(const std::string& path);
std::map<std::string, NpyArray> parse_npz(const std::vector<std::uint8_t>& bytes, const std::string& path);

// Writes the arrays as an uncompressed .npz that numpy.load reads, through an io::AtomicFile
// (to path + ".tmp", fsync, then renamed over path), so a crash never leaves half a file in
// place of an old one. Inconsistent arrays throw std::invalid_argument; I/O failures throw
// io::WriteError (a DataError).
void write_npz(const std::string& path, const std::map<std::string, NpyArray>& arrays);

// The tensor as an array of dtype "<f4" (float) or "<f8" (double), same shape.
template <class T>
NpyArray to_npy(const TensorOf<T>& t);

// The array converted to T (float unless asked), same shape; any supported dtype. `context`
// ("file: key") starts the DataError message when the array is inconsistent.
template <class T = float>
TensorOf<T> from_npy(const NpyArray& array, const std::string& context);

}  // namespace nn
}  // namespace xtgrad
