// The in-memory Dataset moved to src/data (data/dataset.h) with the loader; this header
// keeps the old include path working.
#pragma once

#include "data/dataset.h"
