// Shared helpers of the popef tests: a hand-built executable that uses every IR feature,
// a field-by-field comparison, an independent writer of the container layout (so crafted
// files can carry valid CRCs), and a strict little JSON parser to read dumpJson back.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sim/executable.h"

namespace popef_test {

// Two subgraphs under Switch(index), every program kind, constants (two of them named
// "w"), a reshaped output anchor, several tiles with memory usage, and fusion info.
ipusim::Executable sampleExecutable();

// "" when equal; otherwise a description of the first difference found.
std::string difference(const ipusim::Executable& a, const ipusim::Executable& b);

// One blob of a crafted container.
struct RawBlob {
  uint32_t type = 0;
  std::string name;
  std::string payload;
};

// Splits a well-formed file into its blobs (the test's own reading of the layout).
std::vector<RawBlob> splitContainer(const std::string& file);
// Builds a file from blobs with correct CRCs; `version` lets tests write other versions.
std::string joinContainer(const std::vector<RawBlob>& blobs, uint32_t version = 1);

// The reference CRC-32: bit by bit, straight from the definition.
uint32_t referenceCrc32(std::string_view bytes);

// A parsed JSON value; parseJson throws std::runtime_error on anything that is not JSON.
struct Json {
  enum class Kind { Null, Bool, Number, String, Array, Object } kind = Kind::Null;
  bool boolean = false;
  double number = 0;
  std::string text;
  std::vector<Json> items;
  // A struct of its own, not std::pair<std::string, Json>: clang cannot instantiate the pair
  // of a still incomplete Json.
  struct Member;
  std::vector<Member> members;

  bool isNull() const { return kind == Kind::Null; }
  // Member lookup; throws std::runtime_error when absent (so a test fails clearly).
  const Json& operator[](const std::string& key) const;
  const Json& operator[](size_t index) const;
  bool has(const std::string& key) const;
  size_t size() const;
};
struct Json::Member {
  std::string first;  // the key
  Json second;        // the value
};
Json parseJson(std::string_view text);

}  // namespace popef_test
