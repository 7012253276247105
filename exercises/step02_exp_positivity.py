# GENERATED FILE: written by `python -m grader stubs` from solutions/step02_exp_positivity.py.
# Do not edit it in exercises/: edit solutions/step02_exp_positivity.py and regenerate.
"""Step 02: the exponential turns any real number into a positive one.

A classifier's last layer outputs one score per class, a "logit": any real
number, negative, zero or positive. Probabilities must be positive (and sum to
one, which step 03 takes care of). The exponential is the standard bridge:

- ``exp(x) > 0`` for every real ``x``: ``exp(-5)`` is about 0.0067, small but
  still positive; ``exp(0) = 1``; ``exp(5)`` is about 148.
- It is monotonic (strictly increasing): a larger score always gives a larger
  positive number, so the order of the classes is kept and the best-scored
  class stays the best.
- ``exp(a + b) = exp(a) * exp(b)``: adding a constant to every score multiplies
  every result by the same factor, so the ratios between them do not change.
  Step 03 divides by the sum, which removes that factor altogether (and uses
  it to keep softmax from overflowing).

Use ``torch.exp``, not ``np.exp`` or ``math.exp``: it works element-wise on a
tensor of any shape, keeps the dtype and device, and autograd knows its
derivative (which is ``exp(x)`` itself), so a model can learn through it.
Going through numpy drops the tensor out of the autograd graph.

The price is size: ``exp`` grows so fast that ``exp(89.0)`` is already ``inf``
in float32 (``exp(710.0)`` in float64), and at the other end ``exp(-104.0)``
rounds to exactly 0 in float32. Large logits are therefore never put through
``exp`` directly; step 03 shows the trick.
"""

import matplotlib.pyplot as plt
import torch


def positive(x):
    """Map every element of a real tensor to a strictly positive number with the exponential.

    Args:
        x: tensor of any shape.
    Returns:
        tensor of the same shape and dtype, ``exp(x)`` element-wise, connected
        to ``x`` in autograd.
    Hint: one call of ``torch.exp``.
    """
    # TODO (step 02): implement positive.
    raise NotImplementedError("step 02: positive is not implemented yet")


def plot_exp(lo=-10.0, hi=10.0, steps=200):
    """Draw the curve ``y = exp(x)`` for ``x`` in ``[lo, hi]``.

    Args:
        lo, hi: the ends of the x-range (both included).
        steps: number of points.
    Returns:
        the ``Figure`` with one line through ``x = torch.linspace(lo, hi, steps)``
        and ``y = exp(x)`` (do not call ``plt.show()``).
    Hint: ``fig, ax = plt.subplots()``, ``ax.plot(x.numpy(), y.numpy())``; label
    the axes.
    """
    # TODO (step 02): implement plot_exp.
    raise NotImplementedError("step 02: plot_exp is not implemented yet")
