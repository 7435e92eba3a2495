// Truncated, corrupted and hostile GGUF files: each must give a clear DataLoss error naming
// the problem, never a crash, a hang or a giant allocation.
#include <algorithm>
#include <cstring>

#include "common/test_util.h"
#include "formats/gguf_reader.h"
#include "formats/gguf_writer.h"

namespace pocket {
namespace {

// Builds raw GGUF bytes field by field so any field can be made wrong.
class Raw {
 public:
  template <typename T>
  Raw& Put(T v) {
    bytes_.append(reinterpret_cast<const char*>(&v), sizeof(T));
    return *this;
  }
  Raw& Str(const std::string& s) {
    Put<uint64_t>(s.size());
    bytes_ += s;
    return *this;
  }
  Raw& Header(int64_t n_tensors, int64_t n_kv, uint32_t version = 3) {
    return Put<uint32_t>(0x46554747u).Put<uint32_t>(version).Put<int64_t>(n_tensors).Put<int64_t>(n_kv);
  }
  Raw& KvU32(const std::string& key, uint32_t v) { return Str(key).Put<int32_t>(4).Put<uint32_t>(v); }
  Raw& TensorInfo(const std::string& name, std::vector<int64_t> ne, int32_t type, uint64_t offset) {
    Str(name).Put<uint32_t>(static_cast<uint32_t>(ne.size()));
    for (int64_t d : ne) Put<int64_t>(d);
    return Put<int32_t>(type).Put<uint64_t>(offset);
  }
  Raw& PadTo(size_t align) {
    bytes_.resize((bytes_.size() + align - 1) / align * align, '\0');
    return *this;
  }
  Raw& Zeros(size_t n) {
    bytes_.append(n, '\0');
    return *this;
  }
  const std::string& bytes() const { return bytes_; }

 private:
  std::string bytes_;
};

Status Parse(const std::string& bytes) {
  auto f = GgufFile::ParseBuffer(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), "bad.gguf");
  return f.status();
}

// Expects a DataLoss error whose message names the file and contains `needle`.
void ExpectRejected(const std::string& bytes, const std::string& needle) {
  const Status st = Parse(bytes);
  ASSERT_FALSE(st.ok()) << "accepted a file that should fail with: " << needle;
  EXPECT_EQ(st.code(), StatusCode::kDataLoss) << st.message();
  EXPECT_NE(st.message().find("bad.gguf"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find(needle), std::string::npos) << "message: " << st.message();
}

std::string ValidFile() {
  GgufWriter w;
  w.SetString("general.architecture", "gemma4");
  w.SetArrayString("tokenizer.ggml.tokens", {"<pad>", "<eos>", "<bos>"});
  w.SetNestedArrayI32("x.nested", {{1}, {2, 3}});
  std::vector<float> data(64, 1.0f);
  EXPECT_TRUE(w.AddTensor("token_embd.weight", DType::kF32, {16, 4}, data.data(), 256).ok());
  std::vector<uint8_t> q(2 * 18);
  EXPECT_TRUE(w.AddTensor("blk.0.attn_q.weight", DType::kQ4_0, {64}, q.data(), q.size()).ok());
  return *w.WriteToString();
}

TEST(GgufCorrupt, ValidFileParses) { EXPECT_TRUE(Parse(ValidFile()).ok()); }

TEST(GgufCorrupt, EveryTruncationIsAnErrorNotACrash) {
  const std::string full = ValidFile();
  auto f = GgufFile::ParseBuffer(reinterpret_cast<const uint8_t*>(full.data()), full.size(), "ok.gguf");
  ASSERT_TRUE(f.ok());
  uint64_t data_end = 0;  // the trailing alignment padding may legitimately be cut
  for (const TensorInfo& t : f->tensors()) data_end = std::max<uint64_t>(data_end, t.offset + t.nbytes);
  ASSERT_GT(data_end, full.size() - 32);
  for (size_t n = 0; n < data_end; ++n) {
    const Status st = Parse(full.substr(0, n));
    EXPECT_FALSE(st.ok()) << "prefix of " << n << " bytes was accepted";
  }
}

TEST(GgufCorrupt, EverySingleByteFlipIsHandled) {
  // Flipping any byte may or may not make the file invalid, but must never crash.
  const std::string full = ValidFile();
  for (size_t i = 0; i < full.size(); ++i) {
    std::string b = full;
    b[i] = static_cast<char>(b[i] ^ 0xA5);
    (void)Parse(b);
  }
  SUCCEED();
}

TEST(GgufCorrupt, BadMagic) { ExpectRejected(Raw().Put<uint32_t>(0x46554746).Put<uint32_t>(3).Zeros(16).bytes(), "bad magic"); }
TEST(GgufCorrupt, EmptyFile) { ExpectRejected("", "too short"); }
TEST(GgufCorrupt, Version1) { ExpectRejected(Raw().Header(0, 0, 1).bytes(), "version 1"); }
TEST(GgufCorrupt, FutureVersion) { ExpectRejected(Raw().Header(0, 0, 4).bytes(), "unsupported GGUF version 4"); }
TEST(GgufCorrupt, BigEndian) { ExpectRejected(Raw().Header(0, 0, 0x03000000).bytes(), "big-endian"); }
TEST(GgufCorrupt, NegativeTensorCount) { ExpectRejected(Raw().Header(-1, 0).bytes(), "negative tensor count"); }
TEST(GgufCorrupt, NegativeKvCount) { ExpectRejected(Raw().Header(0, -5).bytes(), "negative key/value count"); }
TEST(GgufCorrupt, HugeKvCount) { ExpectRejected(Raw().Header(0, int64_t{1} << 60).bytes(), "cannot fit"); }
TEST(GgufCorrupt, HugeTensorCount) { ExpectRejected(Raw().Header(int64_t{1} << 62, 0).bytes(), "cannot fit"); }

TEST(GgufCorrupt, HugeStringLength) {
  Raw r;
  r.Header(0, 1).Put<uint64_t>(~0ull).Zeros(20);
  ExpectRejected(r.bytes(), "exceeds");
}

TEST(GgufCorrupt, EmptyKey) { ExpectRejected(Raw().Header(0, 1).Str("").Put<int32_t>(4).Put<uint32_t>(1).bytes(), "empty"); }

TEST(GgufCorrupt, InvalidUtf8Key) {
  ExpectRejected(Raw().Header(0, 1).Str("bad\xff\xfekey").Put<int32_t>(4).Put<uint32_t>(1).bytes(), "UTF-8");
}

TEST(GgufCorrupt, DuplicateKey) {
  ExpectRejected(Raw().Header(0, 2).KvU32("a.b", 1).KvU32("a.b", 2).bytes(), "duplicate key 'a.b'");
}

TEST(GgufCorrupt, UnknownValueType) {
  ExpectRejected(Raw().Header(0, 1).Str("k").Put<int32_t>(13).Put<uint32_t>(0).bytes(), "unknown value type 13");
}

TEST(GgufCorrupt, UnknownArrayElementType) {
  ExpectRejected(Raw().Header(0, 1).Str("k").Put<int32_t>(9).Put<int32_t>(77).Put<uint64_t>(1).Zeros(8).bytes(),
                 "unknown array element type 77");
}

TEST(GgufCorrupt, HugeArrayCount) {
  ExpectRejected(Raw().Header(0, 1).Str("k").Put<int32_t>(9).Put<int32_t>(6).Put<uint64_t>(1ull << 61).Zeros(8).bytes(),
                 "needs more than");
}

TEST(GgufCorrupt, HugeStringArrayCount) {
  ExpectRejected(Raw().Header(0, 1).Str("k").Put<int32_t>(9).Put<int32_t>(8).Put<uint64_t>(1ull << 40).Zeros(8).bytes(),
                 "cannot fit");
}

TEST(GgufCorrupt, ArraysNestedTooDeep) {
  Raw r;
  r.Header(0, 1).Str("deep").Put<int32_t>(9);
  for (int i = 0; i < 20; ++i) r.Put<int32_t>(9).Put<uint64_t>(1);
  r.Put<int32_t>(4).Put<uint64_t>(0).Zeros(64);
  ExpectRejected(r.bytes(), "nested deeper");
}

TEST(GgufCorrupt, BooleanOutOfRange) {
  ExpectRejected(Raw().Header(0, 1).Str("flag").Put<int32_t>(7).Put<uint8_t>(2).bytes(), "boolean");
}

TEST(GgufCorrupt, AlignmentNotPowerOfTwo) {
  ExpectRejected(Raw().Header(0, 1).KvU32("general.alignment", 24).bytes(), "power-of-two");
}

TEST(GgufCorrupt, AlignmentZero) { ExpectRejected(Raw().Header(0, 1).KvU32("general.alignment", 0).bytes(), "power-of-two"); }

TEST(GgufCorrupt, AlignmentWrongType) {
  ExpectRejected(Raw().Header(0, 1).Str("general.alignment").Put<int32_t>(5).Put<int32_t>(32).bytes(), "power-of-two");
}

TEST(GgufCorrupt, TooManyDimensions) {
  ExpectRejected(Raw().Header(1, 0).TensorInfo("t", {1, 1, 1, 1, 1}, 0, 0).PadTo(32).Zeros(32).bytes(),
                 "5 dimensions");
}

TEST(GgufCorrupt, NegativeDimension) {
  ExpectRejected(Raw().Header(1, 0).TensorInfo("t", {4, -1}, 0, 0).PadTo(32).Zeros(64).bytes(), "negative");
}

TEST(GgufCorrupt, ShapeOverflow) {
  ExpectRejected(Raw().Header(1, 0).TensorInfo("t", {1 << 30, 1 << 30, 1 << 30, 1 << 30}, 0, 0).PadTo(32).Zeros(64).bytes(),
                 "overflows");
}

TEST(GgufCorrupt, UnknownTensorType) {
  ExpectRejected(Raw().Header(1, 0).TensorInfo("t", {32}, 31, 0).PadTo(32).Zeros(64).bytes(), "unknown ggml type id 31");
}

TEST(GgufCorrupt, RowNotWholeBlocks) {
  ExpectRejected(Raw().Header(1, 0).TensorInfo("t", {33}, 2, 0).PadTo(32).Zeros(64).bytes(), "not a multiple");
}

TEST(GgufCorrupt, MisalignedOffset) {
  ExpectRejected(Raw().Header(1, 0).TensorInfo("t", {8}, 0, 4).PadTo(32).Zeros(64).bytes(), "not a multiple of the alignment");
}

TEST(GgufCorrupt, OffsetPastEnd) {
  ExpectRejected(Raw().Header(1, 0).TensorInfo("blk.0.w", {8}, 0, 1024).PadTo(32).Zeros(32).bytes(),
                 "tensor 'blk.0.w'");
}

TEST(GgufCorrupt, DataTruncated) {
  ExpectRejected(Raw().Header(1, 0).TensorInfo("t", {64}, 0, 0).PadTo(32).Zeros(100).bytes(), "truncated");
}

TEST(GgufCorrupt, OverlappingTensors) {
  ExpectRejected(Raw().Header(2, 0).TensorInfo("a", {16}, 0, 0).TensorInfo("b", {16}, 0, 32).PadTo(32).Zeros(128).bytes(),
                 "overlap");
}

TEST(GgufCorrupt, DuplicateTensorName) {
  ExpectRejected(Raw().Header(2, 0).TensorInfo("a", {8}, 0, 0).TensorInfo("a", {8}, 0, 32).PadTo(32).Zeros(64).bytes(),
                 "duplicate tensor name 'a'");
}

TEST(GgufCorrupt, EmptyTensorName) {
  ExpectRejected(Raw().Header(1, 0).TensorInfo("", {8}, 0, 0).PadTo(32).Zeros(32).bytes(), "name length");
}

TEST(GgufCorrupt, ErrorsFromDiskNameThePath) {
  const std::string dir = testing::TempDir();
  testing::WriteFile(dir + "/broken.gguf", Raw().Header(1, 0).TensorInfo("t", {64}, 0, 0).bytes());
  auto f = GgufFile::Open(dir + "/broken.gguf");
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.status().message().find("broken.gguf"), std::string::npos);
  auto missing = GgufFile::Open(dir + "/nope.gguf");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kIoError);
}

}  // namespace
}  // namespace pocket
