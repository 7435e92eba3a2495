#include "base/status.h"

#include <gtest/gtest.h>

namespace pocket {
namespace {

Result<int> Half(int x) {
  if (x % 2) return InvalidArgument(StrFormat("%d is odd", x));
  return x / 2;
}

Status Chain(int x, int* out) {
  ASSIGN_OR_RETURN(int h, Half(x));
  ASSIGN_OR_RETURN(*out, Half(h));
  return Status::Ok();
}

TEST(Status, OkAndError) {
  EXPECT_TRUE(Status().ok());
  const Status s = DataLoss("bad block");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_EQ(s.WithContext("model.gguf").message(), "model.gguf: bad block");
}

TEST(Status, ResultPropagates) {
  int out = 0;
  EXPECT_TRUE(Chain(8, &out).ok());
  EXPECT_EQ(out, 2);
  const Status st = Chain(6, &out);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(), "3 is odd");
}

TEST(Status, ResultFromOkStatusIsAnError) {
  Result<int> r = Status::Ok();
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
}

TEST(Status, StrFormatLongStrings) {
  const std::string big(5000, 'x');
  EXPECT_EQ(StrFormat("%s!", big.c_str()).size(), 5001u);
}

}  // namespace
}  // namespace pocket
