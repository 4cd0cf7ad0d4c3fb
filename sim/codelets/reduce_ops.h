// The vocabulary shared by the reduction codelets (sim/codelets/reduce_codelets.cpp,
// arg_reduce_codelets.cpp) and the compiler's reduction plan: operations, finishing
// functions and the scalar layout of each vertex. Modelled on poplibs' Reduce vertices
// (popops::Operation, a scale applied at the last stage).
//
// Codelet names: "Reduce<Op><in,out>" (scatter form), "ReduceRows<Op><in,out>"
// (continuous form); "ArgReduce<Max|Min><T>", "ArgReduceRows<Max|Min><T>",
// "ArgMerge<Max|Min><T>" for ArgMax/ArgMin.
#pragma once
#include <cstdint>
#include <string_view>

#include "sim/dtype.h"

namespace ipusim::codelets {

constexpr bool isFloatDType(DType t) { return t == DType::Float32 || t == DType::Float16; }

// Bytes of machine code a reduction codelet occupies on a tile (assumption, as for the
// elementwise codelets: poplibs' reduce workers are a few hundred bytes of assembly).
inline constexpr uint32_t kReduceCodeBytes = 512;

// How elements are combined. SquareAdd and AbsAdd map each input element before adding
// (poplibs' SQUARE_ADD, and an ABS_ADD for ReduceL1); LogAdd is log(exp(a) + exp(b)),
// computed stably (poplibs' LOG_ADD), so a LogAdd reduction is a log-sum-exp.
enum class ReduceOp : uint8_t { Add, SquareAdd, AbsAdd, Mul, Max, Min, LogAdd };

// Applied to each output after the divisor, at the last stage only.
enum class ReduceFinish : int64_t { None = 0, Sqrt = 1, Log = 2 };

struct ReduceOpInfo {
  ReduceOp op;
  std::string_view name;
  ReduceOp laterStages;  // the op that combines partials (SquareAdd partials are added)
};

inline constexpr ReduceOpInfo kReduceOps[] = {
    {ReduceOp::Add, "Add", ReduceOp::Add},        {ReduceOp::SquareAdd, "SquareAdd", ReduceOp::Add},
    {ReduceOp::AbsAdd, "AbsAdd", ReduceOp::Add},  {ReduceOp::Mul, "Mul", ReduceOp::Mul},
    {ReduceOp::Max, "Max", ReduceOp::Max},        {ReduceOp::Min, "Min", ReduceOp::Min},
    {ReduceOp::LogAdd, "LogAdd", ReduceOp::LogAdd},
};

constexpr const ReduceOpInfo& reduceOpInfo(ReduceOp op) { return kReduceOps[static_cast<size_t>(op)]; }

// Scalar layouts (every index is a position in Vertex::scalars).
//
// Reduce<Op> (scatter form): fields [in, out]. The output regions are one virtual array
// (their concatenation), initialised to the op's identity. Input region r, of a multiple of
// width_r elements, accumulates element i into out[offset_r + i % width_r]. Then every
// output becomes finish(acc / divisor).
//   scalars: [divisor (double bits), finish, offset_0, width_0, offset_1, width_1, ...]
//
// ReduceRows<Op> (continuous form): fields [in, out], paired regions: input region r holds
// n_r rows of rowLength elements and out region r their n_r results.
//   scalars: [divisor (double bits), finish, rowLength]
inline constexpr size_t kReduceDivisorScalar = 0;
inline constexpr size_t kReduceFinishScalar = 1;
inline constexpr size_t kReduceFirstRegionScalar = 2;  // scatter: (offset, width) pairs from here
inline constexpr size_t kReduceRowLengthScalar = 2;    // rows form

// ArgReduce<Max|Min><T> (first stage, scatter form): fields [in, outValues, outIndices
// (int64)]; input region r's element i is at axis position axisFirst_r + i / width_r.
//   scalars: [selectLast, offset_0, width_0, axisFirst_0, ...]
// ArgReduceRows<Max|Min><T>: fields [in, outValues, outIndices], paired regions of whole
// rows (axis positions 0 .. rowLength-1).
//   scalars: [selectLast, rowLength]
// ArgMerge<Max|Min><T>: fields [inValues, inIndices, outValues, outIndices], scatter form.
//   scalars: [selectLast, offset_0, width_0, ...]
// Ties go to the lower axis position, or the higher one when selectLast is 1; NaN wins
// over any number (numpy's argmax/argmin).
inline constexpr size_t kArgSelectLastScalar = 0;
inline constexpr size_t kArgFirstRegionScalar = 1;
inline constexpr size_t kArgRowLengthScalar = 1;

}  // namespace ipusim::codelets
