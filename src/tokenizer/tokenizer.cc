#include "tokenizer/tokenizer.h"

#include <sys/stat.h>

#include <algorithm>
#include <functional>

#include "base/mapped_file.h"
#include "formats/gguf_reader.h"
#include "formats/metadata.h"
#include "tokenizer/utf8.h"

namespace pocket {
namespace {

constexpr std::string_view kSpaceMark = "\xE2\x96\x81";  // U+2581 '▁'

// Texts that end a generation; a USER_DEFINED token with one of them is re-typed CONTROL
// (it must not show up in decoded text), as llama.cpp does at load.
constexpr std::string_view kEogTexts[] = {"<eos>", "<turn|>", "<|tool_response>"};

// A UTF-8 character of 1-4 bytes packed little-endian; unique because the lead byte fixes
// the length.
uint64_t CharKey(std::string_view c) {
  uint64_t k = 0;
  for (size_t i = 0; i < c.size(); ++i)
    k |= static_cast<uint64_t>(static_cast<uint8_t>(c[i])) << (8 * i);
  return k | (static_cast<uint64_t>(c.size()) << 32);
}

bool IsDirectory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace

int ParseByteToken(std::string_view t) {
  if (t.size() != 6 || t.substr(0, 3) != "<0x" || t[5] != '>') return -1;
  auto hex = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  const int hi = hex(t[3]), lo = hex(t[4]);
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

void Tokenizer::FlatMap::Reserve(size_t n) {
  size_t cap = 16;
  int bits = 4;
  while (cap < n * 2) {
    cap *= 2;
    ++bits;
  }
  keys_.assign(cap, kEmpty);
  values_.assign(cap, 0);
  shift_ = 64 - bits;
  size_ = 0;
}

bool Tokenizer::FlatMap::Insert(uint64_t key, uint64_t value) {
  if ((size_ + 1) * 2 > keys_.size()) {
    std::vector<uint64_t> old_keys = std::move(keys_), old_values = std::move(values_);
    Reserve(std::max<size_t>(16, old_keys.size()));
    for (size_t i = 0; i < old_keys.size(); ++i) {
      if (old_keys[i] != kEmpty) Insert(old_keys[i], old_values[i]);
    }
  }
  const size_t mask = keys_.size() - 1;
  for (size_t i = Slot(key);; i = (i + 1) & mask) {
    if (keys_[i] == key) return false;
    if (keys_[i] == kEmpty) {
      keys_[i] = key;
      values_[i] = value;
      ++size_;
      return true;
    }
  }
}

const uint64_t* Tokenizer::FlatMap::Find(uint64_t key) const {
  if (keys_.empty()) return nullptr;
  const size_t mask = keys_.size() - 1;
  for (size_t i = Slot(key);; i = (i + 1) & mask) {
    if (keys_[i] == key) return &values_[i];
    if (keys_[i] == kEmpty) return nullptr;
  }
}

Result<std::unique_ptr<Tokenizer>> Tokenizer::Load(const std::string& path) {
  std::string json_path;
  if (IsDirectory(path)) {
    json_path = path + "/tokenizer.json";
  } else if (path.size() >= 5 && path.compare(path.size() - 5, 5, ".json") == 0) {
    json_path = path;
  }
  if (!json_path.empty()) {
    ASSIGN_OR_RETURN(std::string text, ReadFileToString(json_path, 1ull << 31));
    return FromTokenizerJson(text, json_path);
  }
  ASSIGN_OR_RETURN(GgufFile f, GgufFile::Open(path));
  return FromGgufMetadata(f.metadata(), path);
}

Result<std::unique_ptr<Tokenizer>> Tokenizer::FromGgufMetadata(const Metadata& md,
                                                               const std::string& name) {
  const std::string model = md.GetStringOr("tokenizer.ggml.model", "");
  if (model.empty()) return NotFound(name + ": no tokenizer (tokenizer.ggml.model is missing)");
  if (model != "gemma4" && model != "gpt2" && model != "llama") {
    return Unimplemented(name + ": tokenizer.ggml.model '" + model +
                         "' is not supported (expected gemma4)");
  }
  ASSIGN_OR_RETURN(std::vector<std::string> texts, md.GetStringArray("tokenizer.ggml.tokens"));
  if (texts.empty()) return InvalidArgument(name + ": tokenizer.ggml.tokens is empty");
  std::vector<TokenType> types(texts.size(), TokenType::kNormal);
  if (md.Has("tokenizer.ggml.token_type")) {
    ASSIGN_OR_RETURN(std::vector<int64_t> t,
                     md.GetIntArray("tokenizer.ggml.token_type", texts.size()));
    for (size_t i = 0; i < t.size(); ++i) {
      if (t[i] < 1 || t[i] > 6) {
        return InvalidArgument(
            StrFormat("%s: tokenizer.ggml.token_type[%zu] = %lld is not a token type (1-6)",
                      name.c_str(), i, (long long)t[i]));
      }
      types[i] = static_cast<TokenType>(t[i]);
    }
  }
  std::vector<std::pair<std::string, std::string>> merges;
  if (md.Has("tokenizer.ggml.merges")) {
    ASSIGN_OR_RETURN(std::vector<std::string> m, md.GetStringArray("tokenizer.ggml.merges"));
    merges.reserve(m.size());
    for (size_t i = 0; i < m.size(); ++i) {
      // Split at the first space from position 1 on: a merge's left part may start with one.
      const size_t sp = m[i].find(' ', 1);
      if (sp == std::string::npos) {
        return InvalidArgument(
            StrFormat("%s: tokenizer.ggml.merges[%zu] has no space separator", name.c_str(), i));
      }
      merges.emplace_back(m[i].substr(0, sp), m[i].substr(sp + 1));
    }
  } else if (model == "gemma4") {
    return InvalidArgument(
        name + ": tokenizer.ggml.merges is missing (required for the gemma4 tokenizer)");
  }
  std::unique_ptr<Tokenizer> t(new Tokenizer());
  RETURN_IF_ERROR(t->Build(std::move(texts), std::move(types), merges).WithContext(name));
  if (t->bos_ < 0) {
    const int64_t bos = md.GetIntOr("tokenizer.ggml.bos_token_id", -1);
    if (bos >= 0 && bos < t->n_vocab()) t->bos_ = static_cast<int32_t>(bos);
  }
  return t;
}

Status Tokenizer::Build(std::vector<std::string> texts, std::vector<TokenType> types,
                        const std::vector<std::pair<std::string, std::string>>& merges) {
  texts_ = std::move(texts);
  types_ = std::move(types);
  const size_t n = texts_.size();
  for (size_t i = 0; i < n; ++i) {
    for (std::string_view e : kEogTexts) {
      if (texts_[i] == e) {
        if (types_[i] == TokenType::kUserDefined) types_[i] = TokenType::kControl;
        eog_.push_back(static_cast<int32_t>(i));
      }
    }
  }
  std::fill(std::begin(ascii_ids_), std::end(ascii_ids_), -1);
  std::fill(std::begin(byte_ids_), std::end(byte_ids_), -1);
  ids_.reserve(n + merges.size() / 4);
  pieces_.resize(n);
  special_pieces_.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const std::string& t = texts_[i];
    const int32_t id = static_cast<int32_t>(i);
    ids_.emplace(std::string_view(t), id);
    if (t.size() == 1 && static_cast<uint8_t>(t[0]) < 128 &&
        ascii_ids_[static_cast<uint8_t>(t[0])] < 0) {
      ascii_ids_[static_cast<uint8_t>(t[0])] = id;
    }
    switch (types_[i]) {
      case TokenType::kByte: {
        const int b = ParseByteToken(t);
        if (b < 0)
          return InvalidArgument(
              StrFormat("token %zu '%s' is typed BYTE but is not <0xHH>", i, t.c_str()));
        if (byte_ids_[b] < 0) byte_ids_[b] = id;
        pieces_[i] = std::string(1, static_cast<char>(b));
        special_pieces_[i] = pieces_[i];
        break;
      }
      case TokenType::kControl:
        special_pieces_[i] = t;
        break;
      case TokenType::kUserDefined:
        pieces_[i] = t;
        special_pieces_[i] = t;
        break;
      default: {
        std::string p;
        for (size_t k = 0; k < t.size();) {
          if (t.compare(k, 3, kSpaceMark) == 0) {
            p.push_back(' ');
            k += 3;
          } else {
            p.push_back(t[k++]);
          }
        }
        pieces_[i] = p;
        special_pieces_[i] = p;
      }
    }
    if (types_[i] == TokenType::kControl || types_[i] == TokenType::kUserDefined ||
        types_[i] == TokenType::kUnknown) {
      if (!t.empty()) specials_.push_back(id);
    }
  }
  std::stable_sort(specials_.begin(), specials_.end(), [&](int32_t a, int32_t b) {
    return texts_[static_cast<size_t>(a)].size() > texts_[static_cast<size_t>(b)].size();
  });
  // Merge table over ids. Strings that occur in merges but not in the vocabulary get ids past
  // the vocabulary, so BPE can pass through them; they fall back to bytes if they survive.
  auto intern = [&](const std::string& s) {
    auto it = ids_.find(s);
    if (it != ids_.end()) return it->second;
    virtual_strings_.push_back(std::make_unique<std::string>(s));
    const int32_t vid = static_cast<int32_t>(n + virtual_strings_.size() - 1);
    ids_.emplace(std::string_view(*virtual_strings_.back()), vid);
    return vid;
  };
  merges_.Reserve(merges.size());
  for (size_t r = 0; r < merges.size(); ++r) {
    const auto& [l, rt] = merges[r];
    if (l.empty() || rt.empty())
      return InvalidArgument(StrFormat("merge %zu has an empty side", r));
    const int32_t a = intern(l), b = intern(rt), c = intern(l + rt);
    merges_.Insert(
        (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b),
        (static_cast<uint64_t>(r) << 32) | static_cast<uint32_t>(c));
  }
  // Single characters (of the vocabulary or of merges) for the first BPE step; the lowest id
  // wins when a text occurs twice.
  chars_.Reserve(4096);
  auto add_char = [&](std::string_view text, int32_t id) {
    if (text.empty() || text.size() > 4) return;
    if (static_cast<size_t>(utf8::SequenceLength(static_cast<uint8_t>(text[0]))) != text.size())
      return;
    chars_.Insert(CharKey(text), static_cast<uint64_t>(id));
  };
  for (size_t i = 0; i < n; ++i) add_char(texts_[i], static_cast<int32_t>(i));
  for (size_t i = 0; i < virtual_strings_.size(); ++i)
    add_char(*virtual_strings_[i], static_cast<int32_t>(n + i));
  n_merges_ = merges.size();
  bos_ = Find("<bos>");
  eos_ = Find("<eos>");
  pad_ = Find("<pad>");
  return Status::Ok();
}

int32_t Tokenizer::Find(std::string_view text) const {
  auto it = ids_.find(text);
  return it == ids_.end() || it->second >= n_vocab() ? -1 : it->second;
}

bool Tokenizer::IsEog(int32_t id) const {
  return std::find(eog_.begin(), eog_.end(), id) != eog_.end();
}

int32_t Tokenizer::SymbolId(std::string_view s) const {
  if (s.size() == 1 && static_cast<uint8_t>(s[0]) < 128) {
    const int32_t a = ascii_ids_[static_cast<uint8_t>(s[0])];
    if (a >= 0) return a;
  }
  const uint64_t* id = s.size() <= 4 ? chars_.Find(CharKey(s)) : nullptr;
  return id ? static_cast<int32_t>(*id) : -1;
}

const std::string& Tokenizer::Piece(int32_t id, bool special) const {
  static const std::string kEmpty;
  if (id < 0 || id >= n_vocab()) return kEmpty;
  return special ? special_pieces_[static_cast<size_t>(id)] : pieces_[static_cast<size_t>(id)];
}

std::string Tokenizer::Decode(const std::vector<int32_t>& ids, bool special) const {
  std::string out;
  for (int32_t id : ids) out += Piece(id, special);
  return out;
}

void Tokenizer::EncodeRun(std::string_view run, std::vector<int32_t>* out) const {
  struct Symbol {
    int32_t id;
    uint32_t start, len;
    int32_t prev, next;
  };
  // Heap entries are (rank << 32 | left symbol index): the smallest rank first, then the
  // leftmost pair. Entries go stale when a neighbour merges; a pop re-checks the pair.
  // Per-thread scratch: runs are many; reusing the buffers keeps the loop allocation-free.
  thread_local std::vector<Symbol> sym;
  thread_local std::vector<uint64_t> heap;
  sym.clear();
  heap.clear();
  for (size_t i = 0; i < run.size();) {
    const size_t len = std::min<size_t>(
        static_cast<size_t>(utf8::SequenceLength(static_cast<uint8_t>(run[i]))), run.size() - i);
    const int32_t idx = static_cast<int32_t>(sym.size());
    sym.push_back({SymbolId(run.substr(i, len)), static_cast<uint32_t>(i),
                   static_cast<uint32_t>(len), idx - 1, idx + 1});
    i += len;
  }
  if (sym.empty()) return;
  sym.back().next = -1;
  auto merge_of = [&](int32_t l, int32_t r) -> const uint64_t* {
    const int32_t a = sym[static_cast<size_t>(l)].id, b = sym[static_cast<size_t>(r)].id;
    if (a < 0 || b < 0) return nullptr;
    return merges_.Find((static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) |
                        static_cast<uint32_t>(b));
  };
  const auto later = std::greater<uint64_t>();
  for (int32_t i = 0; i + 1 < static_cast<int32_t>(sym.size()); ++i) {
    if (const uint64_t* m = merge_of(i, i + 1))
      heap.push_back((*m & 0xFFFFFFFF00000000ull) | static_cast<uint32_t>(i));
  }
  std::make_heap(heap.begin(), heap.end(), later);
  auto push = [&](int32_t l) {
    if (l < 0) return;
    const int32_t r = sym[static_cast<size_t>(l)].next;
    if (r < 0) return;
    if (const uint64_t* m = merge_of(l, r)) {
      heap.push_back((*m & 0xFFFFFFFF00000000ull) | static_cast<uint32_t>(l));
      std::push_heap(heap.begin(), heap.end(), later);
    }
  };
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), later);
    const uint64_t top = heap.back();
    heap.pop_back();
    const int32_t li = static_cast<int32_t>(top & 0xFFFFFFFFu);
    Symbol& l = sym[static_cast<size_t>(li)];
    if (l.len == 0 || l.next < 0) continue;
    const uint64_t* m = merge_of(li, l.next);
    if (!m || (*m >> 32) != (top >> 32)) continue;  // stale: the pair changed since the push
    Symbol& r = sym[static_cast<size_t>(l.next)];
    l.id = static_cast<int32_t>(*m & 0xFFFFFFFFu);
    l.len += r.len;
    r.len = 0;
    l.next = r.next;
    if (r.next >= 0) sym[static_cast<size_t>(r.next)].prev = li;
    push(l.prev);
    push(li);
  }
  for (int32_t i = 0; i >= 0; i = sym[static_cast<size_t>(i)].next) {
    const Symbol& s = sym[static_cast<size_t>(i)];
    if (s.id >= 0 && s.id < n_vocab()) {
      out->push_back(s.id);
      continue;
    }
    for (uint32_t k = 0; k < s.len; ++k) {
      const int32_t b = byte_ids_[static_cast<uint8_t>(run[s.start + k])];
      if (b >= 0) out->push_back(b);
    }
  }
}

void Tokenizer::EncodeRaw(std::string_view fragment, std::vector<int32_t>* out) const {
  // Code points as llama.cpp reads them (invalid bytes -> U+FFFD), spaces -> '▁'.
  std::string norm;
  norm.reserve(fragment.size() + fragment.size() / 2);
  for (size_t i = 0; i < fragment.size();) {
    if (fragment[i] == ' ') {
      norm.append(kSpaceMark);
      ++i;
      continue;
    }
    if (static_cast<uint8_t>(fragment[i]) < 0x80) {
      norm.push_back(fragment[i++]);
      continue;
    }
    utf8::Append(utf8::DecodeLenient(fragment, &i), &norm);
  }
  // Runs of '\n' and runs of everything else are tokenized separately; a newline run that
  // is itself a token is emitted directly.
  const std::string_view s(norm);
  for (size_t i = 0; i < s.size();) {
    const bool nl = s[i] == '\n';
    size_t j = i;
    while (j < s.size() && (s[j] == '\n') == nl) ++j;
    const std::string_view run = s.substr(i, j - i);
    const int32_t direct = nl ? Find(run) : -1;
    if (direct >= 0) {
      out->push_back(direct);
    } else {
      EncodeRun(run, out);
    }
    i = j;
  }
}

std::vector<int32_t> Tokenizer::Encode(std::string_view text, const EncodeOptions& options) const {
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 2);
  if (options.add_bos && bos_ >= 0) out.push_back(bos_);
  if (!options.parse_special) {
    EncodeRaw(text, &out);
    return out;
  }
  // Partition by special-token text, longest token first (llama.cpp's order).
  struct Fragment {
    int32_t id;  // -1: raw text
    std::string_view text;
  };
  std::vector<Fragment> frags = {{-1, text}}, next;
  for (int32_t sid : specials_) {
    const std::string& st = texts_[static_cast<size_t>(sid)];
    next.clear();
    for (const Fragment& f : frags) {
      if (f.id >= 0 || f.text.find(st) == std::string_view::npos) {
        next.push_back(f);
        continue;
      }
      size_t pos = 0;
      for (size_t hit; (hit = f.text.find(st, pos)) != std::string_view::npos;
           pos = hit + st.size()) {
        if (hit > pos) next.push_back({-1, f.text.substr(pos, hit - pos)});
        next.push_back({sid, {}});
      }
      if (pos < f.text.size()) next.push_back({-1, f.text.substr(pos)});
    }
    frags.swap(next);
  }
  for (const Fragment& f : frags) {
    if (f.id >= 0) {
      out.push_back(f.id);
    } else {
      EncodeRaw(f.text, &out);
    }
  }
  return out;
}

}  // namespace pocket
