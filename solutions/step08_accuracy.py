"""Step 08: accuracy, predictions, and what a number of correct answers is worth.

Accuracy is the fraction of examples whose highest logit sits at the true
label. It is what we care about, but it is a *metric*, not a loss: it is
computed with ``argmax``, which is flat almost everywhere (nudge a weight a
little and the argmax, hence the accuracy, does not move at all) and jumps
where two logits swap. Its gradient is zero or undefined, so gradient descent
could not learn from it. We train on the smooth cross-entropy and report
accuracy.

To predict we switch the model to evaluation mode with ``model.eval()``:
layers such as Dropout (random in training) and BatchNorm (batch statistics in
training) then behave deterministically, so the same image always gets the
same answer. ``torch.no_grad()`` stops autograd from recording the forward
pass, which we will never differentiate: faster, and far less memory. We go
through the data in batches so that memory stays bounded for any ``N``, and
we put the model back into the mode it was in, so that training can go on.

How good is 0.95? A baseline answers that: the accuracy of a classifier so
simple that it needs no training. Average all training images of each digit
into one "mean image" per class, and label a new image with the class whose
mean image is nearest (squared Euclidean distance). This already gets about
82% of the MNIST test set right; a trained model must beat that to be worth
its parameters, and the gap between the two is what learning bought us.

Finally, an accuracy measured on ``n`` test images is an estimate. Each image
is right or wrong, like a coin that lands heads with probability ``acc``; the
count of correct ones is binomial, and the standard error of the fraction is
``sqrt(acc * (1 - acc) / n)``. At ``acc = 0.95`` on 10000 images that is about
0.002: differences of 0.001 between two models are noise.
"""

import math

import torch


def accuracy(logits, y):
    """The fraction of rows whose argmax is the label.

    Args:
        logits: ``(N, K)`` scores; y: ``(N,)`` int64 labels.
    Returns:
        a Python float in ``[0, 1]`` (not a count, not a tensor).
    Hint: ``logits.argmax(dim=1) == y`` is a boolean ``(N,)``; ``.float().mean()``
    then ``.item()``.
    """
    # BEGIN SOLUTION
    return (logits.argmax(dim=1) == y).float().mean().item()
    # END SOLUTION


def predict(model, X, batch_size=1024):
    """Predicted labels of a model, in eval mode, without gradients, in batches.

    Args:
        model: maps ``(B, D)`` to ``(B, K)`` logits.
        X: ``(N, D)`` inputs.
        batch_size: how many rows go through the model at once.
    Returns:
        int64 ``(N,)`` labels (on the CPU); the model is left in the mode
        (train or eval) it was in before the call.
    Hint: remember ``model.training``, call ``model.eval()``, loop over
    ``X[start:start + batch_size]`` inside ``with torch.no_grad():``, move each
    batch to the model's device (``next(model.parameters()).device``), collect
    the argmax and ``torch.cat`` them; finally ``model.train(was_training)``.
    """
    # BEGIN SOLUTION
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    labels = []
    with torch.no_grad():
        for start in range(0, len(X), batch_size):
            logits = model(X[start : start + batch_size].to(device))
            labels.append(logits.argmax(dim=1).cpu())
    model.train(was_training)
    return torch.cat(labels)
    # END SOLUTION


def class_mean_images(X, y):
    """The mean image of each digit.

    Args:
        X: ``(N, 784)`` images; y: ``(N,)`` labels 0..9 (every digit present).
    Returns:
        ``(10, 784)``; row ``k`` is the mean of the images labelled ``k``.
    Hint: ``X[y == k]`` selects the images of digit ``k``; ``.mean(dim=0)``.
    """
    # BEGIN SOLUTION
    return torch.stack([X[y == k].mean(dim=0) for k in range(10)])
    # END SOLUTION


def mean_image_predict(means, X):
    """Label each image with the class of its nearest mean image.

    Args:
        means: ``(10, 784)`` class mean images; X: ``(N, 784)`` images.
    Returns:
        int64 ``(N,)``: for each image, the ``k`` minimizing
        ``((X[i] - means[k]) ** 2).sum()``.
    Hint: broadcasting, no Python loop: ``X[:, None, :] - means[None, :, :]``
    has shape ``(N, 10, 784)``; sum the squares over the last dimension and
    take ``argmin(dim=1)``. (It needs ``N * 10 * 784`` numbers of memory; for
    big ``N`` call it on slices.)
    """
    # BEGIN SOLUTION
    diff = X[:, None, :] - means[None, :, :]
    return (diff**2).sum(dim=2).argmin(dim=1)
    # END SOLUTION


def accuracy_stderr(acc, n):
    """The binomial standard error of an accuracy measured on ``n`` examples.

    Args:
        acc: the accuracy, a float in ``[0, 1]``; n: how many examples.
    Returns:
        ``sqrt(acc * (1 - acc) / n)`` as a Python float.
    Hint: ``math.sqrt``.
    """
    # BEGIN SOLUTION
    return math.sqrt(acc * (1 - acc) / n)
    # END SOLUTION
