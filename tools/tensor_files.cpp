#include "tools/tensor_files.h"

#include <onnx/onnx_pb.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cctype>
#include <climits>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>

#include "sim/error.h"

namespace ipusim::cli {

// .npy and ONNX raw_data are little-endian; the bytes are copied as they are.
static_assert(std::endian::native == std::endian::little, "ipusim assumes a little-endian host");

namespace {

constexpr std::string_view kNpyMagic = "\x93NUMPY";

struct NpyType {
  DType dtype;
  std::string_view descr;  // what numpy writes
};
constexpr NpyType kNpyTypes[] = {
    {DType::Float32, "<f4"}, {DType::Float16, "<f2"}, {DType::Int8, "|i1"},
    {DType::UInt8, "|u1"},   {DType::Int32, "<i4"},   {DType::UInt32, "<u4"},
    {DType::Int64, "<i8"},   {DType::Bool, "|b1"},
};

std::string supportedDescrs() {
  std::string out;
  for (const NpyType& t : kNpyTypes)
    out += (out.empty() ? "" : ", ") + std::string(dtypeName(t.dtype)) + " (" +
           std::string(t.descr) + ")";
  return out;
}

// Byte count of `shape` elements of `itemSize`, or nullopt for a shape the rest of ipusim
// cannot count (elementCount's rule: no negative dimension, no partial product past 2^63,
// even when a later dimension is 0) or a byte count past 2^64.
std::optional<uint64_t> checkedBytes(const std::vector<int64_t>& shape, uint64_t itemSize) {
  int64_t elements = 0;
  try {
    elements = elementCount(shape);
  } catch (const SimError&) {
    return std::nullopt;
  }
  const auto count = static_cast<uint64_t>(elements);
  if (itemSize != 0 && count > UINT64_MAX / itemSize) return std::nullopt;
  return count * itemSize;
}

// The Python dict literal of an .npy header: {'descr': '<f4', 'fortran_order': False,
// 'shape': (1, 2), }. Only the forms numpy writes are accepted.
class NpyHeaderParser {
 public:
  NpyHeaderParser(std::string_view text, const std::string& source) : text_(text), source_(source) {}

  struct Value {
    enum Kind { String, Bool, Tuple } kind = String;
    std::string string;
    bool boolean = false;
    std::vector<int64_t> tuple;
  };

  std::map<std::string, Value> parseDict() {
    std::map<std::string, Value> dict;
    expect('{');
    while (true) {
      skipSpace();
      if (peek() == '}') break;
      std::string key = parseString();
      expect(':');
      if (!dict.emplace(key, parseValue()).second) fail("key '" + key + "' appears twice");
      skipSpace();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() != '}') fail("expected ',' or '}'");
    }
    ++pos_;
    skipSpace();
    if (pos_ != text_.size()) fail("unexpected text after the header dictionary");
    return dict;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw TensorFileError(source_ + ": broken .npy header: " + what + " at header byte " +
                          std::to_string(pos_));
  }
  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  void skipSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n' ||
                                   text_[pos_] == '\t' || text_[pos_] == '\r'))
      ++pos_;
  }
  void expect(char c) {
    skipSpace();
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++pos_;
  }
  std::string parseString() {
    skipSpace();
    const char quote = peek();
    if (quote != '\'' && quote != '"') fail("expected a quoted string");
    const size_t end = text_.find(quote, pos_ + 1);
    if (end == std::string_view::npos) fail("unterminated string");
    std::string s(text_.substr(pos_ + 1, end - pos_ - 1));
    pos_ = end + 1;
    return s;
  }
  int64_t parseInt() {
    skipSpace();
    const size_t start = pos_;
    int64_t value = 0;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      const int digit = text_[pos_] - '0';
      if (value > (INT64_MAX - digit) / 10) fail("dimension too large");
      value = value * 10 + digit;
      ++pos_;
    }
    if (pos_ == start) fail("expected a non-negative integer dimension");
    if (peek() == 'L') ++pos_;  // written by Python 2
    return value;
  }
  Value parseValue() {
    skipSpace();
    Value v;
    const char c = peek();
    if (c == '\'' || c == '"') {
      v.kind = Value::String;
      v.string = parseString();
    } else if (text_.substr(pos_, 4) == "True") {
      v.kind = Value::Bool;
      v.boolean = true;
      pos_ += 4;
    } else if (text_.substr(pos_, 5) == "False") {
      v.kind = Value::Bool;
      pos_ += 5;
    } else if (c == '(') {
      v.kind = Value::Tuple;
      ++pos_;
      while (true) {
        skipSpace();
        if (peek() == ')') break;
        v.tuple.push_back(parseInt());
        skipSpace();
        if (peek() == ',') {
          ++pos_;
          continue;
        }
        if (peek() != ')') fail("expected ',' or ')' in the shape");
      }
      ++pos_;
    } else {
      fail("unsupported value (structured dtypes are not supported)");
    }
    return v;
  }

  std::string_view text_;
  const std::string& source_;
  size_t pos_ = 0;
};

uint32_t readLittle(std::string_view bytes, size_t offset, size_t width) {
  uint32_t v = 0;
  for (size_t i = 0; i < width; ++i)
    v |= static_cast<uint32_t>(static_cast<uint8_t>(bytes[offset + i])) << (8 * i);
  return v;
}

DType npyDType(const std::string& descr, const std::string& source) {
  if (descr.size() >= 2 && descr[0] == '>' && descr.substr(1) != "i1" && descr.substr(1) != "u1" &&
      descr.substr(1) != "b1")
    throw TensorFileError(source + ": big-endian data ('" + descr +
                          "') is not supported: save it little-endian (e.g. arr.astype('<" +
                          descr.substr(1) + "'))");
  for (const NpyType& t : kNpyTypes) {
    if (descr == t.descr) return t.dtype;
    // '=' (native, little-endian here) and '|' / '<' / '>' for one-byte types are equivalent.
    const std::string_view body = t.descr.substr(1);
    if (descr.size() == 3 && descr.substr(1) == body &&
        (descr[0] == '=' || (dtypeSize(t.dtype) == 1 && (descr[0] == '<' || descr[0] == '>' ||
                                                          descr[0] == '|'))))
      return t.dtype;
  }
  throw TensorFileError(source + ": .npy dtype '" + descr + "' is not supported; supported: " +
                        supportedDescrs());
}

std::string_view npyDescr(DType dtype) {
  for (const NpyType& t : kNpyTypes)
    if (t.dtype == dtype) return t.descr;
  throw TensorFileError("no .npy dtype for " + std::string(dtypeName(dtype)));
}

std::string extensionOf(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext;
}

}  // namespace

HostTensor decodeNpy(std::string_view bytes, const std::string& source) {
  if (bytes.size() < 10 || bytes.substr(0, kNpyMagic.size()) != kNpyMagic)
    throw TensorFileError(source + ": not an .npy file (no \\x93NUMPY magic)");
  const int major = static_cast<uint8_t>(bytes[6]);
  const int minor = static_cast<uint8_t>(bytes[7]);
  if ((major != 1 && major != 2 && major != 3) || minor != 0)
    throw TensorFileError(source + ": .npy format version " + std::to_string(major) + "." +
                          std::to_string(minor) + " is not supported (1.0, 2.0, 3.0 are)");
  const size_t lengthWidth = major == 1 ? 2 : 4;
  if (bytes.size() < 8 + lengthWidth)
    throw TensorFileError(source + ": truncated .npy header");
  const uint64_t headerLength = readLittle(bytes, 8, lengthWidth);
  const size_t headerStart = 8 + lengthWidth;
  if (headerLength > bytes.size() - headerStart)
    throw TensorFileError(source + ": .npy header claims " + std::to_string(headerLength) +
                          " bytes but the file holds " + std::to_string(bytes.size() - headerStart) +
                          " after the preamble");

  NpyHeaderParser parser(bytes.substr(headerStart, headerLength), source);
  const auto dict = parser.parseDict();
  for (const auto& [key, value] : dict)
    if (key != "descr" && key != "fortran_order" && key != "shape")
      throw TensorFileError(source + ": broken .npy header: unexpected key '" + key + "'");
  auto field = [&](const char* key, NpyHeaderParser::Value::Kind kind) {
    auto it = dict.find(key);
    if (it == dict.end())
      throw TensorFileError(source + ": broken .npy header: no '" + key + "' key");
    if (it->second.kind != kind)
      throw TensorFileError(source + ": broken .npy header: '" + key + "' has the wrong type");
    return it->second;
  };
  const auto descr = field("descr", NpyHeaderParser::Value::String);
  const auto fortran = field("fortran_order", NpyHeaderParser::Value::Bool);
  const auto shape = field("shape", NpyHeaderParser::Value::Tuple);
  if (fortran.boolean)
    throw TensorFileError(source + ": Fortran-order .npy files are not supported: save it in C "
                          "order (np.ascontiguousarray)");

  HostTensor tensor;
  tensor.dtype = npyDType(descr.string, source);
  tensor.shape = shape.tuple;
  const size_t dataStart = headerStart + headerLength;
  const uint64_t available = bytes.size() - dataStart;
  const std::optional<uint64_t> needed = checkedBytes(tensor.shape, dtypeSize(tensor.dtype));
  if (!needed || *needed > available)
    throw TensorFileError(source + ": truncated .npy: " + std::string(dtypeName(tensor.dtype)) +
                          " " + shapeString(tensor.shape) + " needs " +
                          (needed ? std::to_string(*needed) : std::string("more than 2^63")) +
                          " bytes of data, the file holds " + std::to_string(available));
  if (*needed < available)
    throw TensorFileError(source + ": .npy has " + std::to_string(available - *needed) +
                          " bytes after the data of " + std::string(dtypeName(tensor.dtype)) + " " +
                          shapeString(tensor.shape));
  tensor.data.assign(bytes.begin() + dataStart, bytes.end());
  return tensor;
}

std::string encodeNpy(const HostTensor& tensor) {
  std::string dict = "{'descr': '" + std::string(npyDescr(tensor.dtype)) +
                     "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < tensor.shape.size(); ++i)
    dict += (i ? ", " : "") + std::to_string(tensor.shape[i]);
  if (tensor.shape.size() == 1) dict += ",";
  dict += "), }";
  // numpy pads with spaces so the data starts at a multiple of 64 bytes; '\n' ends it.
  const size_t preamble = kNpyMagic.size() + 2 + 2;
  size_t total = preamble + dict.size() + 1;
  dict.append((64 - total % 64) % 64, ' ');
  dict += '\n';
  if (dict.size() > UINT16_MAX) throw TensorFileError("shape too long for an .npy 1.0 header");

  std::string out(kNpyMagic);
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(dict.size() & 0xff);
  out += static_cast<char>(dict.size() >> 8);
  out += dict;
  out.append(reinterpret_cast<const char*>(tensor.data.data()), tensor.data.size());
  return out;
}

HostTensor readNpy(const std::string& path) { return decodeNpy(readFileBytes(path), path); }

void writeNpy(const HostTensor& tensor, const std::string& path) {
  writeFileAtomically(path, encodeNpy(tensor));
}

HostTensor decodeTensorProto(std::string_view bytes, const std::string& source, std::string* name) {
  if (bytes.size() > static_cast<size_t>(INT_MAX))
    throw TensorFileError(source + ": too large for a TensorProto (over 2 GiB)");
  onnx::TensorProto proto;
  if (!proto.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    throw TensorFileError(source + ": not a valid ONNX TensorProto");
  if (name) *name = proto.name();
  if (proto.data_location() == onnx::TensorProto::EXTERNAL)
    throw TensorFileError(source + ": TensorProto with external data is not supported");
  if (proto.has_segment())
    throw TensorFileError(source + ": segmented TensorProto is not supported");

  HostTensor tensor;
  using TP = onnx::TensorProto;
  switch (proto.data_type()) {
    case TP::FLOAT: tensor.dtype = DType::Float32; break;
    case TP::FLOAT16: tensor.dtype = DType::Float16; break;
    case TP::INT8: tensor.dtype = DType::Int8; break;
    case TP::UINT8: tensor.dtype = DType::UInt8; break;
    case TP::INT32: tensor.dtype = DType::Int32; break;
    case TP::UINT32: tensor.dtype = DType::UInt32; break;
    case TP::INT64: tensor.dtype = DType::Int64; break;
    case TP::BOOL: tensor.dtype = DType::Bool; break;
    default:
      throw TensorFileError(source + ": TensorProto data_type " +
                            std::to_string(proto.data_type()) +
                            " is not supported (float, float16, int8, uint8, int32, uint32, "
                            "int64 and bool are)");
  }
  tensor.shape.assign(proto.dims().begin(), proto.dims().end());
  const size_t itemSize = dtypeSize(tensor.dtype);
  const std::optional<uint64_t> needed = checkedBytes(tensor.shape, itemSize);
  if (!needed)
    throw TensorFileError(source + ": TensorProto has invalid dims " + shapeString(tensor.shape));
  const uint64_t count = *needed / itemSize;
  const std::string what = std::string(dtypeName(tensor.dtype)) + " " + shapeString(tensor.shape);

  if (proto.has_raw_data()) {
    if (proto.raw_data().size() != *needed)
      throw TensorFileError(source + ": TensorProto " + what + " needs " + std::to_string(*needed) +
                            " bytes of raw_data, it holds " +
                            std::to_string(proto.raw_data().size()));
    tensor.data.assign(proto.raw_data().begin(), proto.raw_data().end());
    return tensor;
  }

  // Typed fields: each holds one element per entry, widened to the field's type.
  auto fill = [&](const auto& field, const char* fieldName, auto convert) {
    if (static_cast<uint64_t>(field.size()) != count)
      throw TensorFileError(source + ": TensorProto " + what + " needs " + std::to_string(count) +
                            " values in " + fieldName + ", it holds " +
                            std::to_string(field.size()));
    tensor.data.resize(*needed);
    uint8_t* out = tensor.data.data();
    for (const auto& value : field) {
      const auto element = convert(value);
      std::memcpy(out, &element, sizeof element);
      out += sizeof element;
    }
  };
  switch (tensor.dtype) {
    case DType::Float32: fill(proto.float_data(), "float_data", [](float v) { return v; }); break;
    // ONNX stores float16 as its bit pattern in the low 16 bits of int32_data.
    case DType::Float16:
      fill(proto.int32_data(), "int32_data", [](int32_t v) { return static_cast<uint16_t>(v); });
      break;
    case DType::Int8:
      fill(proto.int32_data(), "int32_data", [](int32_t v) { return static_cast<int8_t>(v); });
      break;
    case DType::UInt8:
      fill(proto.int32_data(), "int32_data", [](int32_t v) { return static_cast<uint8_t>(v); });
      break;
    case DType::Bool:
      fill(proto.int32_data(), "int32_data", [](int32_t v) { return static_cast<uint8_t>(v != 0); });
      break;
    case DType::Int32: fill(proto.int32_data(), "int32_data", [](int32_t v) { return v; }); break;
    case DType::UInt32:
      fill(proto.uint64_data(), "uint64_data", [](uint64_t v) { return static_cast<uint32_t>(v); });
      break;
    case DType::Int64: fill(proto.int64_data(), "int64_data", [](int64_t v) { return v; }); break;
  }
  return tensor;
}

HostTensor readTensorProto(const std::string& path, std::string* name) {
  return decodeTensorProto(readFileBytes(path), path, name);
}

HostTensor readTensorFile(const std::string& path) {
  const std::string ext = extensionOf(path);
  if (ext == ".npy") return readNpy(path);
  if (ext == ".pb") return readTensorProto(path);
  throw TensorFileError(path + ": unknown tensor file type '" + ext +
                        "': use .npy (numpy) or .pb (ONNX TensorProto)");
}

std::string readFileBytes(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw TensorFileError(path + ": no such file");
  if (std::filesystem::is_directory(path, ec))
    throw TensorFileError(path + ": is a directory, not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw TensorFileError(path + ": cannot open: " + std::strerror(errno));
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw TensorFileError(path + ": read error");
  return bytes;
}

void writeFileAtomically(const std::string& path, std::string_view bytes) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw TensorFileError(path + ": cannot write: " + std::strerror(errno));
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) {
      std::remove(tmp.c_str());
      throw TensorFileError(path + ": write failed (disk full?)");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string reason = std::strerror(errno);
    std::remove(tmp.c_str());
    throw TensorFileError(path + ": cannot rename the temporary file into place: " + reason);
  }
}

}  // namespace ipusim::cli
