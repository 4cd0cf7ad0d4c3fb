// Listings of a .popef in the spirit of Graphcore's popef_dump: header and blobs, target,
// anchors, opaques (the fusion description), programs, and memory per tile. The text and
// JSON forms are built from the same summaries so they cannot drift apart.
#include "popef/popef_dump.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "popef/json_writer.h"

namespace ipusim::popef {
namespace {

// With more tiles than this in use, the text listing shows the first and the busiest
// kDumpTilesEach tiles only (the JSON always lists all of them).
constexpr size_t kDumpTileLimit = 32;
constexpr size_t kDumpTilesEach = 16;

std::string blobTypeName(BlobType t) {
  switch (t) {
    case BlobType::Metadata: return "Metadata";
    case BlobType::Executable: return "Executable";
    case BlobType::TensorData: return "TensorData";
    case BlobType::Opaque: return "Opaque";
  }
  return "Unknown";
}

std::string directionName(StreamDirection d) {
  return d == StreamDirection::HostToDevice ? "input" : "output";
}

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

// A number with up to `digits` significant digits and no trailing zeros ("1.325", "31.5").
std::string shortNumber(double v, int digits = 6) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  return buf;
}

// "1 vertex", "2 vertices".
std::string counted(uint64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string join(const std::vector<std::string>& items, const char* sep = ", ") {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += sep;
    out += items[i];
  }
  return out;
}

// Text padded to `width` on the left (numbers) or the right (names).
std::string padLeft(const std::string& s, size_t width) {
  return s.size() >= width ? s : std::string(width - s.size(), ' ') + s;
}
std::string padRight(const std::string& s, size_t width) {
  return s.size() >= width ? s : s + std::string(width - s.size(), ' ');
}

// Prints rows as columns separated by two spaces; `numeric[c]` right-aligns column c.
void printTable(std::ostream& os, const std::string& indent, const std::vector<std::vector<std::string>>& rows,
                const std::vector<bool>& numeric) {
  std::vector<size_t> widths(numeric.size(), 0);
  for (const auto& row : rows)
    for (size_t c = 0; c < row.size() && c < widths.size(); ++c) widths[c] = std::max(widths[c], row[c].size());
  for (const auto& row : rows) {
    std::string line = indent;
    for (size_t c = 0; c < row.size(); ++c) {
      if (c) line += "  ";
      bool last = c + 1 == row.size();
      line += numeric[c] ? padLeft(row[c], widths[c]) : (last ? row[c] : padRight(row[c], widths[c]));
    }
    line.erase(line.find_last_not_of(' ') + 1);  // empty trailing cells leave no blanks
    os << line << '\n';
  }
}

// ---- summaries shared by both listings ------------------------------------------------

struct AnchorRow {
  std::string name;
  uint32_t handle = 0;
  std::string dtype;
  Shape shape;
  std::string direction;
  std::vector<std::string> programs;
  std::optional<uint32_t> subgraph;  // fused executables: the subgraph it belongs to
};

// Which entry programs copy each stream.
void markStreams(const Program& p, std::vector<bool>& used, size_t depth = 0) {
  if (depth > 1000) return;  // hand-built trees only; decoded ones are at most 64 deep
  if (p.kind == ProgramKind::StreamCopy && p.ref < used.size()) used[p.ref] = true;
  for (const Program& child : p.body) markStreams(child, used, depth + 1);
}

std::vector<AnchorRow> anchorRows(const Executable& exe) {
  std::map<std::string, uint32_t> subgraphOf;
  for (const SubgraphInfo& sg : exe.fusion.subgraphs) {
    for (const std::string& a : sg.inputs) subgraphOf.emplace(a, sg.index);
    for (const std::string& a : sg.outputs) subgraphOf.emplace(a, sg.index);
  }
  std::vector<bool> inLoad(exe.streams.size()), inMain(exe.streams.size());
  markStreams(exe.load, inLoad);
  markStreams(exe.main, inMain);
  std::vector<AnchorRow> rows;
  for (size_t i = 0; i < exe.streams.size(); ++i) {
    const HostStream& s = exe.streams[i];
    AnchorRow row;
    row.name = s.anchor;
    row.handle = static_cast<uint32_t>(i);
    // The anchor's shape is the stream's (it may view its variable reshaped); the dtype
    // is the variable's.
    row.shape = s.shape;
    row.dtype = s.variable < exe.variables.size() ? std::string(dtypeName(exe.variables[s.variable].dtype)) : "?";
    row.direction = directionName(s.direction);
    if (inLoad[i]) row.programs.push_back("load");
    if (inMain[i]) row.programs.push_back("main");
    if (auto it = subgraphOf.find(s.anchor); it != subgraphOf.end()) row.subgraph = it->second;
    rows.push_back(std::move(row));
  }
  return rows;
}

struct MemoryRow {
  uint32_t tile = 0;
  uint64_t code = 0, vertexState = 0, constants = 0, variables = 0;
  uint64_t peak() const { return code + vertexState + constants + variables; }
};

struct MemorySummary {
  std::vector<MemoryRow> tiles;  // sorted by tile
  MemoryRow totals;
  std::optional<MemoryRow> busiest;
  uint64_t bytesPerTile = 0;
};

MemorySummary memorySummary(const Executable& exe) {
  MemorySummary m;
  m.bytesPerTile = exe.target.bytesPerTile;
  for (const TileMemoryUsage& u : exe.tileMemory) {
    MemoryRow row{u.tile, u.code, u.vertexState, u.constants, u.variables};
    if (row.peak() == 0) continue;  // "every tile that holds something"
    m.tiles.push_back(row);
    m.totals.code += row.code;
    m.totals.vertexState += row.vertexState;
    m.totals.constants += row.constants;
    m.totals.variables += row.variables;
  }
  std::sort(m.tiles.begin(), m.tiles.end(), [](const MemoryRow& a, const MemoryRow& b) { return a.tile < b.tile; });
  for (const MemoryRow& row : m.tiles)
    if (!m.busiest || row.peak() > m.busiest->peak()) m.busiest = row;
  return m;
}

int64_t headroom(const MemoryRow& row, uint64_t bytesPerTile) {
  return static_cast<int64_t>(bytesPerTile) - static_cast<int64_t>(row.peak());
}

// ---- program descriptions ---------------------------------------------------------------

const ComputeSet* computeSetOf(const Executable& exe, const Program& p) {
  return p.ref < exe.computeSets.size() ? &exe.computeSets[p.ref] : nullptr;
}
const Exchange* exchangeOf(const Executable& exe, const Program& p) {
  return p.ref < exe.exchanges.size() ? &exe.exchanges[p.ref] : nullptr;
}
const HostStream* streamOf(const Executable& exe, const Program& p) {
  return p.ref < exe.streams.size() ? &exe.streams[p.ref] : nullptr;
}
std::string variableNameOf(const Executable& exe, uint32_t ref) {
  return ref < exe.variables.size() ? exe.variables[ref].name : "variable " + std::to_string(ref) + "?";
}
uint64_t exchangeBytes(const Exchange& ex) {
  uint64_t bytes = 0;
  for (const Copy& c : ex.copies) bytes += c.bytes;
  return bytes;
}

std::string programLine(const Executable& exe, const Program& p) {
  switch (p.kind) {
    case ProgramKind::Sequence: return "Sequence";
    case ProgramKind::Execute: {
      const ComputeSet* cs = computeSetOf(exe, p);
      if (!cs) return "Execute(compute set " + std::to_string(p.ref) + "?)";
      return "Execute(" + cs->name + ", " + counted(cs->vertices.size(), "vertex", "vertices") + ")";
    }
    case ProgramKind::Exchange: {
      const Exchange* ex = exchangeOf(exe, p);
      if (!ex) return "Exchange(exchange " + std::to_string(p.ref) + "?)";
      return "Exchange(" + ex->name + ", " + counted(ex->copies.size(), "copy", "copies") + ", " +
             counted(exchangeBytes(*ex), "byte", "bytes") + ")";
    }
    case ProgramKind::StreamCopy: {
      const HostStream* s = streamOf(exe, p);
      if (!s) return "StreamCopy(stream " + std::to_string(p.ref) + "?)";
      return "StreamCopy(" + s->anchor + ", " + directionName(s->direction) + ")";
    }
    case ProgramKind::Switch: {
      std::vector<std::string> cases;
      for (int64_t v : p.caseValues) cases.push_back(std::to_string(v));
      if (p.hasDefault) cases.push_back("default");
      return "Switch(on " + variableNameOf(exe, p.ref) + "; cases " + join(cases) + ")";
    }
    case ProgramKind::Repeat: return "Repeat(" + std::to_string(p.count) + ")";
    case ProgramKind::Sync: return "Sync";
  }
  return "Unknown";
}

void printProgram(std::ostream& os, const Executable& exe, const Program& p, size_t depth) {
  std::string indent(2 * depth, ' ');
  os << indent << programLine(exe, p) << '\n';
  if (depth > 1000) return;
  if (p.kind == ProgramKind::Switch) {
    // Label each body with its case so the tree reads like the source switch.
    for (size_t i = 0; i < p.body.size(); ++i) {
      std::string label = i < p.caseValues.size() ? "case " + std::to_string(p.caseValues[i]) : "default";
      os << indent << "  " << label << ":\n";
      printProgram(os, exe, p.body[i], depth + 2);
    }
    return;
  }
  for (const Program& child : p.body) printProgram(os, exe, child, depth + 1);
}

void writeProgramJson(json::Writer& w, const Executable& exe, const Program& p, size_t depth) {
  w.beginObject();
  switch (p.kind) {
    case ProgramKind::Sequence:
      w.field("kind", "Sequence");
      w.key("body").beginArray();
      if (depth <= 1000)
        for (const Program& child : p.body) writeProgramJson(w, exe, child, depth + 1);
      w.endArray();
      break;
    case ProgramKind::Execute: {
      w.field("kind", "Execute");
      const ComputeSet* cs = computeSetOf(exe, p);
      w.field("compute_set", cs ? cs->name : "?");
      w.field("vertices", cs ? cs->vertices.size() : 0);
      break;
    }
    case ProgramKind::Exchange: {
      w.field("kind", "Exchange");
      const Exchange* ex = exchangeOf(exe, p);
      w.field("exchange", ex ? ex->name : "?");
      w.field("copies", ex ? ex->copies.size() : 0);
      w.field("bytes", ex ? exchangeBytes(*ex) : 0);
      break;
    }
    case ProgramKind::StreamCopy: {
      w.field("kind", "StreamCopy");
      const HostStream* s = streamOf(exe, p);
      w.field("anchor", s ? s->anchor : "?");
      w.field("direction", s ? directionName(s->direction) : "?");
      break;
    }
    case ProgramKind::Switch:
      w.field("kind", "Switch");
      w.field("variable", variableNameOf(exe, p.ref));
      w.key("cases").beginArray();
      for (size_t i = 0; i < p.caseValues.size() && i < p.body.size(); ++i) {
        w.beginObject().field("value", p.caseValues[i]).key("body");
        writeProgramJson(w, exe, p.body[i], depth + 1);
        w.endObject();
      }
      w.endArray();
      if (p.hasDefault && p.body.size() > p.caseValues.size()) {
        w.key("default");
        writeProgramJson(w, exe, p.body[p.caseValues.size()], depth + 1);
      }
      break;
    case ProgramKind::Repeat:
      w.field("kind", "Repeat");
      w.field("count", p.count);
      if (!p.body.empty()) {
        w.key("body");
        writeProgramJson(w, exe, p.body.front(), depth + 1);
      }
      break;
    case ProgramKind::Sync: w.field("kind", "Sync"); break;
  }
  w.endObject();
}

// ---- text sections ---------------------------------------------------------------------

void textHeader(std::ostream& os, const PopefFile& file) {
  os << "File: format version " << file.formatVersion << ", " << file.blobs.size() << " blobs\n";
  std::vector<std::vector<std::string>> rows{{"#", "type", "bytes", "crc32", "name"}};
  for (size_t i = 0; i < file.blobs.size(); ++i) {
    const BlobInfo& b = file.blobs[i];
    rows.push_back({std::to_string(i), blobTypeName(b.type), std::to_string(b.payloadBytes), hex32(b.crc32), b.name});
  }
  printTable(os, "  ", rows, {true, false, true, false, false});
}

void textTarget(std::ostream& os, const Target& t) {
  os << "\nTarget: " << t.name << '\n';
  std::vector<std::vector<std::string>> rows{
      {"tiles", std::to_string(t.tiles)},
      {"bytes per tile", std::to_string(t.bytesPerTile) + " (" + shortNumber(t.bytesPerTile / 1024.0) + " KiB)"},
      {"clock", shortNumber(t.clockHz / 1e9) + " GHz"},
      {"worker contexts", std::to_string(t.workerContexts)},
      {"AMP MACs/cycle", "fp16->fp16 " + std::to_string(t.ampFp16Fp16MacsPerCycle) + ", fp16->fp32 " +
                             std::to_string(t.ampFp16Fp32MacsPerCycle) + ", fp32 " +
                             std::to_string(t.ampFp32MacsPerCycle)},
      {"vector lanes", "fp32 " + std::to_string(t.vectorFp32Lanes) + ", fp16 " + std::to_string(t.vectorFp16Lanes)},
      {"memory latency", std::to_string(t.localMemoryLatencyCycles) + " cycles"},
      {"exchange", std::to_string(t.exchangeBytesPerCycle) + " bytes/cycle/tile, " +
                       std::to_string(t.exchangeFixedCycles) + " cycles fixed"},
      {"sync", std::to_string(t.syncCycles) + " cycles"},
      {"vertex launch", std::to_string(t.vertexLaunchCycles) + " cycles"},
      {"host link", shortNumber(t.hostLinkBytesPerSecond / 1e9) + " GB/s, " +
                        shortNumber(t.hostTransferLatencySeconds * 1e6) + " us per transfer"},
      {"load fixed", shortNumber(t.loadFixedSeconds * 1e3) + " ms"},
  };
  printTable(os, "  ", rows, {false, false});
}

void textAnchors(std::ostream& os, const Executable& exe) {
  auto anchors = anchorRows(exe);
  os << "\nAnchors: " << anchors.size() << '\n';
  if (anchors.empty()) return;
  bool fused = exe.fusion.fused();
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> head{"name", "dtype", "shape", "direction", "programs"};
  if (fused) head.push_back("subgraph");
  rows.push_back(head);
  for (const AnchorRow& a : anchors) {
    std::vector<std::string> row{a.name, a.dtype, shapeString(a.shape), a.direction,
                                 a.programs.empty() ? "-" : join(a.programs, ",")};
    if (fused)
      row.push_back(a.subgraph ? std::to_string(*a.subgraph)
                               : (a.name == exe.fusion.indexAnchor ? "(index)" : "-"));
    rows.push_back(std::move(row));
  }
  printTable(os, "  ", rows, std::vector<bool>(head.size(), false));
}

void textOpaques(std::ostream& os, const PopefFile& file) {
  std::vector<const BlobInfo*> opaques;
  for (const BlobInfo& b : file.blobs)
    if (b.type == BlobType::Opaque) opaques.push_back(&b);
  const FusionInfo& f = file.executable.fusion;
  // A hand-built PopefFile may carry fusion info without the blob list: show it anyway.
  bool fusionListed = std::any_of(opaques.begin(), opaques.end(), [](const BlobInfo* b) { return b->name == "fusion"; });
  size_t count = opaques.size() + (f.fused() && !fusionListed ? 1 : 0);
  os << "\nOpaques: " << count << '\n';
  if (f.fused()) {
    os << "  fusion: index anchor '" << f.indexAnchor << "', " << f.subgraphs.size() << " subgraphs\n";
    for (const SubgraphInfo& sg : f.subgraphs) {
      os << "    subgraph " << sg.index << ": " << sg.sourceModel << ", " << sg.precision << '\n';
      os << "      inputs:  " << (sg.inputs.empty() ? "-" : join(sg.inputs)) << '\n';
      os << "      outputs: " << (sg.outputs.empty() ? "-" : join(sg.outputs)) << '\n';
      std::vector<std::string> aliases;
      for (const auto& [alias, anchor] : sg.aliases) aliases.push_back(alias + " -> " + anchor);
      os << "      aliases: " << (aliases.empty() ? "-" : join(aliases)) << '\n';
    }
  }
  for (const BlobInfo* b : opaques)
    if (b->name != "fusion" || !f.fused())
      os << "  " << b->name << ": " << b->payloadBytes << " bytes, not interpreted by ipusim\n";
}

void textPrograms(std::ostream& os, const Executable& exe) {
  os << "\nPrograms:\n";
  os << "  load:\n";
  printProgram(os, exe, exe.load, 2);
  os << "  main:\n";
  printProgram(os, exe, exe.main, 2);
}

std::vector<std::string> memoryCells(const std::string& label, const MemoryRow& r, uint64_t bytesPerTile,
                                     bool withHeadroom) {
  return {label,
          std::to_string(r.code),
          std::to_string(r.vertexState),
          std::to_string(r.constants),
          std::to_string(r.variables),
          std::to_string(r.peak()),
          withHeadroom ? std::to_string(headroom(r, bytesPerTile)) : ""};
}

void textMemory(std::ostream& os, const Executable& exe) {
  MemorySummary m = memorySummary(exe);
  os << "\nMemory per tile (bytes; " << m.bytesPerTile << " per tile; peak = code + vertex state + constants + "
     << "variables):\n";
  if (m.tiles.empty()) {
    os << "  no tile holds anything\n";
    return;
  }
  // Too many tiles to read: the first ones and the busiest ones, by tile number.
  std::set<size_t> shown;
  if (m.tiles.size() <= kDumpTileLimit) {
    for (size_t i = 0; i < m.tiles.size(); ++i) shown.insert(i);
  } else {
    for (size_t i = 0; i < kDumpTilesEach; ++i) shown.insert(i);
    // The busiest of the others, so ties (common: even mappings) still show 32 tiles.
    std::vector<size_t> byPeak;
    for (size_t i = kDumpTilesEach; i < m.tiles.size(); ++i) byPeak.push_back(i);
    std::stable_sort(byPeak.begin(), byPeak.end(),
                     [&](size_t a, size_t b) { return m.tiles[a].peak() > m.tiles[b].peak(); });
    for (size_t i = 0; i < kDumpTilesEach; ++i) shown.insert(byPeak[i]);
  }
  std::vector<std::vector<std::string>> rows{
      {"tile", "code", "vertex_state", "constants", "variables", "peak", "headroom"}};
  const std::vector<std::string> gap{"...", "", "", "", "", "", ""};
  std::optional<size_t> previous;
  for (size_t i : shown) {
    if (previous ? i != *previous + 1 : i != 0) rows.push_back(gap);
    rows.push_back(memoryCells(std::to_string(m.tiles[i].tile), m.tiles[i], m.bytesPerTile, true));
    previous = i;
  }
  if (*previous + 1 != m.tiles.size()) rows.push_back(gap);
  rows.push_back(memoryCells("total", m.totals, m.bytesPerTile, false));
  printTable(os, "  ", rows, {true, true, true, true, true, true, true});
  if (m.tiles.size() > shown.size())
    os << "  (" << (m.tiles.size() - shown.size()) << " of " << m.tiles.size()
       << " tiles omitted; listed: the first " << kDumpTilesEach << " and the " << kDumpTilesEach
       << " busiest others)\n";
  uint64_t loadImage = m.totals.code + m.totals.vertexState + m.totals.constants;
  os << "  " << counted(m.tiles.size(), "tile", "tiles") << " in use; load image " << loadImage << " bytes; busiest tile "
     << m.busiest->tile << " with " << m.busiest->peak() << " bytes ("
     << shortNumber(100.0 * static_cast<double>(m.busiest->peak()) / static_cast<double>(m.bytesPerTile), 3)
     << "% of the tile)\n";
}

// ---- JSON sections ---------------------------------------------------------------------

void jsonTarget(json::Writer& w, const Target& t) {
  w.key("target").beginObject();
  w.field("name", t.name)
      .field("tiles", t.tiles)
      .field("bytes_per_tile", t.bytesPerTile)
      .field("clock_hz", t.clockHz)
      .field("worker_contexts", t.workerContexts)
      .field("amp_fp16_fp16_macs_per_cycle", t.ampFp16Fp16MacsPerCycle)
      .field("amp_fp16_fp32_macs_per_cycle", t.ampFp16Fp32MacsPerCycle)
      .field("amp_fp32_macs_per_cycle", t.ampFp32MacsPerCycle)
      .field("vector_fp32_lanes", t.vectorFp32Lanes)
      .field("vector_fp16_lanes", t.vectorFp16Lanes)
      .field("local_memory_latency_cycles", t.localMemoryLatencyCycles)
      .field("exchange_bytes_per_cycle", t.exchangeBytesPerCycle)
      .field("exchange_fixed_cycles", t.exchangeFixedCycles)
      .field("sync_cycles", t.syncCycles)
      .field("vertex_launch_cycles", t.vertexLaunchCycles)
      .field("host_link_bytes_per_second", t.hostLinkBytesPerSecond)
      .field("host_transfer_latency_seconds", t.hostTransferLatencySeconds)
      .field("load_fixed_seconds", t.loadFixedSeconds);
  w.endObject();
}

void jsonStrings(json::Writer& w, const std::string& key, const std::vector<std::string>& items) {
  w.key(key).beginArray();
  for (const std::string& s : items) w.value(s);
  w.endArray();
}

void jsonMemoryRow(json::Writer& w, const MemoryRow& r) {
  w.field("code", r.code)
      .field("vertex_state", r.vertexState)
      .field("constants", r.constants)
      .field("variables", r.variables)
      .field("peak", r.peak());
}

}  // namespace

std::string dumpText(const PopefFile& file) {
  std::ostringstream os;
  const Executable& exe = file.executable;
  textHeader(os, file);
  textTarget(os, exe.target);
  textAnchors(os, exe);
  textOpaques(os, file);
  textPrograms(os, exe);
  textMemory(os, exe);
  return os.str();
}

std::string dumpJson(const PopefFile& file) {
  const Executable& exe = file.executable;
  json::Writer w;
  w.beginObject();
  w.field("format_version", file.formatVersion);

  w.key("blobs").beginArray();
  for (const BlobInfo& b : file.blobs)
    w.beginObject()
        .field("type", blobTypeName(b.type))
        .field("name", b.name)
        .field("bytes", b.payloadBytes)
        .field("crc32", b.crc32)
        .endObject();
  w.endArray();

  jsonTarget(w, exe.target);
  w.field("ipu_version", exe.target.name);

  w.key("anchors").beginArray();
  for (const AnchorRow& a : anchorRows(exe)) {
    w.beginObject().field("name", a.name).field("handle", a.handle).field("dtype", a.dtype);
    w.key("shape").beginArray();
    for (int64_t d : a.shape) w.value(d);
    w.endArray();
    w.field("direction", a.direction);
    jsonStrings(w, "programs", a.programs);
    w.key("subgraph");
    if (a.subgraph)
      w.value(*a.subgraph);
    else
      w.null();
    w.endObject();
  }
  w.endArray();

  w.key("fusion");
  if (exe.fusion.fused()) {
    w.beginObject().field("index_anchor", exe.fusion.indexAnchor);
    w.key("subgraphs").beginArray();
    for (const SubgraphInfo& sg : exe.fusion.subgraphs) {
      w.beginObject()
          .field("index", sg.index)
          .field("source_model", sg.sourceModel)
          .field("precision", sg.precision);
      jsonStrings(w, "inputs", sg.inputs);
      jsonStrings(w, "outputs", sg.outputs);
      w.key("aliases").beginArray();
      for (const auto& [alias, anchor] : sg.aliases)
        w.beginObject().field("alias", alias).field("anchor", anchor).endObject();
      w.endArray();
      w.endObject();
    }
    w.endArray();
    w.endObject();
  } else {
    w.null();
  }

  w.key("programs").beginObject();
  w.key("load");
  writeProgramJson(w, exe, exe.load, 0);
  w.key("main");
  writeProgramJson(w, exe, exe.main, 0);
  w.endObject();

  MemorySummary m = memorySummary(exe);
  w.key("memory").beginObject();
  w.field("bytes_per_tile", m.bytesPerTile);
  w.key("tiles").beginArray();
  for (const MemoryRow& r : m.tiles) {
    w.beginObject().field("tile", r.tile);
    jsonMemoryRow(w, r);
    w.field("headroom", headroom(r, m.bytesPerTile));
    w.endObject();
  }
  w.endArray();
  w.key("totals").beginObject();
  w.field("tiles", m.tiles.size());
  jsonMemoryRow(w, m.totals);
  w.field("load_image", m.totals.code + m.totals.vertexState + m.totals.constants);
  w.key("busiest_tile");
  if (m.busiest)
    w.value(m.busiest->tile);
  else
    w.null();
  w.field("busiest_peak", m.busiest ? m.busiest->peak() : 0);
  w.endObject();
  w.endObject();

  w.endObject();
  return w.str();
}

}  // namespace ipusim::popef
