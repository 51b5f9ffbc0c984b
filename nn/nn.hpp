// nn: modules, initializers, optimizers, data and the training loop.
#pragma once
