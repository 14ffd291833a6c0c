#pragma once
// Everything in kpt/data: images, synthetic shapes, augmentation, datasets and the loader
// (loader.hpp needs oneTBB: link kpt::cpu). Include the single headers to keep compile times down.
#include "kpt/data/augment.hpp"
#include "kpt/data/dataset.hpp"
#include "kpt/data/draw.hpp"
#include "kpt/data/filter.hpp"
#include "kpt/data/homographic_pairs.hpp"
#include "kpt/data/hpatches.hpp"
#include "kpt/data/image.hpp"
#include "kpt/data/image_folder.hpp"
#include "kpt/data/loader.hpp"
#include "kpt/data/purdue_shapes.hpp"
#include "kpt/data/sample_rng.hpp"
#include "kpt/data/synthetic_dataset.hpp"
#include "kpt/data/synthetic_shapes.hpp"
