#include "popef_test_support.h"

#include <cmath>
#include <cstring>
#include <sstream>
#include <stdexcept>

namespace popef_test {

using namespace ipusim;

namespace {

std::vector<uint8_t> floatBytes(std::initializer_list<float> values) {
  std::vector<uint8_t> out(values.size() * 4);
  size_t i = 0;
  for (float v : values) std::memcpy(out.data() + 4 * i++, &v, 4);
  return out;
}

Variable makeVariable(uint32_t id, std::string name, DType dtype, Shape shape, VariableKind kind,
                      std::vector<TileInterval> mapping, std::vector<uint8_t> data = {}) {
  Variable v;
  v.id = id;
  v.name = std::move(name);
  v.dtype = dtype;
  v.shape = std::move(shape);
  v.kind = kind;
  v.mapping = std::move(mapping);
  v.data = std::move(data);
  return v;
}

Vertex makeVertex(uint32_t codelet, uint32_t tile, std::vector<std::vector<Region>> fields,
                  std::vector<int64_t> scalars = {}) {
  Vertex v;
  v.codelet = codelet;
  v.tile = tile;
  v.fields = std::move(fields);
  v.scalars = std::move(scalars);
  return v;
}

}  // namespace

Executable sampleExecutable() {
  Executable exe;
  exe.target = targetPreset("ipu2");
  exe.codelets = {"Add<float32>", "Relu<float32>", "Cast<float32,float16>"};

  const auto C = VariableKind::Constant;
  const auto V = VariableKind::Variable;
  exe.variables = {
      makeVariable(0, "index", DType::UInt8, {1}, V, {{0, 0, 0, 1}}),
      makeVariable(1, "graph0/x", DType::Float32, {1, 4}, V, {{1, 0, 0, 2}, {2, 0, 2, 2}}),
      makeVariable(2, "w", DType::Float32, {1, 4}, C, {{1, 64, 0, 2}, {2, 64, 2, 2}},
                   floatBytes({1.0f, -2.5f, 3.25f, 1e-3f})),
      makeVariable(3, "graph0/y", DType::Float32, {1, 4}, V, {{1, 128, 0, 2}, {2, 128, 2, 2}}),
      // Same name as variable 2: its TensorData blob must get a distinct name.
      makeVariable(4, "w", DType::Float16, {2}, C, {{3, 0, 0, 2}}, {0x00, 0x3C, 0x00, 0x40}),
      makeVariable(5, "graph1/x", DType::Float32, {4}, V, {{3, 64, 0, 4}}),
      makeVariable(6, "graph1/y", DType::Float16, {4}, V, {{3, 128, 0, 4}}),
  };

  ComputeSet add{"graph0/add",
                 {makeVertex(0, 1, {{{128, 8}}, {{0, 8}}, {{64, 8}}}),
                  makeVertex(0, 2, {{{128, 8}}, {{0, 8}}, {{64, 8}}})}};
  ComputeSet relu{"graph0/relu", {makeVertex(1, 1, {{{128, 4}, {132, 4}}, {{128, 8}}}, {5, -7})}};
  ComputeSet cast{"graph1/cast", {makeVertex(2, 3, {{{64, 16}}, {{128, 8}}}, {INT64_MIN, INT64_MAX})}};
  exe.computeSets = {add, relu, cast};

  exe.exchanges = {Exchange{"graph0/gather", {{1, 128, 2, 200, 8}, {2, 128, 1, 200, 8}}}};

  exe.streams = {
      {"index", StreamDirection::HostToDevice, 0, {1}},
      {"graph0/stream0", StreamDirection::HostToDevice, 1, {1, 4}},
      {"graph0/y", StreamDirection::DeviceToHost, 3, {2, 2}},  // a reshaped view of [1,4]
      {"graph1/stream0", StreamDirection::HostToDevice, 5, {4}},
      {"graph1/y", StreamDirection::DeviceToHost, 6, {4}},
  };

  exe.load = Program::sequence({Program::sync()});
  Program graph0 = Program::sequence({Program::streamCopy(1), Program::execute(0), Program::exchange(0),
                                      Program::repeat(3, Program::execute(1)), Program::streamCopy(2)});
  Program graph1 = Program::sequence(
      {Program::streamCopy(3), Program::execute(2), Program::sync(), Program::streamCopy(4)});
  exe.main = Program::sequence(
      {Program::streamCopy(0), Program::switchOn(0, {0, 1}, {graph0, graph1, Program::sequence()})});

  exe.tileMemory = {
      {0, 0, 0, 0, 4},
      {1, 2400, 96, 16, 208},
      {2, 1200, 48, 16, 208},
      {3, 900, 40, 4, 144},
      {5, 0, 0, 0, 0},  // listed but empty: the dump leaves it out
  };

  exe.fusion.indexAnchor = "index";
  exe.fusion.subgraphs = {
      {0, "model0.onnx", "fp32", {"graph0/stream0"}, {"graph0/y"}, {{"graph0/x", "graph0/stream0"}}},
      {1, "model1.onnx", "fp16", {"graph1/stream0"}, {"graph1/y"}, {{"graph1/x", "graph1/stream0"}}},
  };
  return exe;
}

// ---- comparison ------------------------------------------------------------------------

namespace {

template <typename T>
std::string show(const T& v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

template <typename T>
std::string showList(const std::vector<T>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? "," : "") + show(items[i]);
  return out + "]";
}

// Compares one field; on the first difference records it and stops comparing.
class Diff {
 public:
  template <typename T>
  void field(const std::string& what, const T& a, const T& b) {
    if (!result.empty() || a == b) return;
    if constexpr (requires(std::ostream& os) { os << a; })
      result = what + ": " + show(a) + " != " + show(b);
    else
      result = what + " differs";
  }
  template <typename T>
  void list(const std::string& what, const std::vector<T>& a, const std::vector<T>& b) {
    if (!result.empty() || a == b) return;
    if constexpr (requires(std::ostream& os) { os << a[0]; })
      result = what + ": " + showList(a) + " != " + showList(b);
    else
      result = what + " differs";
  }
  std::string result;
};

void diffProgram(Diff& d, const std::string& path, const Program& a, const Program& b) {
  d.field(path + ".kind", static_cast<int>(a.kind), static_cast<int>(b.kind));
  d.field(path + ".ref", a.ref, b.ref);
  d.list(path + ".caseValues", a.caseValues, b.caseValues);
  d.field(path + ".hasDefault", a.hasDefault, b.hasDefault);
  d.field(path + ".count", a.count, b.count);
  d.field(path + ".body.size", a.body.size(), b.body.size());
  for (size_t i = 0; i < a.body.size() && i < b.body.size(); ++i)
    diffProgram(d, path + "/" + std::to_string(i), a.body[i], b.body[i]);
}

}  // namespace

std::string difference(const Executable& a, const Executable& b) {
  Diff d;
  const Target &ta = a.target, &tb = b.target;
  d.field("target.name", ta.name, tb.name);
  d.field("target.tiles", ta.tiles, tb.tiles);
  d.field("target.bytesPerTile", ta.bytesPerTile, tb.bytesPerTile);
  d.field("target.clockHz", ta.clockHz, tb.clockHz);
  d.field("target.workerContexts", ta.workerContexts, tb.workerContexts);
  d.field("target.ampFp16Fp16MacsPerCycle", ta.ampFp16Fp16MacsPerCycle, tb.ampFp16Fp16MacsPerCycle);
  d.field("target.ampFp16Fp32MacsPerCycle", ta.ampFp16Fp32MacsPerCycle, tb.ampFp16Fp32MacsPerCycle);
  d.field("target.ampFp32MacsPerCycle", ta.ampFp32MacsPerCycle, tb.ampFp32MacsPerCycle);
  d.field("target.vectorFp32Lanes", ta.vectorFp32Lanes, tb.vectorFp32Lanes);
  d.field("target.vectorFp16Lanes", ta.vectorFp16Lanes, tb.vectorFp16Lanes);
  d.field("target.localMemoryLatencyCycles", ta.localMemoryLatencyCycles, tb.localMemoryLatencyCycles);
  d.field("target.exchangeBytesPerCycle", ta.exchangeBytesPerCycle, tb.exchangeBytesPerCycle);
  d.field("target.exchangeFixedCycles", ta.exchangeFixedCycles, tb.exchangeFixedCycles);
  d.field("target.syncCycles", ta.syncCycles, tb.syncCycles);
  d.field("target.vertexLaunchCycles", ta.vertexLaunchCycles, tb.vertexLaunchCycles);
  d.field("target.hostLinkBytesPerSecond", ta.hostLinkBytesPerSecond, tb.hostLinkBytesPerSecond);
  d.field("target.hostTransferLatencySeconds", ta.hostTransferLatencySeconds, tb.hostTransferLatencySeconds);
  d.field("target.loadFixedSeconds", ta.loadFixedSeconds, tb.loadFixedSeconds);

  d.list("codelets", a.codelets, b.codelets);

  d.field("variables.size", a.variables.size(), b.variables.size());
  for (size_t i = 0; i < a.variables.size() && i < b.variables.size(); ++i) {
    const Variable &va = a.variables[i], &vb = b.variables[i];
    std::string p = "variables[" + std::to_string(i) + "]";
    d.field(p + ".id", va.id, vb.id);
    d.field(p + ".name", va.name, vb.name);
    d.field(p + ".dtype", static_cast<int>(va.dtype), static_cast<int>(vb.dtype));
    d.list(p + ".shape", va.shape, vb.shape);
    d.field(p + ".kind", static_cast<int>(va.kind), static_cast<int>(vb.kind));
    d.field(p + ".mapping.size", va.mapping.size(), vb.mapping.size());
    for (size_t k = 0; k < va.mapping.size() && k < vb.mapping.size(); ++k) {
      const TileInterval &ma = va.mapping[k], &mb = vb.mapping[k];
      std::string q = p + ".mapping[" + std::to_string(k) + "]";
      d.field(q + ".tile", ma.tile, mb.tile);
      d.field(q + ".tileOffset", ma.tileOffset, mb.tileOffset);
      d.field(q + ".firstElement", ma.firstElement, mb.firstElement);
      d.field(q + ".elementCount", ma.elementCount, mb.elementCount);
    }
    d.field(p + ".data", va.data, vb.data);
  }

  d.field("computeSets.size", a.computeSets.size(), b.computeSets.size());
  for (size_t i = 0; i < a.computeSets.size() && i < b.computeSets.size(); ++i) {
    const ComputeSet &ca = a.computeSets[i], &cb = b.computeSets[i];
    std::string p = "computeSets[" + std::to_string(i) + "]";
    d.field(p + ".name", ca.name, cb.name);
    d.field(p + ".vertices.size", ca.vertices.size(), cb.vertices.size());
    for (size_t k = 0; k < ca.vertices.size() && k < cb.vertices.size(); ++k) {
      const Vertex &xa = ca.vertices[k], &xb = cb.vertices[k];
      std::string q = p + ".vertices[" + std::to_string(k) + "]";
      d.field(q + ".codelet", xa.codelet, xb.codelet);
      d.field(q + ".tile", xa.tile, xb.tile);
      d.list(q + ".scalars", xa.scalars, xb.scalars);
      d.field(q + ".fields.size", xa.fields.size(), xb.fields.size());
      for (size_t f = 0; f < xa.fields.size() && f < xb.fields.size(); ++f) {
        d.field(q + ".fields[" + std::to_string(f) + "].size", xa.fields[f].size(), xb.fields[f].size());
        for (size_t r = 0; r < xa.fields[f].size() && r < xb.fields[f].size(); ++r) {
          std::string rr = q + ".fields[" + std::to_string(f) + "][" + std::to_string(r) + "]";
          d.field(rr + ".offset", xa.fields[f][r].offset, xb.fields[f][r].offset);
          d.field(rr + ".bytes", xa.fields[f][r].bytes, xb.fields[f][r].bytes);
        }
      }
    }
  }

  d.field("exchanges.size", a.exchanges.size(), b.exchanges.size());
  for (size_t i = 0; i < a.exchanges.size() && i < b.exchanges.size(); ++i) {
    const Exchange &ea = a.exchanges[i], &eb = b.exchanges[i];
    std::string p = "exchanges[" + std::to_string(i) + "]";
    d.field(p + ".name", ea.name, eb.name);
    d.field(p + ".copies.size", ea.copies.size(), eb.copies.size());
    for (size_t k = 0; k < ea.copies.size() && k < eb.copies.size(); ++k) {
      const Copy &xa = ea.copies[k], &xb = eb.copies[k];
      std::string q = p + ".copies[" + std::to_string(k) + "]";
      d.field(q + ".srcTile", xa.srcTile, xb.srcTile);
      d.field(q + ".srcOffset", xa.srcOffset, xb.srcOffset);
      d.field(q + ".dstTile", xa.dstTile, xb.dstTile);
      d.field(q + ".dstOffset", xa.dstOffset, xb.dstOffset);
      d.field(q + ".bytes", xa.bytes, xb.bytes);
    }
  }

  d.field("streams.size", a.streams.size(), b.streams.size());
  for (size_t i = 0; i < a.streams.size() && i < b.streams.size(); ++i) {
    const HostStream &sa = a.streams[i], &sb = b.streams[i];
    std::string p = "streams[" + std::to_string(i) + "]";
    d.field(p + ".anchor", sa.anchor, sb.anchor);
    d.field(p + ".direction", static_cast<int>(sa.direction), static_cast<int>(sb.direction));
    d.field(p + ".variable", sa.variable, sb.variable);
    d.list(p + ".shape", sa.shape, sb.shape);
  }

  diffProgram(d, "load", a.load, b.load);
  diffProgram(d, "main", a.main, b.main);

  d.field("tileMemory.size", a.tileMemory.size(), b.tileMemory.size());
  for (size_t i = 0; i < a.tileMemory.size() && i < b.tileMemory.size(); ++i) {
    const TileMemoryUsage &ma = a.tileMemory[i], &mb = b.tileMemory[i];
    std::string p = "tileMemory[" + std::to_string(i) + "]";
    d.field(p + ".tile", ma.tile, mb.tile);
    d.field(p + ".code", ma.code, mb.code);
    d.field(p + ".vertexState", ma.vertexState, mb.vertexState);
    d.field(p + ".constants", ma.constants, mb.constants);
    d.field(p + ".variables", ma.variables, mb.variables);
  }

  d.field("fusion.indexAnchor", a.fusion.indexAnchor, b.fusion.indexAnchor);
  d.field("fusion.subgraphs.size", a.fusion.subgraphs.size(), b.fusion.subgraphs.size());
  for (size_t i = 0; i < a.fusion.subgraphs.size() && i < b.fusion.subgraphs.size(); ++i) {
    const SubgraphInfo &sa = a.fusion.subgraphs[i], &sb = b.fusion.subgraphs[i];
    std::string p = "fusion.subgraphs[" + std::to_string(i) + "]";
    d.field(p + ".index", sa.index, sb.index);
    d.field(p + ".sourceModel", sa.sourceModel, sb.sourceModel);
    d.field(p + ".precision", sa.precision, sb.precision);
    d.list(p + ".inputs", sa.inputs, sb.inputs);
    d.list(p + ".outputs", sa.outputs, sb.outputs);
    d.field(p + ".aliases", sa.aliases, sb.aliases);
  }
  return d.result;
}

// ---- container -------------------------------------------------------------------------

uint32_t referenceCrc32(std::string_view bytes) {
  uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char byte : bytes) {
    crc ^= byte;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

namespace {

void putU32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out += static_cast<char>(v >> (8 * i));
}
void putU64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out += static_cast<char>(v >> (8 * i));
}
uint64_t getLE(const std::string& s, size_t at, int width) {
  if (at + static_cast<size_t>(width) > s.size()) throw std::runtime_error("splitContainer: truncated");
  uint64_t v = 0;
  for (int i = width - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(s[at + static_cast<size_t>(i)]);
  return v;
}

}  // namespace

// Layout (docs/popef-format.md): 12-byte magic, u32 version, u32 blob count, u32 CRC of
// the preceding 20 bytes; per blob u32 type, u32 name length, name, u64 payload size,
// u32 payload CRC, u32 CRC of this blob's header, payload.
std::vector<RawBlob> splitContainer(const std::string& file) {
  std::vector<RawBlob> blobs;
  uint32_t count = static_cast<uint32_t>(getLE(file, 16, 4));
  size_t at = 24;
  for (uint32_t i = 0; i < count; ++i) {
    RawBlob b;
    b.type = static_cast<uint32_t>(getLE(file, at, 4));
    uint32_t nameBytes = static_cast<uint32_t>(getLE(file, at + 4, 4));
    b.name = file.substr(at + 8, nameBytes);
    at += 8 + nameBytes;
    uint64_t size = getLE(file, at, 8);
    at += 16;
    b.payload = file.substr(at, size);
    at += size;
    blobs.push_back(std::move(b));
  }
  if (at != file.size()) throw std::runtime_error("splitContainer: trailing bytes");
  return blobs;
}

std::string joinContainer(const std::vector<RawBlob>& blobs, uint32_t version) {
  std::string out("IPUSIMPOPEF\0", 12);
  putU32(out, version);
  putU32(out, static_cast<uint32_t>(blobs.size()));
  putU32(out, referenceCrc32(out));
  for (const RawBlob& b : blobs) {
    size_t start = out.size();
    putU32(out, b.type);
    putU32(out, static_cast<uint32_t>(b.name.size()));
    out += b.name;
    putU64(out, b.payload.size());
    putU32(out, referenceCrc32(b.payload));
    putU32(out, referenceCrc32(std::string_view(out).substr(start)));
    out += b.payload;
  }
  return out;
}

// ---- JSON ------------------------------------------------------------------------------

size_t Json::size() const { return kind == Kind::Array ? items.size() : members.size(); }

const Json& Json::operator[](const std::string& key) const {
  if (kind != Kind::Object) throw std::runtime_error("json: not an object, looking up '" + key + "'");
  for (const auto& [k, v] : members)
    if (k == key) return v;
  throw std::runtime_error("json: no member '" + key + "'");
}

const Json& Json::operator[](size_t index) const {
  if (kind != Kind::Array || index >= items.size())
    throw std::runtime_error("json: no item " + std::to_string(index));
  return items[index];
}

bool Json::has(const std::string& key) const {
  if (kind != Kind::Object) return false;
  for (const auto& member : members)
    if (member.first == key) return true;
  return false;
}

namespace {

// A strict RFC 8259 parser: rejects trailing commas, bare words, control characters in
// strings, leading zeros and anything after the top-level value.
class JsonParser {
 public:
  explicit JsonParser(std::string_view text) : s_(text) {}

  Json document() {
    Json v = value(0);
    skipSpace();
    if (pos_ != s_.size()) error("text after the top-level value");
    return v;
  }

 private:
  [[noreturn]] void error(const std::string& what) {
    throw std::runtime_error("json: " + what + " at offset " + std::to_string(pos_));
  }
  void skipSpace() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\r' || s_[pos_] == '\t'))
      ++pos_;
  }
  char peek() {
    skipSpace();
    if (pos_ >= s_.size()) error("unexpected end");
    return s_[pos_];
  }
  void expect(char c) {
    if (peek() != c) error(std::string("expected '") + c + "'");
    ++pos_;
  }
  bool literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  Json value(int depth) {
    if (depth > 200) error("nesting too deep");
    Json v;
    char c = peek();
    if (c == '{') {
      v.kind = Json::Kind::Object;
      ++pos_;
      if (peek() == '}') {
        ++pos_;
        return v;
      }
      while (true) {
        if (peek() != '"') error("expected a key");
        std::string key = string();
        expect(':');
        v.members.push_back({std::move(key), value(depth + 1)});
        if (peek() == ',') {
          ++pos_;
          continue;
        }
        expect('}');
        return v;
      }
    }
    if (c == '[') {
      v.kind = Json::Kind::Array;
      ++pos_;
      if (peek() == ']') {
        ++pos_;
        return v;
      }
      while (true) {
        v.items.push_back(value(depth + 1));
        if (peek() == ',') {
          ++pos_;
          continue;
        }
        expect(']');
        return v;
      }
    }
    if (c == '"') {
      v.kind = Json::Kind::String;
      v.text = string();
      return v;
    }
    if (literal("true")) {
      v.kind = Json::Kind::Bool;
      v.boolean = true;
      return v;
    }
    if (literal("false")) {
      v.kind = Json::Kind::Bool;
      return v;
    }
    if (literal("null")) return v;
    v.kind = Json::Kind::Number;
    v.number = number();
    return v;
  }

  double number() {
    size_t start = pos_;
    if (pos_ < s_.size() && s_[pos_] == '-') ++pos_;
    auto digits = [&] {
      size_t first = pos_;
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
      return pos_ - first;
    };
    size_t intStart = pos_;
    size_t intDigits = digits();
    if (intDigits == 0) error("expected a value");
    if (intDigits > 1 && s_[intStart] == '0') error("leading zero");
    if (pos_ < s_.size() && s_[pos_] == '.') {
      ++pos_;
      if (digits() == 0) error("expected digits after '.'");
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (digits() == 0) error("expected exponent digits");
    }
    return std::stod(std::string(s_.substr(start, pos_ - start)));
  }

  static void appendUtf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  std::string string() {
    expect('"');
    std::string out;
    while (true) {
      if (pos_ >= s_.size()) error("unterminated string");
      unsigned char c = static_cast<unsigned char>(s_[pos_++]);
      if (c == '"') return out;
      if (c < 0x20) error("control character in a string");
      if (c != '\\') {
        out += static_cast<char>(c);
        continue;
      }
      if (pos_ >= s_.size()) error("unterminated escape");
      char e = s_[pos_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          if (pos_ + 4 > s_.size()) error("short \\u escape");
          uint32_t cp = static_cast<uint32_t>(std::stoul(std::string(s_.substr(pos_, 4)), nullptr, 16));
          pos_ += 4;
          appendUtf8(out, cp);
          break;
        }
        default: error("bad escape");
      }
    }
  }

  std::string_view s_;
  size_t pos_ = 0;
};

}  // namespace

Json parseJson(std::string_view text) { return JsonParser(text).document(); }

}  // namespace popef_test
