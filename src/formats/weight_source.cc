// WeightSource: format detection, GGUF (single and split) and the shared tensor index.
// The safetensors / HF-folder half lives in hf_source.cc (it needs the JSON library).
#include "formats/weight_source.h"

#include <sys/stat.h>

#include <cstring>

namespace pocket {

const char* SourceFormatName(SourceFormat f) {
  switch (f) {
    case SourceFormat::kGguf: return "gguf";
    case SourceFormat::kSafetensors: return "safetensors";
    case SourceFormat::kHfFolder: return "hf";
  }
  return "?";
}

bool IsDirectory(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool IsRegularFile(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

const TensorInfo* WeightSource::Find(std::string_view name) const {
  auto it = index_.find(std::string(name));
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

Status WeightSource::AddTensor(TensorInfo t) {
  if (index_.count(t.name)) {
    return DataLoss(StrFormat("%s: tensor '%s' appears twice (in %s and %s)", path_.c_str(),
                              t.name.c_str(), files_[tensors_[index_[t.name]].source_index].c_str(),
                              files_[t.source_index].c_str()));
  }
  index_.emplace(t.name, tensors_.size());
  tensors_.push_back(std::move(t));
  return Status::Ok();
}

Result<std::unique_ptr<WeightSource>> WeightSource::Open(const std::string& path) {
  if (IsDirectory(path)) return OpenHfFolder(path);
  if (!IsRegularFile(path)) return NotFound(path + ": no such file or directory");
  auto mapped = MappedFile::Open(path);
  if (!mapped.ok()) return mapped.status();
  const MappedFile& m = *mapped;
  if (m.size() >= 4 && std::memcmp(m.data(), "GGUF", 4) == 0) return OpenGguf(path);
  if (path.size() > 12 && path.compare(path.size() - 12, 12, ".safetensors") == 0) return OpenSafetensors(path);
  if (path.size() > 5 && path.compare(path.size() - 5, 5, ".gguf") == 0) return OpenGguf(path);  // bad magic → clear error
  return InvalidArgument(path + ": not a model file (expected a .gguf, a .safetensors, or a Hugging Face folder)");
}

Result<std::unique_ptr<WeightSource>> WeightSource::OpenGguf(const std::string& path) {
  ASSIGN_OR_RETURN(std::vector<std::string> parts, GgufSplitPaths(path));
  std::unique_ptr<WeightSource> ws(new WeightSource());
  ws->format_ = SourceFormat::kGguf;
  ws->path_ = path;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (!IsRegularFile(parts[i])) {
      return NotFound(StrFormat("%s: split part %zu of %zu is missing: %s", path.c_str(), i + 1,
                                parts.size(), parts[i].c_str()));
    }
    ASSIGN_OR_RETURN(GgufFile f, GgufFile::Open(parts[i]));
    ws->files_.push_back(parts[i]);
    ws->total_file_bytes_ += f.file_size();
    ws->gguf_files_.push_back(std::move(f));
  }
  const Metadata& md = ws->gguf_files_[0].metadata();
  if (parts.size() > 1) {
    // Each part must agree with the split set its name promises.
    for (size_t i = 0; i < parts.size(); ++i) {
      const Metadata& pm = ws->gguf_files_[i].metadata();
      const int64_t count = pm.GetIntOr("split.count", -1);
      const int64_t no = pm.GetIntOr("split.no", -1);
      if (count != static_cast<int64_t>(parts.size()) || no != static_cast<int64_t>(i)) {
        return DataLoss(StrFormat("%s: split.no=%lld split.count=%lld, expected %zu of %zu",
                                  parts[i].c_str(), (long long)no, (long long)count, i, parts.size()));
      }
    }
  }
  for (size_t i = 0; i < ws->gguf_files_.size(); ++i) {
    for (const TensorInfo& t : ws->gguf_files_[i].tensors()) {
      TensorInfo copy = t;
      copy.source_index = static_cast<int>(i);
      RETURN_IF_ERROR(ws->AddTensor(std::move(copy)));
    }
  }
  if (parts.size() > 1) {
    const int64_t total = md.GetIntOr("split.tensors.count", -1);
    if (total >= 0 && total != static_cast<int64_t>(ws->tensors_.size())) {
      return DataLoss(StrFormat("%s: split.tensors.count is %lld but the parts hold %zu tensors",
                                path.c_str(), (long long)total, ws->tensors_.size()));
    }
  }
  ws->metadata_ = &md;
  return ws;
}

void WeightSource::ReleasePages(const uint8_t* data, uint64_t bytes) const {
  auto release = [&](const MappedFile* m) {
    if (m == nullptr || m->data() == nullptr || data < m->data() ||
        data + bytes > m->data() + m->size())
      return false;
    m->AdviseDontNeed(static_cast<size_t>(data - m->data()), static_cast<size_t>(bytes));
    return true;
  };
  for (const GgufFile& f : gguf_files_)
    if (release(f.mapping())) return;
  for (const SafetensorsFile& f : st_files_)
    if (release(f.mapping())) return;
}

}  // namespace pocket
