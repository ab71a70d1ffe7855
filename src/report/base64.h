// Base64 (RFC 4648, standard alphabet, '=' padding, no line breaks), for data: URIs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace personcls::report {

std::string Base64Encode(const std::vector<uint8_t>& bytes);

}  // namespace personcls::report
