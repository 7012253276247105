"""Correct code in another style: inference_mode, split, torch.max."""

import math

import torch


def accuracy(logits, y):
    return torch.eq(torch.max(logits, 1).indices, y).double().mean().item()


def predict(model, X, batch_size=1024):
    mode = model.training
    model.train(False)
    device = next(iter(model.parameters())).device
    try:
        with torch.inference_mode():
            out = [model(chunk.to(device)).max(1)[1].to("cpu") for chunk in X.split(batch_size)]
    finally:
        model.train(mode)
    return torch.cat(out).long()


def class_mean_images(X, y):
    X = X.reshape(len(X), -1)
    return torch.stack([X[y == k].mean(0) for k in range(10)])


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
    diff = X[:, None, :] - means[None, :, :]
    return (diff**2).sum(dim=2).argmin(dim=1)


def accuracy_stderr(acc, n):
    """The binomial standard error of an accuracy measured on ``n`` examples.

    Args:
        acc: the accuracy, a float in ``[0, 1]``; n: how many examples.
    Returns:
        ``sqrt(acc * (1 - acc) / n)`` as a Python float.
    Hint: ``math.sqrt``.
    """
    return math.sqrt(acc * (1 - acc) / n)
