#include "compiler/import/onnx_import.h"

#include <onnx/checker.h>
#include <onnx/shape_inference/implementation.h>

#include <charconv>
#include <cstring>
#include <filesystem>
#include <limits>
#include <fstream>
#include <set>

#include "compiler/lowering/lowering_registry.h"
#include "compiler/passes/function_expansion.h"
#include "compiler/passes/precision.h"
#include "compiler/passes/shape_folding.h"
#include "sim/error.h"
#include "sim/half.h"

namespace ipusim {

namespace {

std::string joinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

onnx::ModelProto readModelFile(const std::string& path) {
  if (!std::filesystem::is_regular_file(path)) throw CompileError(path + ": no such model file");
  std::ifstream in(path, std::ios::binary);
  onnx::ModelProto model;
  if (!in || !model.ParseFromIstream(&in)) throw CompileError(path + ": not a valid ONNX model");
  if (!model.has_graph()) throw CompileError(path + ": the ONNX model has no graph");
  return model;
}

void applyInputShapes(onnx::ModelProto& model, const ModelOptions& options) {
  auto* graph = model.mutable_graph();
  for (const auto& spec : options.inputShapes) {
    auto [name, shape] = parseInputShape(spec);
    onnx::ValueInfoProto* input = nullptr;
    std::vector<std::string> names;
    for (auto& vi : *graph->mutable_input()) {
      names.push_back(vi.name());
      if (vi.name() == name) input = &vi;
    }
    if (!input) {
      throw CompileError(options.modelPath + ": input_shape '" + spec + "' names no input (inputs: " +
                         joinNames(names) + ")");
    }
    auto* tensorType = input->mutable_type()->mutable_tensor_type();
    const auto& old = tensorType->shape();
    if (old.dim_size() != 0 && old.dim_size() != static_cast<int>(shape.size())) {
      throw CompileError(options.modelPath + ": input_shape '" + spec + "' has rank " +
                         std::to_string(shape.size()) + " but input '" + name + "' has rank " +
                         std::to_string(old.dim_size()));
    }
    for (int d = 0; d < old.dim_size(); ++d) {
      if (old.dim(d).has_dim_value() && old.dim(d).dim_value() != shape[d]) {
        throw CompileError(options.modelPath + ": input_shape '" + spec + "' conflicts with input '" + name +
                           "' dimension " + std::to_string(d) + " = " + std::to_string(old.dim(d).dim_value()));
      }
    }
    auto* newShape = tensorType->mutable_shape();
    newShape->clear_dim();
    for (int64_t dim : shape) newShape->add_dim()->set_dim_value(dim);
  }
}

// Shape of a value info, or a clear error naming what is not static.
Shape staticShape(const onnx::TypeProto& type, const std::string& tensor, const std::string& path,
                  bool isInput) {
  if (!type.has_tensor_type()) {
    throw CompileError(path + ": tensor '" + tensor + "' is not a tensor (sequences, maps and optionals are unsupported)");
  }
  const auto& tt = type.tensor_type();
  if (!tt.has_shape()) {
    throw CompileError(path + ": tensor '" + tensor + "' has no static shape" +
                       (isInput ? "; give it with input_shape" : " (its shape depends on data)"));
  }
  Shape shape;
  for (const auto& dim : tt.shape().dim()) {
    if (!dim.has_dim_value() || dim.dim_value() < 0) {
      std::string dimName = dim.has_dim_param() ? "'" + dim.dim_param() + "'" : "?";
      throw CompileError(path + ": tensor '" + tensor + "' has dynamic dimension " + dimName +
                         (isInput ? "; give its shape with input_shape, e.g. '" + tensor + "=1,2'"
                                  : " that shape inference cannot make static"));
    }
    shape.push_back(dim.dim_value());
  }
  return shape;
}

}  // namespace

std::pair<std::string, Shape> parseInputShape(const std::string& spec) {
  auto eq = spec.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 >= spec.size()) {
    throw CompileError("input_shape '" + spec + "' is not of the form NAME=D0,D1,...");
  }
  std::string name = spec.substr(0, eq);
  Shape shape;
  std::string_view dims(spec);
  dims.remove_prefix(eq + 1);
  while (true) {
    auto comma = dims.find(',');
    std::string_view token = dims.substr(0, comma);
    int64_t value = 0;
    auto [ptr, ec] = std::from_chars(token.data(), token.data() + token.size(), value);
    if (ec != std::errc() || ptr != token.data() + token.size() || value < 0) {
      throw CompileError("input_shape '" + spec + "': '" + std::string(token) + "' is not a dimension (a non-negative integer)");
    }
    shape.push_back(value);
    if (comma == std::string_view::npos) break;
    dims.remove_prefix(comma + 1);
  }
  return {name, shape};
}

DType dtypeFromOnnx(int32_t elementType, const std::string& what) {
  switch (elementType) {
    case onnx::TensorProto::FLOAT: return DType::Float32;
    case onnx::TensorProto::FLOAT16: return DType::Float16;
    case onnx::TensorProto::INT8: return DType::Int8;
    case onnx::TensorProto::UINT8: return DType::UInt8;
    case onnx::TensorProto::INT32: return DType::Int32;
    case onnx::TensorProto::UINT32: return DType::UInt32;
    case onnx::TensorProto::INT64: return DType::Int64;
    case onnx::TensorProto::BOOL: return DType::Bool;
    default: break;
  }
  std::string name = onnx::TensorProto::DataType_IsValid(elementType)
                         ? onnx::TensorProto::DataType_Name(static_cast<onnx::TensorProto::DataType>(elementType))
                         : std::to_string(elementType);
  throw CompileError(what + " has element type " + name + ", which the simulated IPU does not support");
}

int32_t onnxFromDType(DType dtype) {
  switch (dtype) {
    case DType::Float32: return onnx::TensorProto::FLOAT;
    case DType::Float16: return onnx::TensorProto::FLOAT16;
    case DType::Int8: return onnx::TensorProto::INT8;
    case DType::UInt8: return onnx::TensorProto::UINT8;
    case DType::Int32: return onnx::TensorProto::INT32;
    case DType::UInt32: return onnx::TensorProto::UINT32;
    case DType::Int64: return onnx::TensorProto::INT64;
    case DType::Bool: return onnx::TensorProto::BOOL;
  }
  return onnx::TensorProto::UNDEFINED;
}

ConstTensor constTensorFromProto(const onnx::TensorProto& proto, const std::string& what) {
  ConstTensor t;
  t.dtype = dtypeFromOnnx(proto.data_type(), what);
  for (int64_t d : proto.dims()) {
    if (d < 0) throw CompileError(what + " has a negative dimension");
    t.shape.push_back(d);
  }
  if (proto.data_location() == onnx::TensorProto::EXTERNAL) {
    throw CompileError(what + " keeps its data in an external file, which is unsupported");
  }
  // The shape is only a claim: the data it promises is checked against the data the proto
  // holds before anything is allocated, so a tiny model cannot ask for terabytes.
  int64_t n = 0;
  try {
    n = t.elements();
  } catch (const SimError&) {
    throw CompileError(what + " has shape " + shapeString(t.shape) + ", too many elements");
  }
  const uint64_t size = dtypeSize(t.dtype);
  if (static_cast<uint64_t>(n) > std::numeric_limits<uint64_t>::max() / size) {
    throw CompileError(what + " has shape " + shapeString(t.shape) + ", too many elements");
  }
  const uint64_t bytes = static_cast<uint64_t>(n) * size;
  if (proto.has_raw_data()) {
    if (proto.raw_data().size() != bytes) {
      throw CompileError(what + " has " + std::to_string(proto.raw_data().size()) + " bytes of data but its shape needs " +
                         std::to_string(bytes));
    }
    t.bytes.assign(proto.raw_data().begin(), proto.raw_data().end());
    return t;
  }
  auto check = [&](int64_t have) {
    if (have != n) {
      throw CompileError(what + " has " + std::to_string(have) + " values but its shape needs " + std::to_string(n));
    }
  };
  switch (t.dtype) {
    case DType::Float32: check(proto.float_data_size()); break;
    case DType::Int64: check(proto.int64_data_size()); break;
    case DType::UInt32: check(proto.uint64_data_size()); break;
    default: check(proto.int32_data_size()); break;
  }
  t.bytes.resize(static_cast<size_t>(bytes));
  uint8_t* out = t.bytes.data();
  switch (t.dtype) {
    case DType::Float32:
      if (n != 0) std::memcpy(out, proto.float_data().data(), t.bytes.size());
      break;
    case DType::Int64:
      if (n != 0) std::memcpy(out, proto.int64_data().data(), t.bytes.size());
      break;
    case DType::UInt32:
      for (int64_t i = 0; i < n; ++i) {
        uint32_t v = static_cast<uint32_t>(proto.uint64_data(static_cast<int>(i)));
        std::memcpy(out + i * 4, &v, 4);
      }
      break;
    default:  // int32_data carries int32, int8, uint8, bool and float16 bit patterns
      for (int64_t i = 0; i < n; ++i) {
        int32_t v = proto.int32_data(static_cast<int>(i));
        if (t.dtype == DType::Float16) {
          uint16_t bits = static_cast<uint16_t>(v);
          std::memcpy(out + i * 2, &bits, 2);
        } else if (t.dtype == DType::Int32) {
          std::memcpy(out + i * 4, &v, 4);
        } else {
          out[i] = static_cast<uint8_t>(t.dtype == DType::Bool ? (v != 0) : v);
        }
      }
      break;
  }
  return t;
}

ImportedModel importModel(const ModelOptions& options) {
  ImportedModel m;
  m.path = options.modelPath;
  if (options.partialsType == "fp16") {
    m.matMulPartials = DType::Float16;
  } else if (options.partialsType != "fp32") {
    throw CompileError(options.modelPath + ": partials type '" + options.partialsType + "' is not fp32 or fp16");
  }
  m.proto = readModelFile(options.modelPath);
  const std::string& path = options.modelPath;

  for (const auto& opset : m.proto.opset_import()) {
    if (opset.domain().empty() || opset.domain() == "ai.onnx") m.opset = opset.version();
  }
  if (m.opset == 0) throw CompileError(path + ": the model imports no opset of the default ONNX domain");

  applyInputShapes(m.proto, options);
  if (options.precision == "fp16") {
    convertFloatToHalf(m.proto);
  } else if (options.precision != "fp32") {
    throw CompileError(path + ": precision '" + options.precision + "' is not supported (use fp32 or fp16)");
  }

  try {
    onnx::checker::check_model(m.proto);
    m.proto.mutable_graph()->clear_value_info();
    onnx::ShapeInferenceOptions inference(/*check_type=*/true, /*error_mode=*/1, /*data_prop=*/true);
    onnx::shape_inference::InferShapes(m.proto, onnx::OpSchemaRegistry::Instance(), inference);
    // Ops defined as ONNX functions without a direct lowering become their bodies; their
    // new intermediate tensors then need types and shapes too.
    const auto& lowerings = LoweringRegistry::instance();
    if (expandFunctionOps(m.proto, m.opset,
                          [&](const std::string& op) { return lowerings.find(op, m.opset) != nullptr; })) {
      m.proto.mutable_graph()->clear_value_info();
      onnx::shape_inference::InferShapes(m.proto, onnx::OpSchemaRegistry::Instance(), inference);
    }
    foldToStaticShapes(m.proto, m.opset, options);
  } catch (const std::exception& e) {
    std::string msg = e.what();
    if (auto nl = msg.find('\n'); nl != std::string::npos) msg.resize(nl);
    throw CompileError(path + ": " + msg);
  }

  const auto& graph = m.proto.graph();
  std::set<std::string> initializerNames;
  for (const auto& init : graph.initializer()) {
    initializerNames.insert(init.name());
    ConstTensor t = constTensorFromProto(init, path + ": initializer '" + init.name() + "'");
    m.tensors[init.name()] = {t.dtype, t.shape};
    m.constants[init.name()] = std::move(t);
  }
  auto addInfo = [&](const onnx::ValueInfoProto& vi, bool isInput) {
    if (initializerNames.count(vi.name())) return;
    const std::string what = path + ": tensor '" + vi.name() + "'";
    if (!vi.type().has_tensor_type()) staticShape(vi.type(), vi.name(), path, isInput);  // throws
    DType dtype = dtypeFromOnnx(vi.type().tensor_type().elem_type(), what);
    m.tensors[vi.name()] = {dtype, staticShape(vi.type(), vi.name(), path, isInput)};
  };
  for (const auto& vi : graph.input()) {
    if (initializerNames.count(vi.name())) continue;
    addInfo(vi, true);
    m.inputs.push_back(vi.name());
  }
  for (const auto& vi : graph.value_info()) addInfo(vi, false);
  for (const auto& vi : graph.output()) {
    addInfo(vi, false);
    m.outputs.push_back(vi.name());
  }
  // Every node output must now have a static type and shape.
  for (const auto& node : graph.node()) {
    for (const auto& out : node.output()) {
      if (out.empty() || m.tensors.count(out)) continue;
      throw CompileError(path + ": the shape of tensor '" + out + "' (output of " + node.op_type() + " node '" +
                         node.name() + "') cannot be inferred statically");
    }
  }
  if (m.outputs.empty()) throw CompileError(path + ": the model has no outputs");
  return m;
}

}  // namespace ipusim
