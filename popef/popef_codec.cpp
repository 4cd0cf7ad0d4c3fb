#include "popef/popef_codec.h"

#include <algorithm>
#include <limits>
#include <set>
#include <utility>

namespace ipusim::popef::codec {
namespace {

// Bounds that keep every size computation below far from 64-bit overflow: 2^48 elements
// of at most 8 bytes is 2^51 bytes.
constexpr int kMaxRank = 32;
constexpr int64_t kMaxElements = int64_t(1) << 48;

std::string str(uint64_t v) { return std::to_string(v); }
// Built by appending: GCC 12 warns falsely (-Wrestrict) on "'" + std::string(...).
std::string quoted(std::string_view name) {
  std::string out;
  out.reserve(name.size() + 2);
  out += '\'';
  out += name;
  out += '\'';
  return out;
}

// ---- enums ---------------------------------------------------------------------------

pb::DType toProto(DType t) {
  switch (t) {
    case DType::Float32: return pb::DTYPE_FLOAT32;
    case DType::Float16: return pb::DTYPE_FLOAT16;
    case DType::Int8: return pb::DTYPE_INT8;
    case DType::UInt8: return pb::DTYPE_UINT8;
    case DType::Int32: return pb::DTYPE_INT32;
    case DType::UInt32: return pb::DTYPE_UINT32;
    case DType::Int64: return pb::DTYPE_INT64;
    case DType::Bool: return pb::DTYPE_BOOL;
  }
  fail("cannot encode dtype ", str(static_cast<unsigned>(t)));
}

// proto3 keeps enum values it does not know as plain integers, so a file written by a
// newer ipusim (or a corrupted one) reaches us with values outside the enum.
DType fromProto(int t, const std::string& what) {
  switch (t) {
    case pb::DTYPE_FLOAT32: return DType::Float32;
    case pb::DTYPE_FLOAT16: return DType::Float16;
    case pb::DTYPE_INT8: return DType::Int8;
    case pb::DTYPE_UINT8: return DType::UInt8;
    case pb::DTYPE_INT32: return DType::Int32;
    case pb::DTYPE_UINT32: return DType::UInt32;
    case pb::DTYPE_INT64: return DType::Int64;
    case pb::DTYPE_BOOL: return DType::Bool;
    default: fail(what, " has unknown dtype ", std::to_string(t));
  }
}

pb::Direction toProto(StreamDirection d) {
  return d == StreamDirection::HostToDevice ? pb::DIRECTION_HOST_TO_DEVICE
                                            : pb::DIRECTION_DEVICE_TO_HOST;
}

StreamDirection directionFromProto(int d, const std::string& what) {
  switch (d) {
    case pb::DIRECTION_HOST_TO_DEVICE: return StreamDirection::HostToDevice;
    case pb::DIRECTION_DEVICE_TO_HOST: return StreamDirection::DeviceToHost;
    default: fail(what, " has unknown direction ", std::to_string(d));
  }
}

pb::ProgramKind toProto(ProgramKind k) {
  switch (k) {
    case ProgramKind::Sequence: return pb::PROGRAM_KIND_SEQUENCE;
    case ProgramKind::Execute: return pb::PROGRAM_KIND_EXECUTE;
    case ProgramKind::Exchange: return pb::PROGRAM_KIND_EXCHANGE;
    case ProgramKind::StreamCopy: return pb::PROGRAM_KIND_STREAM_COPY;
    case ProgramKind::Switch: return pb::PROGRAM_KIND_SWITCH;
    case ProgramKind::Repeat: return pb::PROGRAM_KIND_REPEAT;
    case ProgramKind::Sync: return pb::PROGRAM_KIND_SYNC;
  }
  fail("cannot encode program kind ", str(static_cast<unsigned>(k)));
}

// ---- checked numbers -----------------------------------------------------------------

// Elements of a shape read from the file; refuses negative dimensions and counts that
// would overflow later byte computations.
int64_t checkedElementCount(const google::protobuf::RepeatedField<int64_t>& shape,
                            const std::string& what) {
  if (shape.size() > kMaxRank)
    fail(what, " has rank ", str(shape.size()), " (the limit is ", str(kMaxRank), ")");
  int64_t count = 1;
  for (int64_t d : shape) {
    if (d < 0) fail(what, " has a negative dimension (", std::to_string(d), ")");
    if (d != 0 && count > kMaxElements / d)
      fail(what, " has more than 2^48 elements");
    count *= d;
  }
  return count;
}

std::string shapeFromProto(const google::protobuf::RepeatedField<int64_t>& shape) {
  return shapeString(Shape(shape.begin(), shape.end()));
}

// `describe(field)` names the value for the message; it runs only on a fault.
template <typename Describe>
uint32_t narrow32(uint64_t v, const Describe& describe, const char* field) {
  if (v > std::numeric_limits<uint32_t>::max())
    fail(describe(field), " is ", str(v), ", more than a 32-bit value");
  return static_cast<uint32_t>(v);
}

// ---- programs ------------------------------------------------------------------------

void encodeProgram(const Program& p, pb::Program& out, int depth) {
  if (depth > kMaxProgramDepth)
    fail("the program tree is nested deeper than ", str(kMaxProgramDepth), " levels");
  out.set_kind(toProto(p.kind));
  out.set_ref(p.ref);
  out.set_has_default(p.hasDefault);
  out.set_count(p.count);
  for (int64_t v : p.caseValues) out.add_case_values(v);
  for (const Program& child : p.body) encodeProgram(child, *out.add_body(), depth + 1);
}

Program decodeProgram(const pb::Program& in, const Executable& exe, const std::string& path,
                      int depth) {
  if (depth > kMaxProgramDepth)
    fail("program ", path, " is nested deeper than ", str(kMaxProgramDepth), " levels");
  Program p;
  p.ref = in.ref();
  p.hasDefault = in.has_default();
  p.count = in.count();
  p.caseValues.assign(in.case_values().begin(), in.case_values().end());
  auto checkRef = [&](size_t size, const char* what) {
    if (p.ref >= size)
      fail("program ", path, " refers to ", what, " ", str(p.ref), " but there are ", str(size));
  };
  auto checkBody = [&](size_t expected, const char* kind) {
    if (static_cast<size_t>(in.body_size()) != expected)
      fail("program ", path, ": ", kind, " has ", str(in.body_size()), " bodies, expected ",
           str(expected));
  };
  switch (in.kind()) {
    case pb::PROGRAM_KIND_SEQUENCE: p.kind = ProgramKind::Sequence; break;
    case pb::PROGRAM_KIND_EXECUTE:
      p.kind = ProgramKind::Execute;
      checkRef(exe.computeSets.size(), "compute set");
      checkBody(0, "Execute");
      break;
    case pb::PROGRAM_KIND_EXCHANGE:
      p.kind = ProgramKind::Exchange;
      checkRef(exe.exchanges.size(), "exchange");
      checkBody(0, "Exchange");
      break;
    case pb::PROGRAM_KIND_STREAM_COPY:
      p.kind = ProgramKind::StreamCopy;
      checkRef(exe.streams.size(), "stream");
      checkBody(0, "StreamCopy");
      break;
    case pb::PROGRAM_KIND_SWITCH:
      p.kind = ProgramKind::Switch;
      checkRef(exe.variables.size(), "variable");
      checkBody(p.caseValues.size() + (p.hasDefault ? 1 : 0), "Switch");
      break;
    case pb::PROGRAM_KIND_REPEAT:
      p.kind = ProgramKind::Repeat;
      checkBody(1, "Repeat");
      break;
    case pb::PROGRAM_KIND_SYNC:
      p.kind = ProgramKind::Sync;
      checkBody(0, "Sync");
      break;
    default: fail("program ", path, " has unknown kind ", std::to_string(in.kind()));
  }
  p.body.reserve(static_cast<size_t>(in.body_size()));
  for (int i = 0; i < in.body_size(); ++i)
    p.body.push_back(decodeProgram(in.body(i), exe, path + "/" + std::to_string(i), depth + 1));
  return p;
}

// Marks in `used` every stream the tree copies.
void markStreams(const Program& p, std::vector<bool>& used) {
  if (p.kind == ProgramKind::StreamCopy && p.ref < used.size()) used[p.ref] = true;
  for (const Program& child : p.body) markStreams(child, used);
}

// Per stream, the entry programs that copy it, in the order load, main.
std::vector<std::vector<pb::ProgramName>> streamPrograms(const Executable& exe) {
  std::vector<bool> inLoad(exe.streams.size()), inMain(exe.streams.size());
  markStreams(exe.load, inLoad);
  markStreams(exe.main, inMain);
  std::vector<std::vector<pb::ProgramName>> out(exe.streams.size());
  for (size_t i = 0; i < out.size(); ++i) {
    if (inLoad[i]) out[i].push_back(pb::PROGRAM_NAME_LOAD);
    if (inMain[i]) out[i].push_back(pb::PROGRAM_NAME_MAIN);
  }
  return out;
}

}  // namespace

// ---- encoding ------------------------------------------------------------------------

std::vector<std::string> tensorDataNames(const Executable& exe) {
  std::vector<std::string> names(exe.variables.size());
  std::set<std::string> taken;
  for (size_t i = 0; i < exe.variables.size(); ++i) {
    const Variable& v = exe.variables[i];
    if (v.kind != VariableKind::Constant) continue;
    std::string name = v.name;
    if (name.empty() || taken.count(name)) name = v.name + "#" + std::to_string(v.id);
    if (!taken.insert(name).second)
      fail("constant variables ", quoted(v.name), " share the id ", str(v.id),
           " and cannot be given distinct TensorData blobs");
    names[i] = std::move(name);
  }
  return names;
}

void encodeMetadata(const Executable& exe, pb::Metadata& out) {
  const Target& t = exe.target;
  pb::Target& pt = *out.mutable_target();
  pt.set_name(t.name);
  pt.set_tiles(t.tiles);
  pt.set_bytes_per_tile(t.bytesPerTile);
  pt.set_clock_hz(t.clockHz);
  pt.set_worker_contexts(t.workerContexts);
  pt.set_amp_fp16_fp16_macs_per_cycle(t.ampFp16Fp16MacsPerCycle);
  pt.set_amp_fp16_fp32_macs_per_cycle(t.ampFp16Fp32MacsPerCycle);
  pt.set_amp_fp32_macs_per_cycle(t.ampFp32MacsPerCycle);
  pt.set_vector_fp32_lanes(t.vectorFp32Lanes);
  pt.set_vector_fp16_lanes(t.vectorFp16Lanes);
  pt.set_local_memory_latency_cycles(t.localMemoryLatencyCycles);
  pt.set_exchange_bytes_per_cycle(t.exchangeBytesPerCycle);
  pt.set_exchange_fixed_cycles(t.exchangeFixedCycles);
  pt.set_sync_cycles(t.syncCycles);
  pt.set_vertex_launch_cycles(t.vertexLaunchCycles);
  pt.set_host_link_bytes_per_second(t.hostLinkBytesPerSecond);
  pt.set_host_transfer_latency_seconds(t.hostTransferLatencySeconds);
  pt.set_load_fixed_seconds(t.loadFixedSeconds);
  out.set_ipu_version(t.name);

  auto programs = streamPrograms(exe);
  for (size_t i = 0; i < exe.streams.size(); ++i) {
    const HostStream& s = exe.streams[i];
    if (s.variable >= exe.variables.size())
      fail("stream ", quoted(s.anchor), " refers to variable ", str(s.variable), " but there are ",
           str(exe.variables.size()));
    const Variable& v = exe.variables[s.variable];
    pb::Anchor& a = *out.add_anchors();
    a.set_name(s.anchor);
    a.set_handle(static_cast<uint32_t>(i));
    a.set_dtype(toProto(v.dtype));
    for (int64_t d : s.shape) a.add_shape(d);
    a.set_direction(toProto(s.direction));
    for (pb::ProgramName p : programs[i]) a.add_programs(p);
    a.set_variable(s.variable);
  }
  encodeProgram(exe.load, *out.mutable_program_flow()->mutable_load(), 0);
  encodeProgram(exe.main, *out.mutable_program_flow()->mutable_main(), 0);
}

void encodeExecutable(const Executable& exe, const std::vector<std::string>& dataBlobNames,
                      pb::Executable& out) {
  for (const std::string& c : exe.codelets) out.add_codelets(c);
  for (size_t i = 0; i < exe.variables.size(); ++i) {
    const Variable& v = exe.variables[i];
    pb::Variable& pv = *out.add_variables();
    pv.set_id(v.id);
    pv.set_name(v.name);
    pv.set_dtype(toProto(v.dtype));
    for (int64_t d : v.shape) pv.add_shape(d);
    pv.set_kind(v.kind == VariableKind::Constant ? pb::VARIABLE_KIND_CONSTANT
                                                 : pb::VARIABLE_KIND_VARIABLE);
    pv.mutable_mapping()->Reserve(static_cast<int>(v.mapping.size() * 4));
    for (const TileInterval& m : v.mapping) {
      pv.add_mapping(m.tile);
      pv.add_mapping(m.tileOffset);
      pv.add_mapping(m.firstElement);
      pv.add_mapping(m.elementCount);
    }
    if (v.kind == VariableKind::Constant) {
      // The reader demands exactly elementCount * dtypeSize bytes; refuse to write a file
      // it would refuse to read.
      int64_t elements = elementCount(v.shape);
      uint64_t expected = static_cast<uint64_t>(elements) * dtypeSize(v.dtype);
      if (elements < 0 || v.data.size() != expected)
        fail("constant ", quoted(v.name), " holds ", str(v.data.size()), " bytes but its shape ",
             shapeString(v.shape), " of ", std::string(dtypeName(v.dtype)), " needs ", str(expected));
      pv.set_data_blob(dataBlobNames.at(i));
    }
  }
  for (const ComputeSet& cs : exe.computeSets) {
    pb::ComputeSet& pcs = *out.add_compute_sets();
    pcs.set_name(cs.name);
    pcs.mutable_vertices()->Reserve(static_cast<int>(cs.vertices.size()));
    for (const Vertex& v : cs.vertices) {
      pb::Vertex& pv = *pcs.add_vertices();
      pv.set_codelet(v.codelet);
      pv.set_tile(v.tile);
      for (const auto& field : v.fields) {
        auto& regions = *pv.add_fields()->mutable_regions();
        regions.Reserve(static_cast<int>(field.size() * 2));
        for (const Region& r : field) {
          regions.Add(r.offset);
          regions.Add(r.bytes);
        }
      }
      for (int64_t s : v.scalars) pv.add_scalars(s);
    }
  }
  for (const Exchange& ex : exe.exchanges) {
    pb::Exchange& pex = *out.add_exchanges();
    pex.set_name(ex.name);
    auto& copies = *pex.mutable_copies();
    copies.Reserve(static_cast<int>(ex.copies.size() * 5));
    for (const Copy& c : ex.copies) {
      copies.Add(c.srcTile);
      copies.Add(c.srcOffset);
      copies.Add(c.dstTile);
      copies.Add(c.dstOffset);
      copies.Add(c.bytes);
    }
  }
  for (const HostStream& s : exe.streams) {
    pb::HostStream& ps = *out.add_streams();
    ps.set_anchor(s.anchor);
    ps.set_direction(toProto(s.direction));
    ps.set_variable(s.variable);
    for (int64_t d : s.shape) ps.add_shape(d);
  }
  for (const TileMemoryUsage& m : exe.tileMemory) {
    pb::TileMemoryUsage& pm = *out.add_tile_memory();
    pm.set_tile(m.tile);
    pm.set_code(m.code);
    pm.set_vertex_state(m.vertexState);
    pm.set_constants(m.constants);
    pm.set_variables(m.variables);
  }
}

void encodeFusion(const FusionInfo& fusion, pb::Fusion& out) {
  out.set_index_anchor(fusion.indexAnchor);
  for (const SubgraphInfo& sg : fusion.subgraphs) {
    pb::Subgraph& ps = *out.add_subgraphs();
    ps.set_index(sg.index);
    ps.set_source_model(sg.sourceModel);
    ps.set_precision(sg.precision);
    for (const std::string& a : sg.inputs) ps.add_inputs(a);
    for (const std::string& a : sg.outputs) ps.add_outputs(a);
    for (const auto& [alias, anchor] : sg.aliases) {
      pb::Alias& pa = *ps.add_aliases();
      pa.set_alias(alias);
      pa.set_anchor(anchor);
    }
  }
}

// ---- decoding ------------------------------------------------------------------------

Target decodeTarget(const pb::Metadata& metadata) {
  if (!metadata.has_target()) fail("the metadata has no target");
  const pb::Target& pt = metadata.target();
  Target t;
  t.name = pt.name();
  t.tiles = pt.tiles();
  t.bytesPerTile = pt.bytes_per_tile();
  t.clockHz = pt.clock_hz();
  t.workerContexts = pt.worker_contexts();
  t.ampFp16Fp16MacsPerCycle = pt.amp_fp16_fp16_macs_per_cycle();
  t.ampFp16Fp32MacsPerCycle = pt.amp_fp16_fp32_macs_per_cycle();
  t.ampFp32MacsPerCycle = pt.amp_fp32_macs_per_cycle();
  t.vectorFp32Lanes = pt.vector_fp32_lanes();
  t.vectorFp16Lanes = pt.vector_fp16_lanes();
  t.localMemoryLatencyCycles = pt.local_memory_latency_cycles();
  t.exchangeBytesPerCycle = pt.exchange_bytes_per_cycle();
  t.exchangeFixedCycles = pt.exchange_fixed_cycles();
  t.syncCycles = pt.sync_cycles();
  t.vertexLaunchCycles = pt.vertex_launch_cycles();
  t.hostLinkBytesPerSecond = pt.host_link_bytes_per_second();
  t.hostTransferLatencySeconds = pt.host_transfer_latency_seconds();
  t.loadFixedSeconds = pt.load_fixed_seconds();

  if (t.name.empty()) fail("the target has no name");
  if (metadata.ipu_version() != t.name)
    fail("ipu_version ", quoted(metadata.ipu_version()), " differs from the target name ",
         quoted(t.name));
  return t;
}

void decodeExecutable(const pb::Executable& in, Executable& exe,
                      std::vector<std::string>& dataBlobs) {
  exe.codelets.assign(in.codelets().begin(), in.codelets().end());
  for (size_t i = 0; i < exe.codelets.size(); ++i)
    if (exe.codelets[i].empty()) fail("codelet ", str(i), " has no name");

  exe.variables.reserve(static_cast<size_t>(in.variables_size()));
  dataBlobs.assign(static_cast<size_t>(in.variables_size()), std::string());
  for (int i = 0; i < in.variables_size(); ++i) {
    const pb::Variable& pv = in.variables(i);
    std::string what = "variable " + str(static_cast<uint64_t>(i)) + " " + quoted(pv.name());
    Variable v;
    v.id = pv.id();
    v.name = pv.name();
    v.dtype = fromProto(pv.dtype(), what);
    checkedElementCount(pv.shape(), what);
    v.shape.assign(pv.shape().begin(), pv.shape().end());
    switch (pv.kind()) {
      case pb::VARIABLE_KIND_CONSTANT: v.kind = VariableKind::Constant; break;
      case pb::VARIABLE_KIND_VARIABLE: v.kind = VariableKind::Variable; break;
      default: fail(what, " has unknown kind ", std::to_string(pv.kind()));
    }
    if (pv.mapping_size() % 4 != 0)
      fail(what, " has a tile mapping of ", str(pv.mapping_size()), " numbers, not a multiple of 4");
    v.mapping.reserve(static_cast<size_t>(pv.mapping_size() / 4));
    for (int k = 0; k < pv.mapping_size(); k += 4) {
      auto where = [&](const char* field) {
        return what + " interval " + str(static_cast<uint64_t>(k / 4)) + " " + field;
      };
      TileInterval m;
      m.tile = narrow32(pv.mapping(k), where, "tile");
      m.tileOffset = narrow32(pv.mapping(k + 1), where, "offset");
      m.firstElement = pv.mapping(k + 2);
      m.elementCount = pv.mapping(k + 3);
      v.mapping.push_back(m);
    }
    if (v.kind == VariableKind::Constant) {
      if (pv.data_blob().empty()) fail(what, " is a constant without a TensorData blob");
      dataBlobs[static_cast<size_t>(i)] = pv.data_blob();
    } else if (!pv.data_blob().empty()) {
      fail(what, " is not a constant but names TensorData blob ", quoted(pv.data_blob()));
    }
    exe.variables.push_back(std::move(v));
  }

  exe.computeSets.reserve(static_cast<size_t>(in.compute_sets_size()));
  for (int i = 0; i < in.compute_sets_size(); ++i) {
    const pb::ComputeSet& pcs = in.compute_sets(i);
    ComputeSet cs;
    cs.name = pcs.name();
    cs.vertices.reserve(static_cast<size_t>(pcs.vertices_size()));
    for (int k = 0; k < pcs.vertices_size(); ++k) {
      const pb::Vertex& pv = pcs.vertices(k);
      // Built only on a fault: a compiled model can have millions of vertices.
      auto what = [&] { return "compute set " + quoted(cs.name) + " vertex " + str(static_cast<uint64_t>(k)); };
      Vertex v;
      v.codelet = pv.codelet();
      v.tile = pv.tile();
      if (v.codelet >= exe.codelets.size())
        fail(what(), " uses codelet ", str(v.codelet), " but there are ", str(exe.codelets.size()));
      v.fields.reserve(static_cast<size_t>(pv.fields_size()));
      for (int f = 0; f < pv.fields_size(); ++f) {
        const auto& regions = pv.fields(f).regions();
        if (regions.size() % 2 != 0)
          fail(what(), " field ", str(static_cast<uint64_t>(f)), " has an odd count of region numbers");
        std::vector<Region> field;
        field.reserve(static_cast<size_t>(regions.size() / 2));
        for (int r = 0; r < regions.size(); r += 2) field.push_back(Region{regions[r], regions[r + 1]});
        v.fields.push_back(std::move(field));
      }
      v.scalars.assign(pv.scalars().begin(), pv.scalars().end());
      cs.vertices.push_back(std::move(v));
    }
    exe.computeSets.push_back(std::move(cs));
  }

  exe.exchanges.reserve(static_cast<size_t>(in.exchanges_size()));
  for (int i = 0; i < in.exchanges_size(); ++i) {
    const pb::Exchange& pex = in.exchanges(i);
    Exchange ex;
    ex.name = pex.name();
    const auto& n = pex.copies();
    if (n.size() % 5 != 0)
      fail("exchange ", quoted(ex.name), " has ", str(n.size()), " copy numbers, not a multiple of 5");
    ex.copies.reserve(static_cast<size_t>(n.size() / 5));
    for (int k = 0; k < n.size(); k += 5) {
      ex.copies.push_back(Copy{n[k], n[k + 1], n[k + 2], n[k + 3], n[k + 4]});
    }
    exe.exchanges.push_back(std::move(ex));
  }

  std::set<std::pair<std::string, StreamDirection>> seenStreams;
  for (int i = 0; i < in.streams_size(); ++i) {
    const pb::HostStream& ps = in.streams(i);
    std::string what = "stream " + str(static_cast<uint64_t>(i)) + " " + quoted(ps.anchor());
    HostStream s;
    s.anchor = ps.anchor();
    s.direction = directionFromProto(ps.direction(), what);
    s.variable = ps.variable();
    if (s.anchor.empty()) fail(what, " has no anchor name");
    if (s.variable >= exe.variables.size())
      fail(what, " refers to variable ", str(s.variable), " but there are ", str(exe.variables.size()));
    // The anchor may view its variable with another shape, never with other elements.
    const Variable& v = exe.variables[s.variable];
    int64_t anchorElements = checkedElementCount(ps.shape(), what);
    if (anchorElements != elementCount(v.shape))
      fail(what, " has shape ", shapeFromProto(ps.shape()), " but its variable ", quoted(v.name),
           " has ", shapeString(v.shape));
    s.shape.assign(ps.shape().begin(), ps.shape().end());
    if (!seenStreams.insert({s.anchor, s.direction}).second)
      fail("two streams carry anchor ", quoted(s.anchor), " in the same direction");
    exe.streams.push_back(std::move(s));
  }

  std::set<uint32_t> seenTiles;
  for (const pb::TileMemoryUsage& pm : in.tile_memory()) {
    TileMemoryUsage m{pm.tile(), pm.code(), pm.vertex_state(), pm.constants(), pm.variables()};
    if (!seenTiles.insert(m.tile).second) fail("memory usage of tile ", str(m.tile), " is listed twice");
    exe.tileMemory.push_back(m);
  }
}

void decodeProgramsAndAnchors(const pb::Metadata& metadata, Executable& exe) {
  if (!metadata.has_program_flow() || !metadata.program_flow().has_load() ||
      !metadata.program_flow().has_main())
    fail("the metadata lacks the load or main program");
  exe.load = decodeProgram(metadata.program_flow().load(), exe, "load", 0);
  exe.main = decodeProgram(metadata.program_flow().main(), exe, "main", 0);

  // The anchors repeat what the streams say, so both must agree exactly.
  if (static_cast<size_t>(metadata.anchors_size()) != exe.streams.size())
    fail("the metadata lists ", str(metadata.anchors_size()), " anchors but the executable has ",
         str(exe.streams.size()), " streams");
  auto programs = streamPrograms(exe);
  for (int i = 0; i < metadata.anchors_size(); ++i) {
    const pb::Anchor& a = metadata.anchors(i);
    const HostStream& s = exe.streams[static_cast<size_t>(i)];
    std::string what = "anchor " + quoted(a.name());
    if (a.name() != s.anchor || a.handle() != static_cast<uint32_t>(i))
      fail(what, " (handle ", str(a.handle()), ") does not match stream ", str(static_cast<uint64_t>(i)),
           " ", quoted(s.anchor));
    if (directionFromProto(a.direction(), what) != s.direction)
      fail(what, " has a different direction than its stream");
    if (a.variable() != s.variable) fail(what, " names a different variable than its stream");
    const Variable& v = exe.variables[s.variable];
    if (fromProto(a.dtype(), what) != v.dtype) fail(what, " has a different dtype than its variable");
    if (!std::equal(a.shape().begin(), a.shape().end(), s.shape.begin(), s.shape.end()))
      fail(what, " has a different shape than its stream");
    for (int p : a.programs())
      if (p != pb::PROGRAM_NAME_LOAD && p != pb::PROGRAM_NAME_MAIN)
        fail(what, " names unknown program ", std::to_string(p));
    const auto& expected = programs[static_cast<size_t>(i)];
    if (!std::equal(a.programs().begin(), a.programs().end(), expected.begin(), expected.end()))
      fail(what, " lists programs that do not match the stream copies of load and main");
  }
}

void attachTensorData(const std::map<std::string, std::string_view>& tensorData,
                      const std::vector<std::string>& dataBlobs, Executable& exe) {
  std::set<std::string> claimed;
  for (size_t i = 0; i < exe.variables.size(); ++i) {
    if (dataBlobs[i].empty()) continue;
    Variable& v = exe.variables[i];
    auto it = tensorData.find(dataBlobs[i]);
    if (it == tensorData.end())
      fail("constant ", quoted(v.name), ": TensorData blob ", quoted(dataBlobs[i]), " is missing");
    if (!claimed.insert(dataBlobs[i]).second)
      fail("TensorData blob ", quoted(dataBlobs[i]), " is claimed by two constants");
    // Shapes were bounded by decodeExecutable, so this product cannot overflow.
    uint64_t expected = static_cast<uint64_t>(elementCount(v.shape)) * dtypeSize(v.dtype);
    if (it->second.size() != expected)
      fail("TensorData blob ", quoted(dataBlobs[i]), " holds ", str(it->second.size()),
           " bytes but constant ", quoted(v.name), " ", shapeString(v.shape), " of ",
           std::string(dtypeName(v.dtype)), " needs ", str(expected));
    v.data.assign(it->second.begin(), it->second.end());
  }
  for (const auto& entry : tensorData)
    if (!claimed.count(entry.first))
      fail("TensorData blob ", quoted(entry.first), " belongs to no constant variable");
}

void decodeFusion(const pb::Fusion& in, Executable& exe) {
  FusionInfo& f = exe.fusion;
  f.indexAnchor = in.index_anchor();
  auto findAnchor = [&](const std::string& name, StreamDirection d) {
    for (const HostStream& s : exe.streams)
      if (s.anchor == name && s.direction == d) return true;
    return false;
  };
  if (in.subgraphs_size() == 0) fail("the fusion blob lists no subgraphs");
  if (!findAnchor(f.indexAnchor, StreamDirection::HostToDevice))
    fail("the fusion index anchor ", quoted(f.indexAnchor), " is not an input anchor");
  std::set<uint32_t> indices;
  for (const pb::Subgraph& ps : in.subgraphs()) {
    SubgraphInfo sg;
    sg.index = ps.index();
    std::string what = "fusion subgraph " + str(sg.index);
    if (!indices.insert(sg.index).second) fail(what, " is listed twice");
    sg.sourceModel = ps.source_model();
    sg.precision = ps.precision();
    if (sg.precision.empty()) fail(what, " has no precision");
    for (const std::string& a : ps.inputs()) {
      if (!findAnchor(a, StreamDirection::HostToDevice))
        fail(what, " input ", quoted(a), " is not an input anchor");
      sg.inputs.push_back(a);
    }
    for (const std::string& a : ps.outputs()) {
      if (!findAnchor(a, StreamDirection::DeviceToHost))
        fail(what, " output ", quoted(a), " is not an output anchor");
      sg.outputs.push_back(a);
    }
    for (const pb::Alias& pa : ps.aliases()) {
      if (pa.alias().empty()) fail(what, " has an empty alias");
      if (!findAnchor(pa.anchor(), StreamDirection::HostToDevice) &&
          !findAnchor(pa.anchor(), StreamDirection::DeviceToHost))
        fail(what, " alias ", quoted(pa.alias()), " names unknown anchor ", quoted(pa.anchor()));
      sg.aliases.emplace_back(pa.alias(), pa.anchor());
    }
    f.subgraphs.push_back(std::move(sg));
  }
}

}  // namespace ipusim::popef::codec
