// Internal to traces/: the HDF5 types of the schema, shared by the writer and the reader so
// both sides agree on every member name, offset and dtype.
#pragma once
#include <H5Cpp.h>

#include <cstdint>

namespace ipusim::h5 {

// HDF5 prints its error stack to stderr on its own; our callers report one line instead.
void silenceErrorPrinting();

// In-memory row layouts of the compound datasets. Strings are HDF5 variable-length: the
// writer points them at std::string data, the reader gets buffers HDF5 allocates (and
// reclaims with DataSet::vlenReclaim).
struct StepH5 {
  uint32_t run;
  uint32_t step;
  uint8_t kind;  // StepKind, stored as an HDF5 enum
  const char* name;
  uint64_t startCycle;
  uint64_t cycles;
  uint64_t bytes;
};

struct MemoryH5 {
  uint32_t tile;
  uint32_t code;
  uint32_t vertexState;
  uint32_t constants;
  uint32_t variables;
  uint32_t peak;
};

struct RunH5 {
  uint32_t run;
  int64_t index;
  uint64_t loadCycles;
  uint64_t execCycles;
  uint64_t hostNs;
};

struct RequestH5 {
  uint64_t id;
  uint32_t model;
  const char* strategy;
  double arrivalUs;
  double startUs;
  double finishUs;
  double latencyUs;
  uint8_t switched;  // 0 or 1
};

H5::StrType stringType();        // variable-length UTF-8
H5::EnumType stepKindType();     // uint8 enum: compute=0, exchange=1, ... load=5

// Memory types (native layout of the structs above) and file types (packed, little-endian).
H5::CompType stepMemType();
H5::CompType stepFileType();
H5::CompType memoryMemType();
H5::CompType memoryFileType();
H5::CompType runMemType();
H5::CompType runFileType();
H5::CompType requestMemType();
H5::CompType requestFileType();

}  // namespace ipusim::h5
