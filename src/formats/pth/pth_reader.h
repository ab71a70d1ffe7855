// PyTorch .pth checkpoints as torch.save writes them: a zip archive holding
// <folder>/data.pkl (a pickle whose persistent ids name storages), <folder>/data/<key>
// (raw little-endian storage bytes) and <folder>/version. The folder name is whatever
// the writer chose. mmengine checkpoints (a dict with 'state_dict', 'meta',
// 'message_hub', 'optimizer', ...) are read through their 'state_dict'.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "formats/safetensors/safetensors.h"
#include "personcls/status.h"

namespace personcls::pth {

// The state_dict's tensors (contiguous; F32, I64 and the other plain dtypes), keyed by
// their PyTorch names. Non-tensor entries are skipped. Errors are one line naming `name`.
Expected<safetensors::File> ParseStateDict(const std::vector<uint8_t>& bytes, const std::string& name);
Expected<safetensors::File> ReadStateDict(const std::string& path);

}  // namespace personcls::pth
