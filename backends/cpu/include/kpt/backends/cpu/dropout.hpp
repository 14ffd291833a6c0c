#pragma once
// (placeholder: dropout kernels not written yet)
#include "kpt/core/backend.hpp"
