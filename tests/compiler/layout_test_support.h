// Helpers of the layout-op tests: single-node ONNX models built in C++, compiled and run on
// the engine, and a replay of an executable's exchanges on element identities (which input
// element each output element ends up holding), to check exchange plans directly.
#pragma once
#include <doctest/doctest.h>
#include <onnx/onnx_pb.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "compiler/compiler.h"
#include "sim/engine.h"

namespace ipusim::layout_test {

constexpr int kFloat = onnx::TensorProto::FLOAT;
constexpr int kFloat16 = onnx::TensorProto::FLOAT16;
constexpr int kInt32 = onnx::TensorProto::INT32;
constexpr int kInt64 = onnx::TensorProto::INT64;
constexpr int kBool = onnx::TensorProto::BOOL;
constexpr int kUInt8 = onnx::TensorProto::UINT8;

template <typename T>
std::vector<uint8_t> bytesOf(const std::vector<T>& values) {
  std::vector<uint8_t> bytes(values.size() * sizeof(T));
  if (!bytes.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

template <typename T>
std::vector<T> valuesOf(const std::vector<uint8_t>& bytes) {
  std::vector<T> values(bytes.size() / sizeof(T));
  if (!values.empty()) std::memcpy(values.data(), bytes.data(), bytes.size());
  return values;
}

// 0, 1, 2, ... as floats: each element's value is its index, so outputs name their sources.
inline std::vector<float> iota(int64_t n) {
  std::vector<float> v(static_cast<size_t>(n));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i);
  return v;
}

class Model {
 public:
  explicit Model(int opset = 17) {
    proto_.set_ir_version(8);
    proto_.add_opset_import()->set_version(opset);
    proto_.mutable_graph()->set_name("g");
  }
  void input(const std::string& name, int type, const std::vector<int64_t>& dims) {
    describe(proto_.mutable_graph()->add_input(), name, type, dims);
  }
  void output(const std::string& name, int type, const std::vector<int64_t>& dims) {
    describe(proto_.mutable_graph()->add_output(), name, type, dims);
  }
  // An output of `rank` symbolic dimensions, left to shape inference.
  void outputOfInferredShape(const std::string& name, int type, int rank) {
    auto* info = proto_.mutable_graph()->add_output();
    info->set_name(name);
    auto* tensor = info->mutable_type()->mutable_tensor_type();
    tensor->set_elem_type(type);
    for (int d = 0; d < rank; ++d) {
      std::string symbol = "d";
      symbol += std::to_string(d);  // (not "d" + ...: GCC 12 warns falsely about that)
      tensor->mutable_shape()->add_dim()->set_dim_param(symbol);
    }
  }
  template <typename T>
  void initializer(const std::string& name, int type, const std::vector<int64_t>& dims, const std::vector<T>& values) {
    auto* t = proto_.mutable_graph()->add_initializer();
    t->set_name(name);
    t->set_data_type(type);
    for (int64_t d : dims) t->add_dims(d);
    const auto bytes = bytesOf(values);
    t->set_raw_data(std::string(bytes.begin(), bytes.end()));
  }
  Model& node(const std::string& op, const std::vector<std::string>& inputs, const std::vector<std::string>& outputs) {
    node_ = proto_.mutable_graph()->add_node();
    node_->set_op_type(op);
    node_->set_name(op + "_node");
    for (const auto& in : inputs) node_->add_input(in);
    for (const auto& out : outputs) node_->add_output(out);
    return *this;
  }
  Model& ints(const std::string& name, const std::vector<int64_t>& values) {
    auto* a = attr(name, onnx::AttributeProto::INTS);
    for (int64_t v : values) a->add_ints(v);
    return *this;
  }
  Model& integer(const std::string& name, int64_t value) {
    attr(name, onnx::AttributeProto::INT)->set_i(value);
    return *this;
  }
  Model& text(const std::string& name, const std::string& value) {
    attr(name, onnx::AttributeProto::STRING)->set_s(value);
    return *this;
  }
  Model& real(const std::string& name, float value) {
    attr(name, onnx::AttributeProto::FLOAT)->set_f(value);
    return *this;
  }
  template <typename T>
  Model& tensor(const std::string& name, int type, const std::vector<int64_t>& dims, const std::vector<T>& values) {
    auto* t = attr(name, onnx::AttributeProto::TENSOR)->mutable_t();
    t->set_data_type(type);
    for (int64_t d : dims) t->add_dims(d);
    const auto bytes = bytesOf(values);
    t->set_raw_data(std::string(bytes.begin(), bytes.end()));
    return *this;
  }
  Executable compile(const std::string& file) const {
    const auto folder = std::filesystem::path(IPUSIM_BINARY_DIR) / "tests" / "layout-models";
    std::filesystem::create_directories(folder);
    const std::string path = (folder / file).string();
    std::ofstream(path, std::ios::binary) << proto_.SerializeAsString();
    ModelOptions options;
    options.modelPath = path;
    return compileModel(options);
  }

 private:
  onnx::AttributeProto* attr(const std::string& name, onnx::AttributeProto::AttributeType type) {
    auto* a = node_->add_attribute();
    a->set_name(name);
    a->set_type(type);
    return a;
  }
  static void describe(onnx::ValueInfoProto* info, const std::string& name, int type, const std::vector<int64_t>& dims) {
    info->set_name(name);
    auto* tensor = info->mutable_type()->mutable_tensor_type();
    tensor->set_elem_type(type);
    tensor->mutable_shape();  // a scalar has a shape with no dimensions
    for (int64_t d : dims) tensor->mutable_shape()->add_dim()->set_dim_value(d);
  }
  onnx::ModelProto proto_;
  onnx::NodeProto* node_ = nullptr;
};

inline HostBuffers run(const Executable& exe, const HostBuffers& inputs) {
  Engine engine(1);
  engine.load(std::make_shared<const Executable>(exe));
  HostBuffers outputs;
  engine.run(inputs, outputs);
  return outputs;
}

inline const Variable& anchorVariable(const Executable& exe, const std::string& anchor) {
  const HostStream* s = exe.findStream(anchor);
  REQUIRE_MESSAGE(s, "no anchor " << anchor);
  return exe.variables[s->variable];
}

// The element of `var` at byte `offset` of `tile`, or -1.
inline int64_t elementAt(const Variable& var, uint32_t tile, uint32_t offset) {
  const uint32_t size = static_cast<uint32_t>(dtypeSize(var.dtype));
  for (const auto& in : var.mapping) {
    if (in.tile == tile && offset >= in.tileOffset && offset < in.tileOffset + in.elementCount * size) {
      return static_cast<int64_t>(in.firstElement + (offset - in.tileOffset) / size);
    }
  }
  return -1;
}

// The interval of `var` holding `element`.
inline size_t intervalOf(const Variable& var, uint64_t element) {
  for (size_t k = 0; k < var.mapping.size(); ++k)
    if (element >= var.mapping[k].firstElement && element < var.mapping[k].firstElement + var.mapping[k].elementCount)
      return k;
  FAIL("element " << element << " of " << var.name << " is not mapped");
  return 0;
}

struct ExchangePlan {
  std::vector<int64_t> sourceOf;  // per output element: the input element copied there, or -1
  size_t copies = 0;
};

// Replays every copy of `exe` between the variables of anchors `in` and `out`; any copy that
// touches something else fails the test.
inline ExchangePlan replay(const Executable& exe, const std::string& in, const std::string& out) {
  const Variable& src = anchorVariable(exe, in);
  const Variable& dst = anchorVariable(exe, out);
  ExchangePlan plan;
  plan.sourceOf.assign(static_cast<size_t>(elementCount(dst.shape)), -1);
  const uint32_t size = static_cast<uint32_t>(dtypeSize(dst.dtype));
  for (const auto& exchange : exe.exchanges) {
    for (const auto& copy : exchange.copies) {
      ++plan.copies;
      REQUIRE(copy.bytes % size == 0);
      for (uint32_t at = 0; at < copy.bytes; at += size) {
        const int64_t s = elementAt(src, copy.srcTile, copy.srcOffset + at);
        const int64_t d = elementAt(dst, copy.dstTile, copy.dstOffset + at);
        REQUIRE_MESSAGE(s >= 0, "a copy reads outside the input");
        REQUIRE_MESSAGE(d >= 0, "a copy writes outside the output");
        plan.sourceOf[static_cast<size_t>(d)] = s;
      }
    }
  }
  return plan;
}

// The copies a maximal-run plan needs for `sourceOf` (-1: no copy): a new copy wherever the
// source stops being consecutive or either side crosses into another tile interval.
inline size_t maximalRuns(const Executable& exe, const std::string& in, const std::string& out,
                          const std::vector<int64_t>& sourceOf) {
  const Variable& src = anchorVariable(exe, in);
  const Variable& dst = anchorVariable(exe, out);
  size_t runs = 0;
  for (size_t e = 0; e < sourceOf.size(); ++e) {
    if (sourceOf[e] < 0) continue;
    const bool continues = e > 0 && sourceOf[e - 1] >= 0 && sourceOf[e] == sourceOf[e - 1] + 1 &&
                           intervalOf(dst, e) == intervalOf(dst, e - 1) &&
                           intervalOf(src, static_cast<uint64_t>(sourceOf[e])) ==
                               intervalOf(src, static_cast<uint64_t>(sourceOf[e - 1]));
    if (!continues) ++runs;
  }
  return runs;
}

// Checks that `exe` moves X into Y by exactly the maximal runs of `expected` (the source of
// each output element, -1 for elements filled otherwise) and that both tensors span several
// tiles unevenly.
inline void checkExchangePlan(const Executable& exe, const std::vector<int64_t>& expected,
                              const std::string& in = "X", const std::string& out = "Y") {
  const ExchangePlan plan = replay(exe, in, out);
  CHECK(plan.sourceOf == expected);
  CHECK(plan.copies == maximalRuns(exe, in, out, expected));
  const Variable& dst = anchorVariable(exe, out);
  CHECK(dst.mapping.size() > 2);
  CHECK(dst.mapping.front().elementCount != dst.mapping.back().elementCount);  // a remainder tile
}

// The source of every element of an output of shape `out` by a function of its multi-index.
inline std::vector<int64_t> referenceMap(const Shape& out, const std::function<int64_t(const std::vector<int64_t>&)>& f) {
  std::vector<int64_t> sources(static_cast<size_t>(elementCount(out)));
  std::vector<int64_t> index(out.size(), 0);
  for (auto& s : sources) {
    s = f(index);
    for (size_t d = out.size(); d-- > 0;) {
      if (++index[d] < out[d]) break;
      index[d] = 0;
    }
  }
  return sources;
}

}  // namespace ipusim::layout_test
