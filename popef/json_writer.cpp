#include "popef/json_writer.h"

#include <charconv>
#include <cmath>
#include <stdexcept>

namespace ipusim::json {
namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 if it is not one
// (overlong forms, surrogates and code points above U+10FFFF are invalid).
size_t utf8SequenceLength(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char b0 = byte(i);
  size_t n;
  uint32_t cp;
  if (b0 < 0x80) return 1;
  if (b0 >= 0xC2 && b0 <= 0xDF) { n = 2; cp = b0 & 0x1Fu; }
  else if (b0 >= 0xE0 && b0 <= 0xEF) { n = 3; cp = b0 & 0x0Fu; }
  else if (b0 >= 0xF0 && b0 <= 0xF4) { n = 4; cp = b0 & 0x07u; }
  else return 0;
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0u) != 0x80u) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3Fu);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
      (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return n;
}

}  // namespace

std::string quote(std::string_view text) {
  static const char* const hex = "0123456789abcdef";
  std::string out;
  out.reserve(text.size() + 2);
  out += '"';
  for (size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 0xF];
        } else if (c < 0x80) {
          out += static_cast<char>(c);
        } else if (size_t n = utf8SequenceLength(text, i)) {
          out.append(text.substr(i, n));
          i += n;
          continue;
        } else {
          out += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER
        }
    }
    ++i;
  }
  out += '"';
  return out;
}

Writer::Writer(int indent) : indent_(indent < 0 ? 0 : indent) {}

void Writer::newline() {
  if (indent_ == 0) return;
  out_ += '\n';
  out_.append(stack_.size() * static_cast<size_t>(indent_), ' ');
}

void Writer::beforeValue() {
  if (done_) throw std::logic_error("json::Writer: a second top-level value");
  if (stack_.empty()) return;
  Level& top = stack_.back();
  if (top.scope == Scope::Object) {
    if (!keyPending_) throw std::logic_error("json::Writer: a value in an object needs a key first");
    keyPending_ = false;
    return;  // key() already wrote the separator
  }
  if (top.items++ > 0) out_ += ',';
  newline();
}

Writer& Writer::key(std::string_view name) {
  if (stack_.empty() || stack_.back().scope != Scope::Object)
    throw std::logic_error("json::Writer: key outside an object");
  if (keyPending_) throw std::logic_error("json::Writer: two keys in a row");
  if (stack_.back().items++ > 0) out_ += ',';
  newline();
  out_ += quote(name);
  out_ += indent_ ? ": " : ":";
  keyPending_ = true;
  return *this;
}

void Writer::open(Scope scope, char bracket) {
  beforeValue();
  out_ += bracket;
  stack_.push_back({scope});
}

void Writer::close(Scope scope, char bracket) {
  if (stack_.empty() || stack_.back().scope != scope)
    throw std::logic_error(std::string("json::Writer: unmatched '") + bracket + "'");
  if (keyPending_) throw std::logic_error("json::Writer: a key without a value");
  bool empty = stack_.back().items == 0;
  stack_.pop_back();
  if (!empty) newline();
  out_ += bracket;
  if (stack_.empty()) done_ = true;
}

Writer& Writer::beginObject() { open(Scope::Object, '{'); return *this; }
Writer& Writer::endObject() { close(Scope::Object, '}'); return *this; }
Writer& Writer::beginArray() { open(Scope::Array, '['); return *this; }
Writer& Writer::endArray() { close(Scope::Array, ']'); return *this; }

// A scalar at top level is a complete document by itself.
Writer& Writer::scalar(std::string_view text) {
  beforeValue();
  out_ += text;
  if (stack_.empty()) done_ = true;
  return *this;
}

Writer& Writer::value(std::string_view text) { return scalar(quote(text)); }
Writer& Writer::value(bool b) { return scalar(b ? "true" : "false"); }
Writer& Writer::null() { return scalar("null"); }

Writer& Writer::value(double number) {
  if (!std::isfinite(number)) return null();
  char buf[32];
  // Shortest text that reads back as the same double; 32 characters always suffice.
  auto result = std::to_chars(buf, buf + sizeof buf, number);
  return scalar(std::string_view(buf, static_cast<size_t>(result.ptr - buf)));
}

Writer& Writer::writeInteger(int64_t number) { return scalar(std::to_string(number)); }
Writer& Writer::writeUnsigned(uint64_t number) { return scalar(std::to_string(number)); }

bool Writer::complete() const { return done_; }

std::string Writer::str() const {
  if (!done_) throw std::logic_error("json::Writer: the document is incomplete");
  return out_ + '\n';
}

}  // namespace ipusim::json
