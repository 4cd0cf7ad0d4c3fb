#include "tools/executable_summary.h"

#include <algorithm>
#include <optional>
#include <ostream>
#include <set>

namespace ipusim::cli {

namespace {

struct AnchorRow {
  std::string name;
  const char* direction;
  DType dtype;
  Shape shape;
  std::optional<uint32_t> subgraph;
};

// One row per anchor, in stream order; the subgraph comes from the fusion description.
std::vector<AnchorRow> anchorRows(const Executable& exe) {
  std::vector<AnchorRow> rows;
  std::set<std::string> seen;
  for (const HostStream& stream : exe.streams) {
    if (!seen.insert(stream.anchor).second || stream.variable >= exe.variables.size()) continue;
    const Variable& var = exe.variables[stream.variable];
    AnchorRow row{stream.anchor,
                  stream.direction == StreamDirection::HostToDevice ? "input" : "output",
                  var.dtype, stream.shape, std::nullopt};
    for (const SubgraphInfo& sub : exe.fusion.subgraphs) {
      const bool member =
          std::find(sub.inputs.begin(), sub.inputs.end(), stream.anchor) != sub.inputs.end() ||
          std::find(sub.outputs.begin(), sub.outputs.end(), stream.anchor) != sub.outputs.end();
      if (member) row.subgraph = sub.index;
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

uint32_t peakTileBytes(const Executable& exe) {
  uint32_t peak = 0;
  for (const TileMemoryUsage& tile : exe.tileMemory) peak = std::max(peak, tile.total());
  return peak;
}

std::string aliasOf(const SubgraphInfo& sub, const std::string& anchor) {
  for (const auto& [alias, target] : sub.aliases)
    if (target == anchor) return alias;
  return {};
}

}  // namespace

void printExecutableSummary(std::ostream& out, const Executable& exe) {
  out << "target: " << exe.target.name << " (" << exe.target.tiles << " tiles, "
      << exe.target.clockHz / 1e9 << " GHz)\n"
      << "tiles used: " << exe.tileMemory.size() << ", load image: " << exe.loadImageBytes()
      << " bytes, busiest tile: " << peakTileBytes(exe) << " of " << exe.target.bytesPerTile
      << " bytes\n";
  const std::vector<AnchorRow> rows = anchorRows(exe);
  size_t width = 0;
  for (const AnchorRow& row : rows) width = std::max(width, row.name.size());
  out << "anchors:\n";
  for (const AnchorRow& row : rows) {
    out << "  " << row.name << std::string(width + 2 - row.name.size(), ' ') << row.direction
        << (row.direction[0] == 'i' ? "   " : "  ") << dtypeName(row.dtype) << " "
        << shapeString(row.shape);
    if (row.subgraph) out << "  subgraph " << *row.subgraph;
    out << "\n";
  }
  if (!exe.fusion.fused()) return;
  out << "subgraphs (selected by the '" << exe.fusion.indexAnchor << "' input):\n";
  for (const SubgraphInfo& sub : exe.fusion.subgraphs) {
    out << "  index " << sub.index << ": " << sub.sourceModel << " (" << sub.precision << ")\n";
    for (const std::string& in : sub.inputs) {
      const std::string alias = aliasOf(sub, in);
      out << "    input  " << in << (alias.empty() ? "" : " (alias " + alias + ")") << "\n";
    }
    for (const std::string& o : sub.outputs) out << "    output " << o << "\n";
  }
}

void writeExecutableFields(json::Writer& w, const Executable& exe) {
  w.field("target", exe.target.name)
      .field("clock_hz", exe.target.clockHz)
      .field("fused", exe.fusion.fused())
      .field("tiles_used", exe.tileMemory.size())
      .field("load_image_bytes", exe.loadImageBytes())
      .field("peak_tile_bytes", peakTileBytes(exe));
  w.key("anchors").beginArray();
  for (const AnchorRow& row : anchorRows(exe)) {
    w.beginObject().field("name", row.name).field("direction", row.direction);
    w.field("dtype", dtypeName(row.dtype));
    w.key("shape").beginArray();
    for (int64_t d : row.shape) w.value(d);
    w.endArray();
    w.key("subgraph");
    if (row.subgraph)
      w.value(*row.subgraph);
    else
      w.null();
    w.endObject();
  }
  w.endArray();
  w.key("subgraphs").beginArray();
  for (const SubgraphInfo& sub : exe.fusion.subgraphs) {
    w.beginObject()
        .field("index", sub.index)
        .field("source_model", sub.sourceModel)
        .field("precision", sub.precision);
    w.key("inputs").beginArray();
    for (const std::string& in : sub.inputs) w.value(in);
    w.endArray();
    w.key("outputs").beginArray();
    for (const std::string& o : sub.outputs) w.value(o);
    w.endArray();
    w.key("aliases").beginObject();
    for (const auto& [alias, anchor] : sub.aliases) w.field(alias, anchor);
    w.endObject();
    w.endObject();
  }
  w.endArray();
}

}  // namespace ipusim::cli
