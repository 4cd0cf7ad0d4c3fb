// A tiny streaming JSON writer: it places commas, colons and indentation itself, escapes
// strings, and refuses malformed sequences (std::logic_error) so a caller cannot emit
// broken JSON. Used by `ipusim dump --json` and reusable by any command's --json output.
//
//   ipusim::json::Writer w;
//   w.beginObject().field("name", "ipu21").field("tiles", 1472);
//   w.key("shape").beginArray().value(1).value(2).endArray();
//   w.endObject();
//   std::string text = w.str();
#pragma once
#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace ipusim::json {

// `text` as a JSON string literal, quotes included. Control characters, '"' and '\' are
// escaped; bytes that are not valid UTF-8 become U+FFFD so the output is always valid.
std::string quote(std::string_view text);

class Writer {
 public:
  // `indent` spaces per level; 0 writes everything on one line.
  explicit Writer(int indent = 2);

  Writer& beginObject();
  Writer& endObject();
  Writer& beginArray();
  Writer& endArray();
  // The next member's name; only inside an object, and each key needs one value.
  Writer& key(std::string_view name);

  Writer& value(std::string_view text);
  Writer& value(const std::string& text) { return value(std::string_view(text)); }
  Writer& value(const char* text) { return value(std::string_view(text)); }
  Writer& value(bool b);
  Writer& value(double number);  // NaN and infinities are written as null
  template <std::integral T>
    requires(!std::same_as<T, bool>)
  Writer& value(T number) {
    if constexpr (std::is_signed_v<T>)
      return writeInteger(static_cast<int64_t>(number));
    else
      return writeUnsigned(static_cast<uint64_t>(number));
  }
  Writer& null();

  // key(name) followed by value(v).
  template <typename T>
  Writer& field(std::string_view name, const T& v) {
    key(name);
    return value(v);
  }

  // True once exactly one complete top-level value has been written.
  bool complete() const;
  // The document followed by a newline; throws std::logic_error when not complete().
  std::string str() const;

 private:
  enum class Scope : uint8_t { Object, Array };
  struct Level {
    Scope scope;
    size_t items = 0;
  };

  Writer& scalar(std::string_view text);  // a value's finished text
  Writer& writeInteger(int64_t number);
  Writer& writeUnsigned(uint64_t number);
  void beforeValue();  // checks the position and writes the separator
  void newline();
  void open(Scope scope, char bracket);
  void close(Scope scope, char bracket);

  std::string out_;
  std::vector<Level> stack_;
  int indent_;
  bool keyPending_ = false;
  bool done_ = false;
};

}  // namespace ipusim::json
