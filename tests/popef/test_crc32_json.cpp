// The two small building blocks of popef/: CRC-32 and the JSON writer.
#include <doctest/doctest.h>

#include <cmath>
#include <stdexcept>
#include <string>

#include "popef/crc32.h"
#include "popef/json_writer.h"
#include "popef_test_support.h"

using ipusim::popef::crc32;
namespace json = ipusim::json;

TEST_CASE("crc32: known answers") {
  CHECK(crc32("123456789") == 0xCBF43926u);  // the catalogue check value of CRC-32/ISO-HDLC
  CHECK(crc32("") == 0u);
  CHECK(crc32("a") == 0xE8B7BE43u);
  CHECK(crc32("The quick brown fox jumps over the lazy dog") == 0x414FA339u);
  CHECK(crc32(std::string(32, '\0')) == 0x190A55ADu);
}

TEST_CASE("crc32: the sliced loop agrees with the bitwise definition at every length and split") {
  std::string data;
  uint32_t x = 12345;
  for (int i = 0; i < 300; ++i) {
    x = x * 1103515245u + 12345u;
    data += static_cast<char>(x >> 16);
  }
  for (size_t n = 0; n <= data.size(); ++n) {
    std::string_view prefix(data.data(), n);
    REQUIRE(crc32(prefix) == popef_test::referenceCrc32(prefix));
  }
  // Chaining: crc32(b, crc32(a)) == crc32(a + b), whatever the split point.
  for (size_t split = 0; split <= data.size(); split += 7) {
    std::string_view all(data);
    CHECK(crc32(all.substr(split), crc32(all.substr(0, split))) == crc32(all));
  }
}

TEST_CASE("json::quote escapes what JSON requires and keeps valid UTF-8") {
  CHECK(json::quote("plain") == "\"plain\"");
  CHECK(json::quote("a\"b\\c") == "\"a\\\"b\\\\c\"");
  CHECK(json::quote("\n\r\t\b\f") == "\"\\n\\r\\t\\b\\f\"");
  CHECK(json::quote(std::string("\x01\x1f\0", 3)) == "\"\\u0001\\u001f\\u0000\"");
  CHECK(json::quote("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80") == "\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"");
  // Invalid UTF-8 (a lone continuation byte, a truncated sequence, an overlong '/', a
  // surrogate) becomes U+FFFD so the document stays valid.
  CHECK(json::quote("\x80") == "\"\xEF\xBF\xBD\"");
  CHECK(json::quote("x\xC3") == "\"x\xEF\xBF\xBD\"");
  CHECK(json::quote("\xC0\xAF") == "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");
  CHECK(json::quote("\xED\xA0\x80") == "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");
}

TEST_CASE("json::Writer: compact output is exact") {
  json::Writer w(0);
  w.beginObject()
      .field("a", 1)
      .field("neg", int64_t{-9223372036854775807 - 1})
      .field("big", uint64_t{18446744073709551615u});
  w.key("list").beginArray().value(true).value(false).null().value("x").value(0.5).endArray();
  w.key("empty").beginObject().endObject();
  w.key("none").beginArray().endArray();
  w.field("nan", std::nan(""));
  w.endObject();
  CHECK(w.str() ==
        "{\"a\":1,\"neg\":-9223372036854775808,\"big\":18446744073709551615,"
        "\"list\":[true,false,null,\"x\",0.5],\"empty\":{},\"none\":[],\"nan\":null}\n");
}

TEST_CASE("json::Writer: indented output is exact and parses back") {
  json::Writer w;
  w.beginObject().field("name", "ipu\"21").key("shape").beginArray().value(1).value(2).endArray();
  w.field("clock", 1.325e9).endObject();
  const std::string text = w.str();
  CHECK(text ==
        "{\n"
        "  \"name\": \"ipu\\\"21\",\n"
        "  \"shape\": [\n"
        "    1,\n"
        "    2\n"
        "  ],\n"
        "  \"clock\": 1.325e+09\n"
        "}\n");
  popef_test::Json doc = popef_test::parseJson(text);
  CHECK(doc["name"].text == "ipu\"21");
  CHECK(doc["shape"][1].number == 2);
  CHECK(doc["clock"].number == 1.325e9);
}

TEST_CASE("json::Writer: doubles survive the round trip") {
  for (double v : {0.1, 1.0 / 3.0, 1e-300, 5.5e9, -0.0, 123456789.123}) {
    json::Writer w;
    w.value(v);
    CHECK(popef_test::parseJson(w.str()).number == v);
  }
}

TEST_CASE("json::Writer: refuses malformed sequences") {
  {
    json::Writer w;
    w.beginObject();
    CHECK_THROWS_AS(w.value(1), std::logic_error);  // no key
    CHECK_THROWS_AS(w.endArray(), std::logic_error);
    w.key("k");
    CHECK_THROWS_AS(w.key("again"), std::logic_error);
    CHECK_THROWS_AS(w.endObject(), std::logic_error);  // key without a value
    CHECK_FALSE(w.complete());
    CHECK_THROWS_AS(w.str(), std::logic_error);
  }
  {
    json::Writer w;
    w.beginArray();
    CHECK_THROWS_AS(w.key("k"), std::logic_error);
    w.endArray();
    CHECK(w.complete());
    CHECK_THROWS_AS(w.value(2), std::logic_error);  // a second top-level value
  }
  {
    json::Writer w;
    CHECK_THROWS_AS(w.endObject(), std::logic_error);
    w.value("alone");
    CHECK(w.str() == "\"alone\"\n");
  }
}

TEST_CASE("the test JSON parser rejects what is not JSON") {
  for (const char* bad : {"", "{", "[1,]", "{\"a\":1,}", "01", "tru", "\"a\nb\"", "{} {}", "{'a':1}", "1."})
    CHECK_THROWS_AS(popef_test::parseJson(bad), std::runtime_error);
  CHECK(popef_test::parseJson(" {\"a\": [1, -2.5e3, \"\\u00e9\"]} ")["a"][2].text == "\xC3\xA9");
}
