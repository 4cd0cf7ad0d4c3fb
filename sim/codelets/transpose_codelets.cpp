// Transpose2d<float16|float32>: the on-tile transpose of matrices, after poplibs'
// poplin::Transpose2d vertex (a worker vertex over several equally shaped matrices). A matrix
// product planned with swapped operands computes out^T blocks and transposes them back on
// the reducer tiles with it (docs/matmul-planner.md).
//
// Fields [src, dst]; scalars [rows, cols]. src: regions whose concatenation is `matrices`
// row-major [rows][cols] matrices; dst: regions whose concatenation is the same matrices
// transposed, [cols][rows] each. matrices = src elements / (rows x cols).
#include <cstring>
#include <string>
#include <vector>

#include "sim/codelet.h"
#include "sim/codelets/codelet_tables.h"
#include "sim/codelets/transpose_cost.h"
#include "sim/error.h"

namespace ipusim {

uint64_t transpose2dWorkerCycles(DType dtype, uint64_t rows, uint64_t cols, uint64_t matrices) {
  // poplibs lib/poplin/poplinCycleEstimators.cpp, MAKE_CYCLE_ESTIMATOR_NAME(Transpose2d): a
  // fast path for whole 64-bit vectors within the repeat-count and stride limits, else a
  // slow path of a few cycles per element.
  constexpr uint64_t kRepeatCountLimit = 4096;  // CSR_W_REPEAT_COUNT mask + 1
  if (dtype == DType::Float32) {
    if (rows % 2 == 0 && cols % 2 == 0 && cols >= 2 && cols / 2 < kRepeatCountLimit && rows * (cols - 2) / 2 < 512) {
      return 25 + matrices * (11 + (rows / 2) * (6 + 3 * (cols / 2 - 1)));
    }
    return 13 + matrices * (8 + cols * (5 + (rows * 4) / 2));
  }
  if (rows % 4 == 0 && cols % 4 == 0 && cols >= 8 && cols / 4 < kRepeatCountLimit && 1 + 3 * (cols / 4) < 512) {
    return 37 + matrices * (12 + (rows / 4) * (15 + 4 * (cols / 4 - 2)));
  }
  if (rows % 4 == 0 && cols == 4 && rows / 4 < kRepeatCountLimit && 1 + 3 * (rows / 4) < 512) {
    return rows == 4 ? 32 + 15 * matrices : 28 + matrices * (17 + (20 + 4 * (rows / 4 - 2)));
  }
  return 15 + matrices * (8 + cols * (5 + (rows * 5) / 2));
}

uint64_t transpose2dFastRowLimit(DType dtype, uint64_t cols) {
  if (dtype != DType::Float32 || cols <= 2) return 0;
  const uint64_t limit = 1023 / (cols - 2);  // rows * (cols - 2) / 2 < 512
  return limit - limit % 2;
}

std::string transpose2dCodeletName(DType dtype) { return "Transpose2d<" + std::string(dtypeName(dtype)) + ">"; }

namespace codelets {
namespace {

// Bytes of machine code (assumption, docs/cost-model.md: an assembly worker of a few dozen
// bundles, like the elementwise ones, with its fast and slow paths).
constexpr uint32_t kTransposeCodeBytes = 512;

[[noreturn]] void fault(const std::string& name, const std::string& what) { throw SimError(name + ": " + what); }

uint64_t elementsOf(const std::vector<Region>& regions, size_t bytes) {
  uint64_t total = 0;
  for (const Region& region : regions) total += region.bytes / bytes;
  return total;
}

// dst[c][r] = src[r][c] for one rows x cols matrix of T.
template <class T>
void transposeMatrix(const uint8_t* src, uint8_t* dst, uint64_t rows, uint64_t cols) {
  for (uint64_t r = 0; r < rows; ++r)
    for (uint64_t c = 0; c < cols; ++c) {
      T value;
      std::memcpy(&value, src + (r * cols + c) * sizeof(T), sizeof(T));
      std::memcpy(dst + (c * rows + r) * sizeof(T), &value, sizeof(T));
    }
}

void addTranspose(CodeletRegistry& registry, DType dtype) {
  const size_t bytes = dtypeSize(dtype);
  Codelet codelet;
  codelet.name = transpose2dCodeletName(dtype);
  codelet.kernel = [name = codelet.name, bytes](const VertexData& data) {
    if (data.fields.size() != 2 || data.scalars.size() != 2 || data.scalars[0] <= 0 || data.scalars[1] <= 0) {
      fault(name, "needs fields [src, dst] and scalars [rows, cols], both positive");
    }
    const uint64_t rows = static_cast<uint64_t>(data.scalars[0]), cols = static_cast<uint64_t>(data.scalars[1]);
    std::vector<uint8_t> src;
    for (const auto& region : data.fields[0]) src.insert(src.end(), region.begin(), region.end());
    uint64_t dstBytes = 0;
    for (const auto& region : data.fields[1]) dstBytes += region.size();
    const uint64_t matrixBytes = rows * cols * bytes;
    if (src.size() % matrixBytes != 0 || src.size() == 0 || dstBytes != src.size()) {
      fault(name, "src must hold whole " + std::to_string(rows) + " x " + std::to_string(cols) +
                      " matrices and dst as many elements");
    }
    std::vector<uint8_t> dst(src.size());
    for (uint64_t at = 0; at < src.size(); at += matrixBytes) {
      if (bytes == 2) {
        transposeMatrix<uint16_t>(src.data() + at, dst.data() + at, rows, cols);
      } else {
        transposeMatrix<uint32_t>(src.data() + at, dst.data() + at, rows, cols);
      }
    }
    size_t at = 0;
    for (const auto& region : data.fields[1]) {
      std::memcpy(region.data(), dst.data() + at, region.size());
      at += region.size();
    }
  };
  codelet.cycles = [dtype, bytes](const Vertex& vertex, const Target&) -> uint64_t {
    if (vertex.fields.empty() || vertex.scalars.size() != 2 || vertex.scalars[0] <= 0 || vertex.scalars[1] <= 0) {
      return 0;
    }
    const uint64_t rows = static_cast<uint64_t>(vertex.scalars[0]), cols = static_cast<uint64_t>(vertex.scalars[1]);
    const uint64_t matrices = elementsOf(vertex.fields[0], bytes) / (rows * cols);
    return transpose2dWorkerCycles(dtype, rows, cols, matrices);
  };
  codelet.codeBytes = kTransposeCodeBytes;
  registry.add(std::move(codelet));
}

}  // namespace

void registerTransposeCodelets(CodeletRegistry& registry) {
  addTranspose(registry, DType::Float16);
  addTranspose(registry, DType::Float32);
}

}  // namespace codelets
}  // namespace ipusim
