// libFuzzer target: the output parser on arbitrary text. Invariants: no crash; streaming the
// text in pieces (cut where the input's first byte says) gives exactly the whole parse.
#include <cstdlib>

#include "chat/output_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool sir = data[0] & 1;
  const size_t step = 1 + (data[0] >> 1) % 7;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  const pocket::ParsedOutput whole = pocket::ParseModelOutput(text, sir);
  pocket::StreamingOutputParser s(sir);
  std::string reasoning, content;
  size_t calls = 0;
  auto add = [&](const pocket::StreamingOutputParser::Delta& d) {
    reasoning += d.reasoning;
    content += d.content;
    calls += d.tool_calls.size();
  };
  for (size_t i = 0; i < text.size(); i += step) add(s.Push(text.substr(i, step)));
  add(s.Finish());
  if (reasoning != whole.reasoning || content != whole.content || calls != whole.tool_calls.size())
    std::abort();
  (void)pocket::ParsedOutputToJson(whole);
  return 0;
}
