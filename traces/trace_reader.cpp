#include "traces/trace_reader.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string_view>
#include <system_error>

#include "traces/h5_types.h"

namespace ipusim {

namespace {

namespace fs = std::filesystem;
namespace schema = trace_schema;

// Past this many values in one dataset (16 GiB of uint64) the file is corrupt, not a trace.
constexpr hsize_t kMaxValues = hsize_t{1} << 31;
// A dataset's values must fit in the bytes it stores, inflated at most by gzip's best ratio
// (deflate cannot beat about 1032:1), plus some slack for tiny datasets: so a corrupt header
// claiming a huge extent is refused before the reader allocates room for it.
constexpr hsize_t kMaxCompressionRatio = 1100;
constexpr hsize_t kStorageSlackBytes = hsize_t{1} << 20;

// A structural fault inside a file already known to be an ipusim trace.
class Malformed : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

std::string readStringAttribute(const H5::H5Object& object, const char* name) {
  if (!object.attrExists(name)) throw Malformed(std::string("missing attribute ") + name);
  H5::Attribute attribute = object.openAttribute(name);
  if (attribute.getTypeClass() != H5T_STRING)
    throw Malformed(std::string("attribute ") + name + " is not a string");
  const H5::StrType type = attribute.getStrType();
  if (attribute.getSpace().getSimpleExtentNpoints() != 1)
    throw Malformed(std::string("attribute ") + name + " is not a single string");
  std::string value;
  if (!type.isVariableStr()) {
    attribute.read(type, value);
    return value;
  }
  // Read through the C layer: HDF5's C++ read(type, std::string&) calls strlen on whatever
  // HDF5 returns, and a damaged heap makes that a null pointer (found by fuzz_trace).
  char* text = nullptr;
  attribute.read(type, static_cast<void*>(&text));
  if (text == nullptr) throw Malformed(std::string("attribute ") + name + " holds no string");
  value = text;
  H5free_memory(text);
  return value;
}

template <typename T>
T readScalarAttribute(const H5::H5File& file, const char* name, const H5::PredType& memType,
                      H5T_class_t typeClass) {
  if (!file.attrExists(name)) throw Malformed(std::string("missing attribute ") + name);
  H5::Attribute attribute = file.openAttribute(name);
  // Exactly the writer's type: HDF5 converts other layouts without checking them (below).
  const H5::DataType written = typeClass == H5T_FLOAT ? H5::DataType(H5::PredType::IEEE_F64LE)
                                                      : H5::DataType(H5::PredType::STD_U32LE);
  if (attribute.getTypeClass() != typeClass || !(attribute.getDataType() == written) ||
      attribute.getSpace().getSimpleExtentNpoints() != 1)
    throw Malformed(std::string("attribute ") + name + " is not a single " +
                    (typeClass == H5T_FLOAT ? "float" : "integer"));
  T value{};
  attribute.read(memType, &value);
  return value;
}

// HDF5 1.10's global heap reader (where variable-length strings live) loops for ever on a
// collection whose free-space object claims 0 bytes, and trusts the other objects' sizes
// (found by fuzz_trace). So before HDF5 sees a file, every global heap collection in it
// ("GCOL", version 1) is walked the way HDF5 walks it, and one that would make it loop or
// read past its end is refused. The walk assumes 8-byte lengths, as every trace has.
void checkGlobalHeaps(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw TraceError(path + ": cannot open the file");
  in.seekg(0, std::ios::end);
  const uint64_t fileSize = static_cast<uint64_t>(in.tellg());
  auto readAt = [&](uint64_t offset, size_t bytes) {
    std::string data(bytes, '\0');
    in.clear();
    in.seekg(static_cast<std::streamoff>(offset));
    in.read(data.data(), static_cast<std::streamsize>(bytes));
    data.resize(static_cast<size_t>(in.gcount()));
    return data;
  };
  auto little = [](const std::string& bytes, size_t at, size_t width) {
    uint64_t value = 0;
    for (size_t i = width; i-- > 0;) value = (value << 8) | static_cast<unsigned char>(bytes[at + i]);
    return value;
  };
  constexpr std::string_view kSignature{"GCOL\x01", 5};
  constexpr size_t kHeaderBytes = 16;  // signature, version, reserved, collection size
  constexpr size_t kObjectHeaderBytes = 16;  // index, references, reserved, object size
  constexpr size_t kBlock = size_t{1} << 20;
  auto corrupt = [&](uint64_t at, const std::string& what) {
    throw TraceError(path + ": corrupt HDF5 global heap at byte " + std::to_string(at) + ": " + what);
  };
  for (uint64_t block = 0; block < fileSize; block += kBlock) {
    // Each block is read with a few bytes of the next, so no signature falls between two.
    const std::string data = readAt(block, kBlock + kSignature.size() - 1);
    for (size_t at = data.find(kSignature); at != std::string::npos && at < kBlock;
         at = data.find(kSignature, at + 1)) {
      const uint64_t start = block + at;
      const std::string header = readAt(start, kHeaderBytes);
      if (header.size() < kHeaderBytes) corrupt(start, "the collection header is cut off");
      const uint64_t size = little(header, 8, 8);
      if (size < kHeaderBytes || size > fileSize - start)
        corrupt(start, "the collection claims " + std::to_string(size) + " bytes");
      const std::string heap = readAt(start, static_cast<size_t>(size));
      uint64_t p = kHeaderBytes;
      while (p + kObjectHeaderBytes <= size) {
        const uint64_t index = little(heap, static_cast<size_t>(p), 2);
        const uint64_t objectBytes = little(heap, static_cast<size_t>(p) + 8, 8);
        // The free space (index 0) counts its own header; other objects are padded to 8 bytes.
        uint64_t need = objectBytes;
        if (index == 0 && need < kObjectHeaderBytes)
          corrupt(start + p, "its free space claims " + std::to_string(objectBytes) + " bytes");
        if (index != 0) need = objectBytes > size ? UINT64_MAX : kObjectHeaderBytes + ((objectBytes + 7) & ~uint64_t{7});
        if (need > size - p)
          corrupt(start + p, "object " + std::to_string(index) + " claims " + std::to_string(objectBytes) +
                                 " bytes, past the end of its collection");
        p += need;
      }
    }
  }
}

// What the file is: an ipusim trace of this schema version, or a TraceError saying what not.
H5::H5File openTrace(const std::string& path) {
  h5::silenceErrorPrinting();
  std::error_code error;
  const fs::file_status status = fs::status(path, error);
  if (!fs::exists(status)) throw TraceError(path + ": no such file");
  if (fs::is_directory(status)) throw TraceError(path + ": is a folder, not a trace file");
  bool isHdf5 = false;
  try {
    isHdf5 = H5::H5File::isHdf5(path);
  } catch (const H5::Exception&) {
    isHdf5 = false;  // unreadable or too short to hold a signature
  }
  if (!isHdf5) throw TraceError(path + ": not an HDF5 file, so not an ipusim trace");
  checkGlobalHeaps(path);

  H5::H5File file;
  try {
    file.openFile(path, H5F_ACC_RDONLY);
  } catch (const H5::Exception& e) {
    throw TraceError(path + ": cannot open the HDF5 file: " + e.getDetailMsg());
  }
  try {
    const bool isTrace = file.attrExists(schema::kAttrFormat) &&
                         file.openAttribute(schema::kAttrFormat).getTypeClass() == H5T_STRING &&
                         readStringAttribute(file, schema::kAttrFormat) == schema::kFormat;
    if (!isTrace)
      throw TraceError(path + ": an HDF5 file, but not an ipusim trace (no root attribute " +
                       schema::kAttrFormat + " = \"" + std::string(schema::kFormat) + "\")");
    const auto version = readScalarAttribute<uint32_t>(file, schema::kAttrSchemaVersion,
                                                       H5::PredType::NATIVE_UINT32, H5T_INTEGER);
    if (version != schema::kVersion)
      throw TraceError(path + ": trace schema version " + std::to_string(version) +
                       ", but this ipusim reads version " + std::to_string(schema::kVersion) +
                       " (docs/trace-schema.md)");
  } catch (const Malformed& e) {
    throw TraceError(path + ": malformed ipusim trace: " + e.what());
  } catch (const H5::Exception& e) {
    throw TraceError(path + ": malformed ipusim trace: " + e.getDetailMsg());
  }
  return file;
}

TraceInfo readInfo(const H5::H5File& file) {
  TraceInfo info;
  info.schemaVersion = readScalarAttribute<uint32_t>(file, schema::kAttrSchemaVersion,
                                                     H5::PredType::NATIVE_UINT32, H5T_INTEGER);
  info.ipusimVersion = readStringAttribute(file, schema::kAttrIpusimVersion);
  info.executable = readStringAttribute(file, schema::kAttrExecutable);
  info.target = readStringAttribute(file, schema::kAttrTarget);
  info.clockHz = readScalarAttribute<double>(file, schema::kAttrClockHz,
                                             H5::PredType::NATIVE_DOUBLE, H5T_FLOAT);
  info.tiles = readScalarAttribute<uint32_t>(file, schema::kAttrTiles, H5::PredType::NATIVE_UINT32,
                                             H5T_INTEGER);
  info.bytesPerTile = readScalarAttribute<uint32_t>(file, schema::kAttrBytesPerTile,
                                                    H5::PredType::NATIVE_UINT32, H5T_INTEGER);
  return info;
}

H5::DataSet openDataset(const H5::H5File& file, const char* name) {
  // HDF5 fails, rather than answers false, when a parent group is missing: check each level.
  const std::string path = name;
  for (size_t slash = path.find('/', 1); slash != std::string::npos; slash = path.find('/', slash + 1))
    if (!file.nameExists(path.substr(0, slash)))
      throw Malformed("missing group " + path.substr(0, slash));
  if (!file.nameExists(name)) throw Malformed(std::string("missing dataset ") + name);
  return file.openDataSet(name);
}

// The extent of a dataset of rank `rank`, bounded so a corrupt header cannot ask for an
// absurd allocation.
std::vector<hsize_t> extent(const H5::DataSet& dataset, const char* name, int rank) {
  const H5::DataSpace space = dataset.getSpace();
  if (space.getSimpleExtentNdims() != rank)
    throw Malformed(std::string(name) + " has rank " + std::to_string(space.getSimpleExtentNdims()) +
                    ", expected " + std::to_string(rank));
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  space.getSimpleExtentDims(dims.data());
  hsize_t values = 1;
  for (hsize_t d : dims) {
    if (d != 0 && values > kMaxValues / d) throw Malformed(std::string(name) + " is too large");
    values *= d;
  }
  const hsize_t claimed = values * dataset.getDataType().getSize();
  const hsize_t stored = dataset.getStorageSize();
  if (claimed > kStorageSlackBytes && claimed / kMaxCompressionRatio > stored)
    throw Malformed(std::string(name) + " claims " + std::to_string(claimed) + " bytes but stores only " +
                    std::to_string(stored));
  return dims;
}

// Reads a 1-D compound table into rows of the in-memory struct `Row`. Every member of the
// memory type must exist in the file: HDF5 would otherwise leave it unset without a word.
// The file's row type must be exactly the writer's (`written`): HDF5 1.10 converts a compound
// whose members lie past its own size with an out-of-bounds copy (found by fuzz_trace).
template <typename Row>
std::vector<Row> readTable(const H5::H5File& file, const char* name, const H5::CompType& memType,
                           const H5::CompType& written) {
  H5::DataSet dataset = openDataset(file, name);
  if (dataset.getTypeClass() != H5T_COMPOUND) throw Malformed(std::string(name) + " is not a table");
  const H5::CompType fileType = dataset.getCompType();
  for (int i = 0; i < memType.getNmembers(); ++i) {
    const std::string member = memType.getMemberName(static_cast<unsigned>(i));
    bool found = false;
    for (int j = 0; j < fileType.getNmembers() && !found; ++j)
      found = fileType.getMemberName(static_cast<unsigned>(j)) == member;
    if (!found) throw Malformed(std::string(name) + " has no field '" + member + "'");
  }
  if (!(fileType == written))
    throw Malformed(std::string(name) + " does not have the row layout of schema version " +
                    std::to_string(schema::kVersion));
  const std::vector<hsize_t> dims = extent(dataset, name, 1);
  std::vector<Row> rows(dims[0]);
  if (!rows.empty()) dataset.read(rows.data(), memType);
  return rows;
}

// Frees the strings HDF5 allocated while reading a table with string members.
template <typename Row>
void reclaimStrings(std::vector<Row>& rows, const H5::CompType& memType) {
  if (rows.empty()) return;
  const hsize_t count = rows.size();
  H5::DataSet::vlenReclaim(rows.data(), memType, H5::DataSpace(1, &count));
}

std::string takeString(const char* text) { return text != nullptr ? std::string(text) : std::string(); }

std::vector<uint64_t> readTileArray(const H5::H5File& file, const char* name,
                                    std::vector<hsize_t> expected) {
  H5::DataSet dataset = openDataset(file, name);
  if (dataset.getTypeClass() != H5T_INTEGER) throw Malformed(std::string(name) + " is not integer");
  if (!(dataset.getDataType() == H5::DataType(H5::PredType::STD_U64LE)))
    throw Malformed(std::string(name) + " is not little-endian uint64");
  const std::vector<hsize_t> dims = extent(dataset, name, static_cast<int>(expected.size()));
  // The first axis is either empty (no tile detail) or one row per step of its kind.
  if (dims[0] != 0 && dims != expected) {
    std::string want, got;
    for (size_t i = 0; i < dims.size(); ++i) {
      want += (i ? " x " : "") + std::to_string(expected[i]);
      got += (i ? " x " : "") + std::to_string(dims[i]);
    }
    throw Malformed(std::string(name) + " is " + got + ", expected " + want);
  }
  std::vector<uint64_t> values;
  if (dims[0] == 0) return values;
  hsize_t count = 1;
  for (hsize_t d : dims) count *= d;
  values.resize(count);
  dataset.read(values.data(), H5::PredType::NATIVE_UINT64);
  return values;
}

Trace readAll(const H5::H5File& file) {
  Trace trace;
  trace.info = readInfo(file);
  if (trace.info.tiles == 0) throw Malformed("attribute tiles is 0");

  {
    const H5::CompType memType = h5::stepMemType();
    std::vector<h5::StepH5> rows =
        readTable<h5::StepH5>(file, schema::kSteps, memType, h5::stepFileType());
    trace.steps.reserve(rows.size());
    for (const h5::StepH5& r : rows)
      trace.steps.push_back({r.run, r.step, static_cast<StepKind>(r.kind), takeString(r.name),
                             r.startCycle, r.cycles, r.bytes});
    reclaimStrings(rows, memType);
  }

  const hsize_t tiles = trace.info.tiles;
  trace.computeCycles = readTileArray(file, schema::kComputeCycles,
                                      {trace.countSteps(StepKind::Compute), tiles});
  trace.exchangeBytes = readTileArray(file, schema::kExchangeBytes,
                                      {trace.countSteps(StepKind::Exchange), tiles, 2});

  for (const h5::MemoryH5& r :
       readTable<h5::MemoryH5>(file, schema::kMemory, h5::memoryMemType(), h5::memoryFileType()))
    trace.memory.push_back({r.tile, r.code, r.vertexState, r.constants, r.variables, r.peak});

  for (const h5::RunH5& r :
       readTable<h5::RunH5>(file, schema::kRuns, h5::runMemType(), h5::runFileType()))
    trace.runs.push_back({r.run, r.index, r.loadCycles, r.execCycles, r.hostNs});

  {
    const H5::CompType memType = h5::requestMemType();
    std::vector<h5::RequestH5> rows =
        readTable<h5::RequestH5>(file, schema::kRequests, memType, h5::requestFileType());
    trace.requests.reserve(rows.size());
    for (const h5::RequestH5& r : rows)
      trace.requests.push_back({r.id, r.model, takeString(r.strategy), r.arrivalUs, r.startUs,
                                r.finishUs, r.latencyUs, r.switched != 0});
    reclaimStrings(rows, memType);
  }
  return trace;
}

template <typename Result, typename Read>
Result readChecked(const std::string& path, Read read) {
  H5::H5File file = openTrace(path);
  try {
    return read(file);
  } catch (const Malformed& e) {
    throw TraceError(path + ": malformed ipusim trace: " + e.what());
  } catch (const TraceError& e) {
    throw TraceError(path + ": malformed ipusim trace: " + e.what());
  } catch (const H5::Exception& e) {
    throw TraceError(path + ": malformed ipusim trace: " + e.getFuncName() + ": " +
                     e.getDetailMsg());
  }
}

// HDF5 1.10 itself reads out of bounds on some corrupt files (tests/fuzz/known-hdf5-crashes/),
// which no check of ours can foresee without parsing HDF5's object headers. So a file is read
// first in a child process: its crash becomes a TraceError here, its TraceError is passed on,
// and only a file the child read completely is read again in this process (the same bytes
// through the same code give the same result).
template <typename Read>
void readInChildFirst(const std::string& path, Read read) {
  int channel[2];
  if (::pipe(channel) != 0) return;  // cannot isolate: read in this process only
  std::fflush(nullptr);
  const pid_t child = ::fork();
  if (child < 0) {
    ::close(channel[0]);
    ::close(channel[1]);
    return;
  }
  if (child == 0) {
    ::close(channel[0]);
    std::string message;
    try {
      read();
      ::_exit(0);
    } catch (const TraceError& e) {
      message = e.what();
    } catch (const std::exception& e) {
      message = path + ": " + e.what();
    }
    for (size_t done = 0; done < message.size();) {
      const ssize_t n = ::write(channel[1], message.data() + done, message.size() - done);
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    ::_exit(1);
  }
  ::close(channel[1]);
  std::string message;
  char buffer[4096];
  for (ssize_t n; (n = ::read(channel[0], buffer, sizeof buffer)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    message.append(buffer, static_cast<size_t>(n));
  }
  ::close(channel[0]);
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
  if (WIFEXITED(status) && !message.empty()) throw TraceError(message);
  if (WIFSIGNALED(status))
    throw TraceError(path + ": HDF5 crashed reading the file (signal " + std::to_string(WTERMSIG(status)) +
                     "): it is corrupt");
  throw TraceError(path + ": the trace could not be read");
}

Trace readTraceInProcess(const std::string& path) {
  return readChecked<Trace>(path, [](const H5::H5File& file) {
    Trace trace = readAll(file);
    checkTrace(trace);
    return trace;
  });
}

TraceInfo readTraceInfoInProcess(const std::string& path) {
  return readChecked<TraceInfo>(path, [](const H5::H5File& file) { return readInfo(file); });
}

}  // namespace

Trace readTrace(const std::string& path) {
  readInChildFirst(path, [&] { readTraceInProcess(path); });
  return readTraceInProcess(path);
}

TraceInfo readTraceInfo(const std::string& path) {
  readInChildFirst(path, [&] { readTraceInfoInProcess(path); });
  return readTraceInfoInProcess(path);
}

}  // namespace ipusim
