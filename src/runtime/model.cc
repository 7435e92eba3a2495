#include "runtime/model.h"

#include <chrono>

#include "runtime/decoder.h"

namespace pocket {
namespace {

// Gemma 4's published generation_config: temperature 1.0, top_k 64, top_p 0.95.
SamplingParams DefaultSampling(const Metadata& md) {
  SamplingParams p;
  p.temperature = static_cast<float>(
      md.GetDoubleOr("generation_config.temperature", md.GetDoubleOr("general.sampling.temp", 1.0)));
  p.top_k = static_cast<int>(md.GetIntOr("generation_config.top_k", md.GetIntOr("general.sampling.top_k", 64)));
  p.top_p = static_cast<float>(md.GetDoubleOr("generation_config.top_p", md.GetDoubleOr("general.sampling.top_p", 0.95)));
  p.min_p = static_cast<float>(md.GetDoubleOr("general.sampling.min_p", 0.0));
  if (!p.Validate().ok()) p = SamplingParams();  // a broken file must not break generation
  return p;
}

}  // namespace

Result<std::unique_ptr<Model>> Model::Load(const std::string& path) {
  const auto start = std::chrono::steady_clock::now();
  std::unique_ptr<Model> m(new Model());
  m->path_ = path;
  ASSIGN_OR_RETURN(m->ws_, WeightSource::Open(path));
  ASSIGN_OR_RETURN(m->config_, LoadTextConfig(*m->ws_));
  auto weights = Gemma4Weights::Bind(*m->ws_, m->config_);
  if (!weights.ok()) return weights.status().WithContext(path);
  m->weights_ = std::move(*weights);
  auto tok = Tokenizer::Load(path);
  if (!tok.ok()) return tok.status().WithContext(path);
  m->tokenizer_ = std::move(*tok);
  if (m->tokenizer_->n_vocab() > m->config_.n_vocab) {
    return InvalidArgument(StrFormat("%s: the tokenizer has %d tokens but the embedding table only %lld rows",
                                     path.c_str(), m->tokenizer_->n_vocab(), (long long)m->config_.n_vocab));
  }
  {
    ThreadPool pool(ThreadPool::HardwareThreads());
    m->packed_ = PackDecoderWeights(m->weights_, *m->ws_, kernels::Kernels(), &pool);
  }
  m->default_sampling_ = DefaultSampling(m->ws_->metadata());
  m->load_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return m;
}

}  // namespace pocket
