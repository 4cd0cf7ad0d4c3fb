#include "traces/trace_writer.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <system_error>

#include "traces/h5_types.h"

namespace ipusim {

namespace {

namespace fs = std::filesystem;
namespace schema = trace_schema;

constexpr int kDeflateLevel = 6;
// Rows per chunk: about 256 KiB per chunk for the per-tile datasets of a 1472-tile target,
// a good size for gzip and for reading a few steps at a time.
constexpr hsize_t kTableChunkRows = 4096;
constexpr hsize_t kTileChunkBytes = 256 * 1024;

void writeScalar(H5::H5File& file, const char* name, const H5::DataType& type, const void* value) {
  file.createAttribute(name, type, H5::DataSpace(H5S_SCALAR)).write(type, value);
}

void writeString(H5::H5Object& object, const char* name, const std::string& value) {
  const H5::StrType type = h5::stringType();
  object.createAttribute(name, type, H5::DataSpace(H5S_SCALAR)).write(type, value);
}

// A dataset of `dims`, chunked along the first axis and gzip-compressed when it has data.
// An empty dataset stays contiguous: HDF5 needs chunks no larger than a fixed extent.
H5::DataSet createDataset(H5::H5File& file, const char* name, const H5::DataType& fileType,
                          const std::vector<hsize_t>& dims, hsize_t chunkRows) {
  H5::DataSpace space(static_cast<int>(dims.size()), dims.data());
  H5::DSetCreatPropList props;
  if (dims.front() > 0) {
    std::vector<hsize_t> chunk = dims;
    chunk.front() = std::clamp<hsize_t>(chunkRows, 1, dims.front());
    props.setChunk(static_cast<int>(chunk.size()), chunk.data());
    props.setShuffle();  // byte-shuffling makes mostly-small integers compress far better
    props.setDeflate(kDeflateLevel);
  }
  return file.createDataSet(name, fileType, space, props);
}

template <typename Row>
void writeTable(H5::H5File& file, const char* name, const H5::CompType& fileType,
                const H5::CompType& memType, const std::vector<Row>& rows) {
  H5::DataSet dataset = createDataset(file, name, fileType, {rows.size()}, kTableChunkRows);
  if (!rows.empty()) dataset.write(rows.data(), memType);
}

// A [rows x tiles x ...] array of uint64, chunked by whole rows.
void writeTileArray(H5::H5File& file, const char* name, const std::vector<uint64_t>& values,
                    std::vector<hsize_t> dims, const char* units, const char* layout) {
  hsize_t rowValues = 1;
  for (size_t i = 1; i < dims.size(); ++i) rowValues *= dims[i];
  const hsize_t chunkRows = std::max<hsize_t>(1, kTileChunkBytes / (rowValues * sizeof(uint64_t)));
  H5::DataSet dataset = createDataset(file, name, H5::PredType::STD_U64LE, dims, chunkRows);
  if (!values.empty()) dataset.write(values.data(), H5::PredType::NATIVE_UINT64);
  writeString(dataset, "units", units);
  writeString(dataset, "layout", layout);
}

void writeFile(const std::string& path, const Trace& trace) {
  H5::H5File file(path, H5F_ACC_TRUNC);
  const TraceInfo& info = trace.info;

  writeString(file, schema::kAttrFormat, std::string(schema::kFormat));
  writeScalar(file, schema::kAttrSchemaVersion, H5::PredType::STD_U32LE, &info.schemaVersion);
  writeString(file, schema::kAttrIpusimVersion, info.ipusimVersion);
  writeString(file, schema::kAttrExecutable, info.executable);
  writeString(file, schema::kAttrTarget, info.target);
  writeScalar(file, schema::kAttrClockHz, H5::PredType::IEEE_F64LE, &info.clockHz);
  writeScalar(file, schema::kAttrTiles, H5::PredType::STD_U32LE, &info.tiles);
  writeScalar(file, schema::kAttrBytesPerTile, H5::PredType::STD_U32LE, &info.bytesPerTile);

  std::vector<h5::StepH5> steps;
  steps.reserve(trace.steps.size());
  for (const StepRow& s : trace.steps)
    steps.push_back({s.run, s.step, static_cast<uint8_t>(s.kind), s.name.c_str(), s.startCycle,
                     s.cycles, s.bytes});
  writeTable(file, schema::kSteps, h5::stepFileType(), h5::stepMemType(), steps);

  file.createGroup(schema::kTilesGroup);
  const hsize_t tiles = info.tiles;
  const hsize_t computeRows = trace.computeCycles.size() / tiles;
  const hsize_t exchangeRows = trace.exchangeBytes.size() / (tiles * 2);
  writeTileArray(file, schema::kComputeCycles, trace.computeCycles, {computeRows, tiles}, "cycles",
                 "[compute step, tile]");
  writeTileArray(file, schema::kExchangeBytes, trace.exchangeBytes, {exchangeRows, tiles, 2},
                 "bytes", "[exchange step, tile, (sent, received)]");

  std::vector<h5::MemoryH5> memory;
  memory.reserve(trace.memory.size());
  for (const TileMemoryRow& m : trace.memory)
    memory.push_back({m.tile, m.code, m.vertexState, m.constants, m.variables, m.peak});
  writeTable(file, schema::kMemory, h5::memoryFileType(), h5::memoryMemType(), memory);

  std::vector<h5::RunH5> runs;
  runs.reserve(trace.runs.size());
  for (const RunRow& r : trace.runs)
    runs.push_back({r.run, r.index, r.loadCycles, r.execCycles, r.hostNs});
  writeTable(file, schema::kRuns, h5::runFileType(), h5::runMemType(), runs);

  std::vector<h5::RequestH5> requests;
  requests.reserve(trace.requests.size());
  for (const RequestRow& r : trace.requests)
    requests.push_back({r.id, r.model, r.strategy.c_str(), r.arrivalUs, r.startUs, r.finishUs,
                        r.latencyUs, static_cast<uint8_t>(r.switched ? 1 : 0)});
  writeTable(file, schema::kRequests, h5::requestFileType(), h5::requestMemType(), requests);

  file.close();
}

// "<folder>/.<name>.tmp-<pid>-<n>": same folder, so the rename is atomic; hidden and unique.
fs::path temporaryPathFor(const fs::path& target) {
  static std::atomic<unsigned> counter{0};
  const fs::path folder = target.parent_path();
  // Appended piece by piece: GCC 12 warns falsely (-Wrestrict) on "." + std::string.
  std::string name = ".";
  name += target.filename().string();
  name += ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
  return folder / name;
}

}  // namespace

void checkTracePath(const std::string& path) {
  const fs::path target(path);
  if (target.filename().empty()) throw TraceError("trace path '" + path + "' names no file");
  const fs::path folder = target.parent_path().empty() ? fs::path(".") : target.parent_path();
  std::error_code error;
  if (!fs::is_directory(folder, error))
    throw TraceError("cannot write trace " + path + ": folder " + folder.string() +
                     " does not exist");
  if (fs::is_directory(target, error))
    throw TraceError("cannot write trace " + path + ": it is a folder");
}

void writeTrace(const std::string& path, const Trace& trace) {
  checkTrace(trace);
  checkTracePath(path);
  h5::silenceErrorPrinting();
  const fs::path target(path);
  std::error_code error;
  const fs::path temporary = temporaryPathFor(target);
  try {
    writeFile(temporary.string(), trace);
    fs::rename(temporary, target);
  } catch (const H5::Exception& e) {
    fs::remove(temporary, error);
    throw TraceError("cannot write trace " + path + ": " + e.getDetailMsg());
  } catch (const fs::filesystem_error& e) {
    fs::remove(temporary, error);
    throw TraceError("cannot write trace " + path + ": " + e.code().message());
  } catch (...) {
    fs::remove(temporary, error);
    throw;
  }
}

}  // namespace ipusim
