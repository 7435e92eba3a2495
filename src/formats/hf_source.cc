// WeightSource over safetensors: a single file, or a Hugging Face folder with config.json,
// generation_config.json, tokenizer files and one or more (sharded) safetensors files.
#include <dirent.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "base/mapped_file.h"
#include "formats/tensor_names.h"
#include "formats/weight_source.h"

namespace pocket {
namespace {

using json = nlohmann::json;

constexpr size_t kMaxJsonFileBytes = 64u << 20;

std::string JoinPath(const std::string& dir, const std::string& name) {
  if (dir.empty() || dir.back() == '/') return dir + name;
  return dir + "/" + name;
}

std::string DirName(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

Status Flatten(const json& j, const std::string& key, Metadata* out, int depth) {
  if (depth > 32) return DataLoss("'" + key + "': JSON nested too deeply");
  auto add = [&](Value v) -> Status {
    if (!out->Add(key, std::move(v))) return DataLoss("duplicate key '" + key + "'");
    return Status::Ok();
  };
  switch (j.type()) {
    case json::value_t::object:
      for (auto it = j.begin(); it != j.end(); ++it) {
        RETURN_IF_ERROR(Flatten(it.value(), key.empty() ? it.key() : key + "." + it.key(), out, depth + 1));
      }
      return Status::Ok();
    case json::value_t::null: return add(Value::Null());
    case json::value_t::boolean: return add(Value::Bool(j.get<bool>()));
    case json::value_t::number_integer: return add(Value::Int(j.get<int64_t>()));
    case json::value_t::number_unsigned: {
      const uint64_t u = j.get<uint64_t>();
      return add(u > static_cast<uint64_t>(INT64_MAX) ? Value::Double(static_cast<double>(u)) : Value::Int(static_cast<int64_t>(u)));
    }
    case json::value_t::number_float: return add(Value::Double(j.get<double>()));
    case json::value_t::string: return add(Value::String(out->Intern(j.get<std::string>())));
    case json::value_t::array: {
      bool all_str = true, all_int = true, all_num = true, all_bool = true;
      for (const json& e : j) {
        all_str &= e.is_string();
        all_int &= e.is_number_integer();
        all_num &= e.is_number();
        all_bool &= e.is_boolean();
      }
      if (j.empty() || all_int) {
        std::vector<uint8_t> raw(j.size() * 8);
        for (size_t i = 0; i < j.size(); ++i) {
          const int64_t v = j[i].is_number_unsigned() && j[i].get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)
                                ? INT64_MAX : j[i].get<int64_t>();
          std::memcpy(raw.data() + 8 * i, &v, 8);
        }
        const uint8_t* p = out->InternBytes(std::move(raw));
        return add(Value::ScalarArray(ValueType::kI64, j.size(), p));
      }
      if (all_num) {
        std::vector<uint8_t> raw(j.size() * 8);
        for (size_t i = 0; i < j.size(); ++i) {
          const double v = j[i].get<double>();
          std::memcpy(raw.data() + 8 * i, &v, 8);
        }
        const uint8_t* p = out->InternBytes(std::move(raw));
        return add(Value::ScalarArray(ValueType::kF64, j.size(), p));
      }
      if (all_bool) {
        std::vector<uint8_t> raw(j.size());
        for (size_t i = 0; i < j.size(); ++i) raw[i] = j[i].get<bool>() ? 1 : 0;
        const uint8_t* p = out->InternBytes(std::move(raw));
        return add(Value::ScalarArray(ValueType::kBool, j.size(), p));
      }
      if (all_str) {
        std::vector<std::string_view> strs;
        for (const json& e : j) strs.push_back(out->Intern(e.get<std::string>()));
        return add(Value::StringArray(std::move(strs)));
      }
      // Mixed or nested content: flatten element-wise as key.0, key.1, ...
      for (size_t i = 0; i < j.size(); ++i) {
        RETURN_IF_ERROR(Flatten(j[i], key + "." + std::to_string(i), out, depth + 1));
      }
      return Status::Ok();
    }
    default:
      return DataLoss("'" + key + "': unsupported JSON value");
  }
}

Result<json> ParseJsonFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFileToString(path, kMaxJsonFileBytes));
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return DataLoss(path + ": not valid JSON");
  return j;
}

// A shard name from an index must be a plain file name inside the folder.
bool IsPlainFileName(const std::string& name) {
  return !name.empty() && name.find('/') == std::string::npos && name != "." && name != "..";
}

}  // namespace

Status FlattenJsonInto(std::string_view json_text, const std::string& prefix, Metadata* out,
                       const std::string& file_name) {
  json j = json::parse(json_text.begin(), json_text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return DataLoss(file_name + ": not valid JSON");
  if (!j.is_object()) return DataLoss(file_name + std::string(": expected a JSON object, got ") + j.type_name());
  return Flatten(j, prefix, out, 0).WithContext(file_name);
}

Status WeightSource::AddSafetensorsFile(SafetensorsFile file, int index) {
  files_.push_back(file.path());
  total_file_bytes_ += file.file_size();
  for (const TensorInfo& t : file.tensors()) {
    TensorInfo copy = t;
    copy.source_index = index;
    if (auto mapped = HfToCanonicalName(t.name)) {
      copy.original_name = t.name;
      copy.name = mapped->name;
      copy.transform = mapped->transform;
    }
    // GGUF stores 0-d scalars as [1] and the depthwise conv kernel without its unit axis;
    // both are views of the same bytes, so normalise the shape here.
    if (copy.n_dims == 0) {
      copy.n_dims = 1;
      copy.ne[0] = 1;
    }
    if (copy.transform == TensorTransform::kSqueezeDepthwise && copy.n_dims == 3 && copy.ne[1] == 1) {
      copy.ne[1] = copy.ne[2];
      copy.ne[2] = 1;
      copy.n_dims = 2;
      copy.transform = TensorTransform::kNone;
    }
    RETURN_IF_ERROR(AddTensor(std::move(copy)));
  }
  st_files_.push_back(std::move(file));
  return Status::Ok();
}

Status WeightSource::LoadHfSideFiles(const std::string& dir) {
  folder_ = dir;
  owned_metadata_ = std::make_unique<Metadata>();
  metadata_ = owned_metadata_.get();
  const std::string config = JoinPath(dir, "config.json");
  if (IsRegularFile(config)) {
    ASSIGN_OR_RETURN(std::string text, ReadFileToString(config, kMaxJsonFileBytes));
    RETURN_IF_ERROR(FlattenJsonInto(text, "", owned_metadata_.get(), config));
  }
  const std::string gen = JoinPath(dir, "generation_config.json");
  if (IsRegularFile(gen)) {
    ASSIGN_OR_RETURN(std::string text, ReadFileToString(gen, kMaxJsonFileBytes));
    RETURN_IF_ERROR(FlattenJsonInto(text, "generation_config", owned_metadata_.get(), gen));
  }
  has_tokenizer_json_ = IsRegularFile(JoinPath(dir, "tokenizer.json"));
  has_tokenizer_config_ = IsRegularFile(JoinPath(dir, "tokenizer_config.json"));
  has_chat_template_ = IsRegularFile(JoinPath(dir, "chat_template.jinja"));
  return Status::Ok();
}

Result<std::unique_ptr<WeightSource>> WeightSource::OpenSafetensors(const std::string& path) {
  std::unique_ptr<WeightSource> ws(new WeightSource());
  ws->format_ = SourceFormat::kSafetensors;
  ws->path_ = path;
  RETURN_IF_ERROR(ws->LoadHfSideFiles(DirName(path)));
  ASSIGN_OR_RETURN(SafetensorsFile f, SafetensorsFile::Open(path));
  RETURN_IF_ERROR(ws->AddSafetensorsFile(std::move(f), 0));
  return ws;
}

Result<std::unique_ptr<WeightSource>> WeightSource::OpenHfFolder(const std::string& dir) {
  std::unique_ptr<WeightSource> ws(new WeightSource());
  ws->format_ = SourceFormat::kHfFolder;
  ws->path_ = dir;
  RETURN_IF_ERROR(ws->LoadHfSideFiles(dir));

  std::vector<std::string> shards;
  const std::string index_path = JoinPath(dir, "model.safetensors.index.json");
  if (IsRegularFile(index_path)) {
    ASSIGN_OR_RETURN(json index, ParseJsonFile(index_path));
    if (!index.is_object()) return DataLoss(index_path + ": expected a JSON object");
    auto wm = index.find("weight_map");
    if (wm == index.end() || !wm->is_object()) return DataLoss(index_path + ": missing or non-object 'weight_map'");
    std::set<std::string> seen;
    for (auto it = wm->begin(); it != wm->end(); ++it) {
      if (!it.value().is_string()) return DataLoss(index_path + ": weight_map['" + it.key() + "'] is not a string");
      const std::string shard = it.value().get<std::string>();
      if (!IsPlainFileName(shard)) return DataLoss(index_path + ": shard name '" + shard + "' is not a file in the folder");
      if (seen.insert(shard).second) shards.push_back(shard);
    }
    std::sort(shards.begin(), shards.end());
    for (size_t i = 0; i < shards.size(); ++i) {
      const std::string p = JoinPath(dir, shards[i]);
      if (!IsRegularFile(p)) return NotFound(index_path + ": shard '" + shards[i] + "' is missing");
      ASSIGN_OR_RETURN(SafetensorsFile f, SafetensorsFile::Open(p));
      RETURN_IF_ERROR(ws->AddSafetensorsFile(std::move(f), static_cast<int>(i)));
    }
    // Every tensor the index promises must be where it says.
    for (auto it = wm->begin(); it != wm->end(); ++it) {
      const std::string& hf_name = it.key();
      const std::string shard = it.value().get<std::string>();
      const auto mapped = HfToCanonicalName(hf_name);
      const TensorInfo* t = ws->Find(mapped ? mapped->name : hf_name);
      if (t == nullptr) return DataLoss(index_path + ": tensor '" + hf_name + "' is listed but not in any shard");
      if (ws->files_[t->source_index] != JoinPath(dir, shard)) {
        return DataLoss(index_path + ": tensor '" + hf_name + "' is listed in " + shard + " but stored in " +
                        ws->files_[t->source_index]);
      }
    }
  } else {
    DIR* d = opendir(dir.c_str());
    if (d == nullptr) return IoError(dir + ": cannot list folder");
    while (dirent* e = readdir(d)) {
      const std::string name = e->d_name;
      if (name.size() > 12 && name.compare(name.size() - 12, 12, ".safetensors") == 0) shards.push_back(name);
    }
    closedir(d);
    std::sort(shards.begin(), shards.end());
    for (size_t i = 0; i < shards.size(); ++i) {
      ASSIGN_OR_RETURN(SafetensorsFile f, SafetensorsFile::Open(JoinPath(dir, shards[i])));
      RETURN_IF_ERROR(ws->AddSafetensorsFile(std::move(f), static_cast<int>(i)));
    }
  }
  if (shards.empty() && ws->metadata().size() == 0 && !ws->has_tokenizer_json_) {
    return NotFound(dir + ": not a Hugging Face model folder (no config.json, no *.safetensors, no tokenizer.json)");
  }
  return ws;
}

}  // namespace pocket
