// Host tensors to and from files: numpy .npy and ONNX TensorProto .pb.
// Readers never trust the file: every size is checked against the bytes it holds.
#pragma once
#include <stdexcept>
#include <string>
#include <string_view>

#include "sim/runtime/model_runner.h"

namespace ipusim::cli {

class TensorFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// .npy format versions 1.0, 2.0 and 3.0; dtypes <f4 <f2 |i1 |u1 <i4 <u4 <i8 |b1; C order.
HostTensor decodeNpy(std::string_view bytes, const std::string& sourceName);
HostTensor readNpy(const std::string& path);
// Format version 1.0, header padded to 64 bytes like numpy.
std::string encodeNpy(const HostTensor& tensor);
// Atomic: writes a temporary file beside `path`, then renames it.
void writeNpy(const HostTensor& tensor, const std::string& path);

// A serialised onnx::TensorProto (raw_data or the typed fields). The name it holds is
// returned in `name` when that is non-null.
HostTensor decodeTensorProto(std::string_view bytes, const std::string& sourceName,
                             std::string* name = nullptr);
HostTensor readTensorProto(const std::string& path, std::string* name = nullptr);

// By extension: .npy or .pb.
HostTensor readTensorFile(const std::string& path);

// Whole file into memory; TensorFileError naming the path when it cannot be read.
std::string readFileBytes(const std::string& path);
// Writes `bytes` to a temporary file beside `path`, then renames it over `path`.
void writeFileAtomically(const std::string& path, std::string_view bytes);

}  // namespace ipusim::cli
