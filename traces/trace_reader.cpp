#include "traces/trace_reader.h"

#include <filesystem>
#include <system_error>

#include "traces/h5_types.h"

namespace ipusim {

namespace {

namespace fs = std::filesystem;
namespace schema = trace_schema;

// Past this many values in one dataset (16 GiB of uint64) the file is corrupt, not a trace.
constexpr hsize_t kMaxValues = hsize_t{1} << 31;

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
  std::string value;
  attribute.read(attribute.getStrType(), value);
  return value;
}

template <typename T>
T readScalarAttribute(const H5::H5File& file, const char* name, const H5::PredType& memType,
                      H5T_class_t typeClass) {
  if (!file.attrExists(name)) throw Malformed(std::string("missing attribute ") + name);
  H5::Attribute attribute = file.openAttribute(name);
  if (attribute.getTypeClass() != typeClass || attribute.getSpace().getSimpleExtentNpoints() != 1)
    throw Malformed(std::string("attribute ") + name + " is not a single " +
                    (typeClass == H5T_FLOAT ? "float" : "integer"));
  T value{};
  attribute.read(memType, &value);
  return value;
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
  return dims;
}

// Reads a 1-D compound table into rows of the in-memory struct `Row`. Every member of the
// memory type must exist in the file: HDF5 would otherwise leave it unset without a word.
template <typename Row>
std::vector<Row> readTable(const H5::H5File& file, const char* name, const H5::CompType& memType) {
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
    std::vector<h5::StepH5> rows = readTable<h5::StepH5>(file, schema::kSteps, memType);
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

  for (const h5::MemoryH5& r : readTable<h5::MemoryH5>(file, schema::kMemory, h5::memoryMemType()))
    trace.memory.push_back({r.tile, r.code, r.vertexState, r.constants, r.variables, r.peak});

  for (const h5::RunH5& r : readTable<h5::RunH5>(file, schema::kRuns, h5::runMemType()))
    trace.runs.push_back({r.run, r.index, r.loadCycles, r.execCycles, r.hostNs});

  {
    const H5::CompType memType = h5::requestMemType();
    std::vector<h5::RequestH5> rows = readTable<h5::RequestH5>(file, schema::kRequests, memType);
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

}  // namespace

Trace readTrace(const std::string& path) {
  return readChecked<Trace>(path, [](const H5::H5File& file) {
    Trace trace = readAll(file);
    checkTrace(trace);
    return trace;
  });
}

TraceInfo readTraceInfo(const std::string& path) {
  return readChecked<TraceInfo>(path, [](const H5::H5File& file) { return readInfo(file); });
}

}  // namespace ipusim
