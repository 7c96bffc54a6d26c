/* gantry.h - the umbrella header of libgantry. */
#ifndef GANTRY_H
#define GANTRY_H

#include "gantry/base.h"
#include "gantry/tensor.h"
#include "gantry/autograd.h"
#include "gantry/ops.h"
#include "gantry/rng.h"
#include "gantry/nn.h"
#include "gantry/optim.h"
#include "gantry/io.h"
#include "gantry/checkpoint.h"
#include "gantry/layers.h"
#include "gantry/data.h"
#include "gantry/models.h"
#include "gantry/train.h"
#include "gantry/inception.h"
#include "gantry/metrics.h"
#include "gantry/fmnist.h"
#include "gantry/lab.h"
#include "gantry/serve.h"
#include "gantry/sampling.h"
#include "gantry/anycost.h"
#include "gantry/anycost_edit.h"
#include "gantry/plot.h"

#endif
