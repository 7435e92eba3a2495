// safetensors: valid files of every dtype, and every kind of corrupt header.
#include <cstring>

#include "common/test_util.h"
#include "formats/safetensors_reader.h"

namespace pocket {
namespace {

std::string Make(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  const uint64_t n = header.size();
  std::memcpy(out.data(), &n, 8);
  return out + header + data;
}

Result<SafetensorsFile> Parse(const std::string& bytes) {
  return SafetensorsFile::ParseBuffer(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), "bad.safetensors");
}

void ExpectRejected(const std::string& bytes, const std::string& needle) {
  auto f = Parse(bytes);
  ASSERT_FALSE(f.ok()) << "accepted; expected: " << needle;
  EXPECT_NE(f.status().message().find("bad.safetensors"), std::string::npos) << f.status().message();
  EXPECT_NE(f.status().message().find(needle), std::string::npos) << "message: " << f.status().message();
}

TEST(Safetensors, ParsesEveryDtypeAndReversesShapes) {
  struct Case {
    const char* dtype;
    DType type;
    size_t size;
  };
  const Case cases[] = {{"F32", DType::kF32, 4}, {"F16", DType::kF16, 2},  {"BF16", DType::kBF16, 2},
                        {"F64", DType::kF64, 8}, {"I8", DType::kI8, 1},    {"U8", DType::kU8, 1},
                        {"I16", DType::kI16, 2}, {"I32", DType::kI32, 4},  {"I64", DType::kI64, 8},
                        {"BOOL", DType::kBool, 1}};
  std::string header = "{\"__metadata__\":{\"format\":\"pt\"}";
  size_t off = 0;
  for (const Case& c : cases) {
    const size_t n = 2 * 3 * c.size;
    header += StrFormat(",\"t_%s\":{\"dtype\":\"%s\",\"shape\":[2,3],\"data_offsets\":[%zu,%zu]}", c.dtype, c.dtype, off, off + n);
    off += n;
  }
  header += ",\"scalar\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[" + std::to_string(off) + "," +
            std::to_string(off + 4) + "]}}";
  off += 4;
  std::string data(off, '\x01');
  auto f = Parse(Make(header, data));
  ASSERT_TRUE(f.ok()) << f.status().message();
  ASSERT_EQ(f->tensors().size(), 11u);
  for (const TensorInfo& t : f->tensors()) {
    if (t.name == "scalar") {
      EXPECT_EQ(t.n_dims, 0);
      EXPECT_EQ(t.nbytes, 4u);
      continue;
    }
    EXPECT_EQ(t.n_dims, 2) << t.name;
    EXPECT_EQ(t.ne[0], 3) << t.name;  // ggml order: last torch dim first
    EXPECT_EQ(t.ne[1], 2) << t.name;
  }
  ASSERT_EQ(f->user_metadata().size(), 1u);
  EXPECT_EQ(f->user_metadata()[0].second, "pt");
}

TEST(Safetensors, HeaderWithTrailingSpacesIsValid) {
  auto f = Parse(Make("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}    ", std::string(4, '\0')));
  EXPECT_TRUE(f.ok()) << f.status().message();
}

TEST(Safetensors, TooShort) { ExpectRejected("abc", "too short"); }
TEST(Safetensors, HeaderLengthPastEnd) { ExpectRejected(Make("{}", "").substr(0, 9), "past the end"); }
TEST(Safetensors, HugeHeaderLength) {
  std::string b(16, '\0');
  const uint64_t n = 1ull << 50;
  std::memcpy(b.data(), &n, 8);
  ExpectRejected(b, "100 MiB");
}
TEST(Safetensors, NotJson) { ExpectRejected(Make("{not json", ""), "not valid JSON"); }
TEST(Safetensors, HeaderNotAnObject) { ExpectRejected(Make("[1,2,3]", ""), "expected an object"); }
TEST(Safetensors, InvalidUtf8Header) { ExpectRejected(Make("{\"\xff\":1}", ""), "UTF-8"); }
TEST(Safetensors, EntryNotAnObject) { ExpectRejected(Make("{\"a\":5}", ""), "tensor 'a': entry is not an object"); }
TEST(Safetensors, MissingDtype) { ExpectRejected(Make("{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", "xxxx"), "dtype"); }
TEST(Safetensors, UnknownDtype) {
  ExpectRejected(Make("{\"a\":{\"dtype\":\"F8_E4M3\",\"shape\":[1],\"data_offsets\":[0,1]}}", "x"), "F8_E4M3");
}
TEST(Safetensors, NegativeShape) {
  ExpectRejected(Make("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", "xxxx"), "shape[0]");
}
TEST(Safetensors, TooManyDims) {
  ExpectRejected(Make("{\"a\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1],\"data_offsets\":[0,1]}}", "x"), "5 dimensions");
}
TEST(Safetensors, ShapeOverflow) {
  ExpectRejected(Make("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],\"data_offsets\":[0,4]}}", "xxxx"),
                 "overflows");
}
TEST(Safetensors, OffsetsPastEnd) {
  ExpectRejected(Make("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", "xxxx"), "past the end");
}
TEST(Safetensors, OffsetsReversed) {
  ExpectRejected(Make("{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,0]}}", "xxxx"), "reversed");
}
TEST(Safetensors, SizeMismatch) {
  ExpectRejected(Make("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", "xxxx"), "need 8");
}
TEST(Safetensors, BadOffsetsArray) {
  ExpectRejected(Make("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", "xxxx"), "data_offsets");
}
TEST(Safetensors, Overlap) {
  ExpectRejected(Make("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                      "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
                      std::string(12, 'x')),
                 "overlap");
}
TEST(Safetensors, DuplicateName) {
  ExpectRejected(Make("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                      "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
                      std::string(8, 'x')),
                 "duplicate tensor name 'a'");
}
TEST(Safetensors, MetadataNotStrings) { ExpectRejected(Make("{\"__metadata__\":{\"a\":1}}", ""), "__metadata__"); }

TEST(Safetensors, EveryTruncationIsHandled) {
  const std::string full = Make("{\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}", std::string(16, 'x'));
  for (size_t n = 0; n < full.size(); ++n) EXPECT_FALSE(Parse(full.substr(0, n)).ok()) << n;
  EXPECT_TRUE(Parse(full).ok());
}

}  // namespace
}  // namespace pocket
