"""An old Keras 2 conftest: graph mode for the whole process."""

import tensorflow as tf

tf.compat.v1.disable_eager_execution()
