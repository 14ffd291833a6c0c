#pragma once
// Optimisers, schedules, clipping and checkpoint state in one include.
#include "kpt/optim/adam.hpp"
#include "kpt/optim/clip.hpp"
#include "kpt/optim/schedule.hpp"
#include "kpt/optim/sgd.hpp"
#include "kpt/optim/state.hpp"
