// Audio value type passed from decoding (media/audio_decode) to feature extraction and the
// audio encoders: mono float samples, nominally in [-1, 1]. Plain owning value.
#pragma once

#include <vector>

namespace pocket {

struct AudioClip {
  int sample_rate = 16000;
  std::vector<float> samples;  // mono
  double seconds() const {
    return sample_rate > 0 ? static_cast<double>(samples.size()) / sample_rate : 0.0;
  }
};

}  // namespace pocket
