#include "traces/h5_types.h"

#include <cstddef>
#include <mutex>
#include <string>
#include <vector>

#include "sim/engine.h"
#include "traces/trace_schema.h"

namespace ipusim::h5 {

void silenceErrorPrinting() {
  static std::once_flag once;
  std::call_once(once, [] { H5::Exception::dontPrint(); });
}

namespace {

using H5::PredType;

// One member of a compound: where it sits in the in-memory struct, its native type, and
// its type in the file.
struct Member {
  const char* name;
  size_t memOffset;
  H5::DataType memType;
  H5::DataType fileType;
};

H5::CompType memType(size_t size, const std::vector<Member>& members) {
  H5::CompType type(size);
  for (const Member& m : members) type.insertMember(m.name, m.memOffset, m.memType);
  return type;
}

// Packed, with fixed-endian members, so the file reads the same on any host.
H5::CompType fileType(const std::vector<Member>& members) {
  size_t size = 0;
  for (const Member& m : members) size += m.fileType.getSize();
  H5::CompType type(size);
  size_t offset = 0;
  for (const Member& m : members) {
    type.insertMember(m.name, offset, m.fileType);
    offset += m.fileType.getSize();
  }
  return type;
}

Member u32(const char* name, size_t offset) {
  return {name, offset, PredType::NATIVE_UINT32, PredType::STD_U32LE};
}
Member u64(const char* name, size_t offset) {
  return {name, offset, PredType::NATIVE_UINT64, PredType::STD_U64LE};
}
Member f64(const char* name, size_t offset) {
  return {name, offset, PredType::NATIVE_DOUBLE, PredType::IEEE_F64LE};
}
Member str(const char* name, size_t offset) { return {name, offset, stringType(), stringType()}; }

std::vector<Member> stepMembers() {
  return {u32("run", offsetof(StepH5, run)),
          u32("step", offsetof(StepH5, step)),
          {"kind", offsetof(StepH5, kind), stepKindType(), stepKindType()},
          str("name", offsetof(StepH5, name)),
          u64("start_cycle", offsetof(StepH5, startCycle)),
          u64("cycles", offsetof(StepH5, cycles)),
          u64("bytes", offsetof(StepH5, bytes))};
}

std::vector<Member> memoryMembers() {
  return {u32("tile", offsetof(MemoryH5, tile)),
          u32("code", offsetof(MemoryH5, code)),
          u32("vertex_state", offsetof(MemoryH5, vertexState)),
          u32("constants", offsetof(MemoryH5, constants)),
          u32("variables", offsetof(MemoryH5, variables)),
          u32("peak", offsetof(MemoryH5, peak))};
}

std::vector<Member> runMembers() {
  return {u32("run", offsetof(RunH5, run)),
          {"index", offsetof(RunH5, index), PredType::NATIVE_INT64, PredType::STD_I64LE},
          u64("load_cycles", offsetof(RunH5, loadCycles)),
          u64("exec_cycles", offsetof(RunH5, execCycles)),
          u64("host_ns", offsetof(RunH5, hostNs))};
}

std::vector<Member> requestMembers() {
  return {u64("id", offsetof(RequestH5, id)),
          u32("model", offsetof(RequestH5, model)),
          str("strategy", offsetof(RequestH5, strategy)),
          f64("arrival_us", offsetof(RequestH5, arrivalUs)),
          f64("start_us", offsetof(RequestH5, startUs)),
          f64("finish_us", offsetof(RequestH5, finishUs)),
          f64("latency_us", offsetof(RequestH5, latencyUs)),
          {"switched", offsetof(RequestH5, switched), PredType::NATIVE_UINT8, PredType::STD_U8LE}};
}

}  // namespace

H5::StrType stringType() {
  H5::StrType type(PredType::C_S1, H5T_VARIABLE);
  type.setCset(H5T_CSET_UTF8);
  return type;
}

H5::EnumType stepKindType() {
  H5::EnumType type{H5::IntType(PredType::NATIVE_UINT8)};  // braces: clang reads parentheses as a function declaration
  for (StepKind kind : kAllStepKinds) {
    auto value = static_cast<uint8_t>(kind);  // insert() takes a non-const pointer
    type.insert(std::string(stepKindName(kind)), &value);
  }
  return type;
}

H5::CompType stepMemType() { return memType(sizeof(StepH5), stepMembers()); }
H5::CompType stepFileType() { return fileType(stepMembers()); }
H5::CompType memoryMemType() { return memType(sizeof(MemoryH5), memoryMembers()); }
H5::CompType memoryFileType() { return fileType(memoryMembers()); }
H5::CompType runMemType() { return memType(sizeof(RunH5), runMembers()); }
H5::CompType runFileType() { return fileType(runMembers()); }
H5::CompType requestMemType() { return memType(sizeof(RequestH5), requestMembers()); }
H5::CompType requestFileType() { return fileType(requestMembers()); }

}  // namespace ipusim::h5
