// Internal to popef/: conversion between the Executable IR and the protobuf payloads of
// popef.proto. Decoding never trusts the messages: every enum, shape, packed-list length
// and index (codelet, variable, compute set, exchange, stream) is checked before it is
// used, and the anchors and fusion info are checked against the streams. Tile and byte
// ranges are left to verifyExecutable, which popef_file.cpp runs last. Faults are thrown
// as codec::Fault (a message without the file name; popef_file.cpp adds it).
#pragma once
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "popef.pb.h"
#include "sim/executable.h"

namespace ipusim::popef::codec {

class Fault : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws Fault with the parts (strings, string views, C strings) joined.
template <typename... Parts>
[[noreturn]] void fail(Parts&&... parts) {
  std::string message;
  (message += ... += std::forward<Parts>(parts));
  throw Fault(message);
}

// Nesting limit of program trees. protobuf refuses messages nested deeper than 100
// levels, and the metadata wraps a program in two more; 64 leaves room and is far more
// than a compiled model needs (sequence > switch > sequence > repeat > ...).
inline constexpr int kMaxProgramDepth = 64;

// The TensorData blob name of each variable ("" for non-constants): the variable's name,
// or "<name>#<id>" when the name is empty or already taken by another constant.
// Throws Fault when no unique name can be made.
std::vector<std::string> tensorDataNames(const Executable& exe);

void encodeMetadata(const Executable& exe, pb::Metadata& out);
void encodeExecutable(const Executable& exe, const std::vector<std::string>& dataBlobNames,
                      pb::Executable& out);
void encodeFusion(const FusionInfo& fusion, pb::Fusion& out);

// Decoding runs in this order, each step relying on the checks of the previous ones:
// the target, the executable body, then the programs and anchors, then constants, fusion.
Target decodeTarget(const pb::Metadata& metadata);
// Fills everything but the programs, the constant data and the fusion info. `dataBlobs`
// receives, per variable, the TensorData blob name ("" for non-constants).
void decodeExecutable(const pb::Executable& in, Executable& exe,
                      std::vector<std::string>& dataBlobs);
// The load and main programs, then the anchors, checked against exe's streams.
void decodeProgramsAndAnchors(const pb::Metadata& metadata, Executable& exe);
// Copies each constant's bytes from its TensorData blob (name -> payload); every blob must
// belong to exactly one constant and hold exactly elementCount * dtypeSize bytes.
void attachTensorData(const std::map<std::string, std::string_view>& tensorData,
                      const std::vector<std::string>& dataBlobs, Executable& exe);
void decodeFusion(const pb::Fusion& in, Executable& exe);

}  // namespace ipusim::popef::codec
