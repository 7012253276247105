"""Hidden tests of step 08: accuracy, predict, the mean-image baseline, the standard error."""

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from grader.authoring import checks
from grader.authoring.kit_mnist import mnist

pytestmark = pytest.mark.step08
STEP = "step08_accuracy"


def logits_and_labels(n, k, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, k, generator=g), torch.randint(0, k, (n,), generator=g)


# --- accuracy ---------------------------------------------------------------------------


@pytest.mark.points(3)
@given(n=st.integers(1, 60), k=st.integers(2, 10), seed=st.integers(0, 1000))
def test_accuracy_matches_the_fraction_correct(submission, n, k, seed):
    logits, y = logits_and_labels(n, k, seed)
    acc = checks.python_float(
        submission.step08_accuracy.accuracy(logits, y),
        f"accuracy of ({n}, {k}) logits",
        low=0.0,
        high=1.0,
    )
    expected = (logits.argmax(dim=1) == y).double().mean()
    checks.close(
        torch.tensor(acc),
        expected,
        f"accuracy of ({n}, {k}) logits (the fraction of rows whose argmax is the label)",
    )


@pytest.mark.points(2)
def test_accuracy_is_a_fraction_not_a_count(submission):
    logits = torch.eye(10).repeat(3, 1)  # 30 rows; the argmax of row i is i % 10
    right = torch.arange(30) % 10
    wrong = (right + 1) % 10
    half = torch.where(torch.arange(30) < 15, right, wrong)
    for y, expected in ((right, 1.0), (wrong, 0.0), (half, 0.5)):
        acc = checks.python_float(
            submission.step08_accuracy.accuracy(logits, y), "accuracy", low=0.0, high=1.0
        )
        if abs(acc - expected) > 1e-9:
            checks.fail(
                f"accuracy of 30 predictions with {round(expected * 30)} right should "
                f"be {expected}, got {acc}: divide the count by the number of rows"
            )


# --- predict ----------------------------------------------------------------------------


def dropout_model():
    torch.manual_seed(11)
    return nn.Sequential(nn.Linear(12, 32), nn.ReLU(), nn.Dropout(0.5), nn.Linear(32, 10))


def eval_labels(model, X):
    was = model.training
    model.eval()
    with torch.no_grad():
        labels = model(X).argmax(dim=1)
    model.train(was)
    return labels


@pytest.mark.points(3)
def test_predict_uses_eval_mode(submission):
    model = dropout_model()
    X = torch.randn(200, 12)
    expected = eval_labels(model, X)
    model.train()
    out = checks.tensor(
        submission.step08_accuracy.predict(model, X),
        "predict(model, X) for X of shape (200, 12)",
        shape=(200,),
        dtype=torch.int64,
    )
    wrong = (out.cpu() != expected).sum().item()
    if wrong:
        checks.fail(
            f"predict disagrees with the model's eval-mode argmax on {wrong} of 200 rows: "
            "call model.eval() first, so Dropout stops dropping units at random"
        )


@pytest.mark.points(1)
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_predict_restores_the_mode(submission, mode):
    model = dropout_model()
    X = torch.randn(50, 12)
    expected = eval_labels(model, X)
    model.train(mode == "train")
    out = checks.tensor(
        submission.step08_accuracy.predict(model, X),
        "predict(model, X)",
        shape=(50,),
        dtype=torch.int64,
    )
    if not torch.equal(out.cpu(), expected):
        checks.fail("predict should return the eval-mode argmax of the model's output")
    if model.training != (mode == "train"):
        checks.fail(
            f"the model was in {mode} mode before predict and in "
            f"{'train' if model.training else 'eval'} mode after it: remember "
            "model.training and restore it with model.train(was_training)"
        )


@pytest.mark.points(1)
@pytest.mark.parametrize("batch_size", [5, 7, 100])
def test_predict_in_batches(submission, batch_size):
    # BatchNorm without running statistics normalizes with the statistics of the batch it
    # sees, in eval mode too: the labels show which rows went through the model together.
    torch.manual_seed(5)
    model = nn.Sequential(
        nn.BatchNorm1d(6, affine=False, track_running_stats=False), nn.Linear(6, 10)
    )
    X = 3 * torch.randn(23, 6) + 1
    with torch.no_grad():
        expected = torch.cat(
            [model(X[i : i + batch_size]).argmax(dim=1) for i in range(0, 23, batch_size)]
        )
    out = checks.tensor(
        submission.step08_accuracy.predict(model, X, batch_size=batch_size),
        f"predict(model, X, batch_size={batch_size}) for 23 rows",
        shape=(23,),
        dtype=torch.int64,
    )
    if not torch.equal(out.cpu(), expected):
        checks.fail(
            f"predict(model, X, batch_size={batch_size}) should pass X through the model "
            f"in consecutive batches of {batch_size} rows (X[start:start + batch_size]), "
            "the last one shorter"
        )


@pytest.mark.points(1)
def test_predict_without_gradients(submission):
    model = dropout_model()
    X = torch.randn(20, 12)
    out, raw = submission.torch_calls(STEP, "predict", (model, X))
    out = checks.tensor(out, "predict(model, X)", shape=(20,), dtype=torch.int64)
    if not torch.equal(out.cpu(), eval_labels(model, X)):
        checks.fail("predict should return the eval-mode argmax of the model's output")
    # The model's layers (Linear, ReLU, Dropout) call torch functions: judge the grad mode
    # they ran in, whatever switched it off (no_grad, inference_mode, set_grad_enabled).
    records = checks.torch_records(raw, "predict(model, X)")
    layers = [(name, grad) for name, grad, _ in records if name.split(".")[-1] == "linear"]
    if not layers:
        checks.fail("predict(model, X) never ran the model's Linear layers")
    if any(grad for _, grad in layers):
        checks.fail(
            "predict should run the model inside `with torch.no_grad():` (or "
            "torch.inference_mode()): nothing is differentiated, so autograd need not "
            "record the forward pass (it recorded it here)"
        )


# --- the mean-image baseline --------------------------------------------------------------


def random_digits(n, seed):
    """``n >= 10`` random images with every label 0..9 present."""
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 784, generator=g, dtype=torch.float64)
    y = torch.cat([torch.arange(10), torch.randint(0, 10, (n - 10,), generator=g)])
    return X, y[torch.randperm(n, generator=g)]


@pytest.mark.points(2)
@given(n=st.integers(10, 80), seed=st.integers(0, 1000))
def test_class_mean_images(submission, n, seed):
    X, y = random_digits(n, seed)
    out = checks.tensor(
        submission.step08_accuracy.class_mean_images(X, y),
        f"class_mean_images of {n} images",
        shape=(10, 784),
    )
    expected = torch.stack([X[y == k].mean(dim=0) for k in range(10)])
    checks.close(out, expected, "class_mean_images (row k: the mean of the images labelled k)")


@pytest.mark.points(3)
@given(n=st.integers(1, 60), scale=st.sampled_from([0.3, 1.0, 3.0]), seed=st.integers(0, 1000))
def test_mean_image_predict(submission, n, scale, seed):
    g = torch.Generator().manual_seed(seed)
    means = torch.randn(10, 784, generator=g, dtype=torch.float64)
    X = means[torch.randint(0, 10, (n,), generator=g)] + scale * torch.randn(
        n, 784, generator=g, dtype=torch.float64
    )
    out = checks.tensor(
        submission.step08_accuracy.mean_image_predict(means, X),
        f"mean_image_predict for {n} images",
        shape=(n,),
        dtype=torch.int64,
    )
    expected = torch.cdist(X, means).argmin(dim=1)
    wrong = (out != expected).sum().item()
    if wrong:
        checks.fail(
            f"mean_image_predict picked a class whose mean image is not the nearest for "
            f"{wrong} of {n} images (use the squared distance summed over the 784 pixels, "
            "then argmin over the 10 classes)"
        )


def torch_call_count(submission, means, X):
    """The labels of mean_image_predict(means, X), and how many torch calls it made."""
    out, raw = submission.torch_calls(STEP, "mean_image_predict", (means, X))
    out = checks.tensor(out, "mean_image_predict", shape=(len(X),), dtype=torch.int64)
    return out, sum(count for _, _, count in checks.torch_records(raw, "mean_image_predict"))


@pytest.mark.points(1)
def test_mean_image_predict_by_broadcasting(submission):
    means = torch.eye(10, 784)
    X = torch.eye(10, 784).flip(0)
    out, few = torch_call_count(submission, means, X)
    if not torch.equal(out, torch.arange(9, -1, -1)):
        checks.fail("mean_image_predict should give each image the class of the nearest mean")
    # A Python loop over the images makes torch calls per image: 290 more images, at least
    # 290 more calls. Broadcasting (or a loop over the 10 classes, or over chunks of
    # images) makes about as many calls for 300 images as for 10.
    many_X = torch.eye(10, 784).repeat(30, 1)
    out, many = torch_call_count(submission, means, many_X)
    if not torch.equal(out, torch.arange(10).repeat(30)):
        checks.fail("mean_image_predict should give each image the class of the nearest mean")
    if many - few >= 145:
        checks.fail(
            f"mean_image_predict made {few} torch calls for 10 images and {many} for "
            "300: it should work without a Python loop over the images: "
            "X[:, None, :] - means[None, :, :] has shape (N, 10, 784) and holds every "
            "difference at once"
        )


@pytest.mark.points(2)
@pytest.mark.timeout(30)
def test_mean_image_baseline_on_mnist(submission):
    X, y = mnist.tensors("train")
    means = checks.tensor(
        submission.step08_accuracy.class_mean_images(X, y),
        "class_mean_images of the training set",
        shape=(10, 784),
    )
    X_test, y_test = mnist.tensors("test")
    predict = submission.step08_accuracy.mean_image_predict
    labels = torch.cat(
        [
            checks.tensor(
                predict(means, X_test[i : i + 2000]),
                "mean_image_predict of 2000 test images",
                shape=(2000,),
                dtype=torch.int64,
            )
            for i in range(0, 10000, 2000)
        ]
    )
    acc = (labels == y_test).double().mean().item()
    if not 0.80 <= acc <= 0.84:
        checks.fail(
            f"the mean-image baseline (means of the training set, nearest mean for each "
            f"test image) reached {acc:.3f} on the MNIST test set; it should be about 0.82"
        )


# --- the standard error ---------------------------------------------------------------------


@pytest.mark.points(2)
@given(acc=st.floats(0.0, 1.0), n=st.integers(1, 100000))
def test_accuracy_stderr(submission, acc, n):
    out = checks.python_float(
        submission.step08_accuracy.accuracy_stderr(acc, n),
        f"accuracy_stderr({acc}, {n})",
        low=0.0,
        high=0.5,
    )
    expected = math.sqrt(acc * (1 - acc) / n)
    if not math.isclose(out, expected, rel_tol=1e-9, abs_tol=1e-12):
        checks.fail(f"accuracy_stderr({acc}, {n}) should be sqrt(acc * (1 - acc) / n), got {out}")
