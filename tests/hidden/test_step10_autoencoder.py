"""Hidden tests of step 10: the autoencoder, its training, cosine similarity, neighbours."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from grader.authoring import checks, kit_models
from grader.authoring.kit_mnist import mnist
from grader.authoring.shared import SharedRun

pytestmark = pytest.mark.step10
STEP = "step10_autoencoder"

# A short training on real digits in [0, 1]: the reference reaches a test MSE of about
# 0.021-0.025 and neighbour-label agreement of about 0.83 (seeds 0-4, CPU); predicting the
# mean image gives an MSE of 0.065, and chance agreement is about 0.10.
TRAIN_N, TRAIN_EPOCHS, TRAIN_LR = 5000, 3, 1e-2
MSE_BAR = 0.04
AGREEMENT_BAR = 0.6


def unit_images(collection, n):
    """``n`` MNIST digits as float32 ``(n, 784)`` in [0, 1] (pixel / 255), and their labels."""
    images = mnist.train_images() if collection == "train" else mnist.test_images()
    labels = mnist.train_labels() if collection == "train" else mnist.test_labels()
    X = torch.from_numpy(images[:n].reshape(n, 784).astype(np.float32) / 255.0)
    return X, torch.from_numpy(labels[:n].astype(np.int64))


def loss_list(value, epochs, what):
    if not isinstance(value, list):
        checks.fail(
            f"{what} should return a list of per-epoch losses, got {checks.describe(value)}"
        )
    if len(value) != epochs:
        checks.fail(
            f"{what} with epochs={epochs} returned {len(value)} losses; expected one per epoch"
        )
    value = [float(v) if isinstance(v, float) else v for v in value]  # numpy.float64 too
    for i, loss in enumerate(value):
        checks.python_float(loss, f"the loss of epoch {i + 1} from {what}", low=0.0)
        if not math.isfinite(loss):
            checks.fail(f"the loss of epoch {i + 1} from {what} is not finite")
    return value


def trained_autoencoder(submission, device, seed=0):
    """The student's AE trained by the student's train_autoencoder, judged as the kit's AE.

    The trained weights (its state_dict, any key names) go into the kit's own AE
    (grader/authoring/kit_models.py) on the grader's side: the student's forward and encode never
    decide a reconstruction error or a code.
    """
    step = submission.step10_autoencoder
    ae = step.AE()
    X, _ = unit_images("train", TRAIN_N)
    losses = step.train_autoencoder(
        ae, X, epochs=TRAIN_EPOCHS, batch_size=64, lr=TRAIN_LR, device=device, seed=seed
    )
    loss_list(losses, TRAIN_EPOCHS, "train_autoencoder")
    kit = kit_models.autoencoder(kit_models.state_of(ae, "AE()"), "AE() after train_autoencoder")
    return kit.eval()


@pytest.fixture(scope="module")
def autoencoder_run(submission, device):
    """trained_autoencoder, run once per submission for the two tests that judge it: the
    first to ask pays the training within its own timeout (grader/authoring/shared.py).
    Those tests still take ``submission``: a failure's message names the submission's line."""
    return SharedRun(
        submission, "trained_autoencoder", lambda: trained_autoencoder(submission, device)
    )


def reconstruction_error(model, X):
    with torch.no_grad():
        out = model(X)
    return F.mse_loss(out.double(), X.reshape(-1, 1, 28, 28).double()).item()


@pytest.mark.points(1)
@pytest.mark.parametrize("kind", ["uniform", "large", "digits"])
def test_ae_output_shape_and_range(submission, kind):
    ae = submission.step10_autoencoder.AE()
    if kind == "digits":
        x, _ = unit_images("test", 16)
    else:
        x = torch.rand(16, 784) * (20.0 if kind == "large" else 1.0)
    with torch.no_grad():
        out = checks.tensor(ae(x), "AE()(x) for x of shape (16, 784)", shape=(16, 1, 28, 28))
    if out.min().item() < 0.0 or out.max().item() > 1.0:
        checks.fail(
            f"AE()(x) has values in [{out.min().item():.3g}, {out.max().item():.3g}]; "
            "a reconstruction of pixel intensities must lie in [0, 1]: end the decoder "
            "with a sigmoid"
        )


@pytest.mark.points(2)
def test_ae_accepts_image_shape(submission):
    ae = submission.step10_autoencoder.AE()
    x, _ = unit_images("test", 8)
    with torch.no_grad():
        out = checks.tensor(
            ae(x.reshape(8, 1, 28, 28)),
            "AE()(x) for x of shape (8, 1, 28, 28)",
            shape=(8, 1, 28, 28),
        )
        flat = checks.tensor(ae(x), "AE()(x) for x of shape (8, 784)", shape=(8, 1, 28, 28))
    checks.close(out, flat, "AE()(x) for (8, 1, 28, 28) images versus the same images as (8, 784)")


@pytest.mark.points(1)
@pytest.mark.parametrize("hidden", [50, 12])
def test_encode_width_and_relu(submission, hidden):
    ae = submission.step10_autoencoder.AE(N_input=784, N_hidden_nodes=hidden)
    x, _ = unit_images("test", 32)
    with torch.no_grad():
        for shape in [(32, 784), (32, 1, 28, 28)]:
            code = checks.tensor(
                ae.encode(x.reshape(shape)),
                f"AE(N_hidden_nodes={hidden}).encode(x) for x of shape {shape}",
                shape=(32, hidden),
            )
            if code.min().item() < 0.0:
                checks.fail(
                    f"AE.encode gives negative codes (down to {code.min().item():.3g}); "
                    "the code comes after a ReLU"
                )


@pytest.mark.points(2)
@pytest.mark.training
@pytest.mark.timeout(10)
def test_train_autoencoder_returns_epoch_losses(submission, device):
    # The kit's AE (a grader-side model), so a bug in AE costs nothing here; whether it
    # learned is measured here too, not only read from the losses it reports.
    step = submission.step10_autoencoder
    torch.manual_seed(2)
    model = kit_models.AE()
    X, _ = unit_images("train", 1024)
    before = reconstruction_error(model, X)
    losses = loss_list(
        step.train_autoencoder(model, X, epochs=2, batch_size=64, lr=1e-2, device=device, seed=0),
        2,
        "train_autoencoder",
    )
    if not losses[1] < losses[0]:
        checks.fail(
            f"train_autoencoder's mean loss went from {losses[0]:.4g} to {losses[1]:.4g}; "
            "it should fall on real digits (MSE of model(batch) against the batch itself, "
            "and an optimizer step per batch)"
        )
    model.to("cpu")
    after = reconstruction_error(model.float(), X)
    if not after < 0.8 * before:
        checks.fail(
            f"after train_autoencoder the model's reconstruction error on its training "
            f"digits went only from {before:.4g} to {after:.4g}: it should train the model "
            "it is given, in place (MSE against the input, an Adam step per batch)"
        )


@pytest.mark.points(1)
@pytest.mark.training
@pytest.mark.timeout(10)
def test_train_autoencoder_accepts_image_shape(submission, device):
    step = submission.step10_autoencoder
    ae = step.AE()
    X, _ = unit_images("train", 256)
    loss_list(
        step.train_autoencoder(ae, X.reshape(256, 1, 28, 28), epochs=1, device=device, seed=0),
        1,
        "train_autoencoder on images of shape (N, 1, 28, 28)",
    )


@pytest.mark.points(1)
@pytest.mark.training
@pytest.mark.timeout(10)
def test_train_autoencoder_seed_repeats(submission, device):
    step = submission.step10_autoencoder
    X, _ = unit_images("train", 512)
    runs = []
    for _ in range(2):
        # Two identical models built from torch.nn layers (the same init), trained with one seed.
        torch.manual_seed(1)
        model = nn.Sequential(
            nn.Flatten(),
            nn.Linear(784, 20),
            nn.ReLU(),
            nn.Linear(20, 784),
            nn.Sigmoid(),
            nn.Unflatten(1, (1, 28, 28)),
        )
        runs.append(
            loss_list(
                step.train_autoencoder(model, X, epochs=2, device=device, seed=7),
                2,
                "train_autoencoder",
            )
        )
    if runs[0] != runs[1]:
        checks.fail(
            "train_autoencoder with the same seed gave different losses; call "
            "torch.manual_seed(seed) at the start when a seed is given"
        )


@pytest.mark.points(4)
@pytest.mark.training
@pytest.mark.timeout(15)
def test_reconstruction_after_training(submission, autoencoder_run, request, keep_artifact):
    ae = autoencoder_run.result(request)
    X, _ = unit_images("test", 1000)
    with torch.no_grad():
        keep_artifact("reconstructions (top: test digits)", "reconstructions", (X[:8], ae(X[:8])))
    mse = reconstruction_error(ae, X)
    if not mse < MSE_BAR:
        checks.fail(
            f"after {TRAIN_EPOCHS} epochs on {TRAIN_N} digits (lr={TRAIN_LR}) the "
            f"reconstruction MSE on test digits is {mse:.4f}; a correct autoencoder gets "
            f"below {MSE_BAR} (predicting the mean image gives about 0.065)"
        )


@pytest.mark.points(3)
@pytest.mark.training
@pytest.mark.timeout(15)
def test_code_space_neighbours_share_labels(submission, autoencoder_run, request, keep_artifact):
    ae = autoencoder_run.result(request)
    X, y = unit_images("test", 500)
    with torch.no_grad():
        codes = ae.encode(X).double()
    codes = codes + 1e-6  # an all-zero code has no direction; keep the test about labels
    similarities = torch_cosine(codes)
    keep_artifact(
        "nearest codes (first: the digit)", "neighbours", (X, similarities[:8].topk(6)[1])
    )
    agree = []
    for i in range(100):
        found = torch.topk(similarities[i], 6).indices
        agree.append((y[found[1:]] == y[i]).double().mean().item())
    agreement = sum(agree) / len(agree)
    if not agreement > AGREEMENT_BAR:
        checks.fail(
            f"in the trained code space only {agreement:.2f} of the 5 nearest neighbours "
            f"of a test digit share its label; a correct autoencoder gets above "
            f"{AGREEMENT_BAR} (chance is about 0.1)"
        )


def scaled_rows(n, d, seed):
    g = torch.Generator().manual_seed(seed)
    A = torch.randn(n, d, generator=g, dtype=torch.float64)
    return A * torch.exp(2.0 * torch.randn(n, 1, generator=g, dtype=torch.float64))


def torch_cosine(A):
    return F.cosine_similarity(A[:, None, :], A[None, :, :], dim=-1)


@pytest.mark.points(3)
@given(n=st.integers(1, 20), d=st.integers(1, 12), seed=st.integers(0, 1000))
def test_cosine_similarity_matrix_matches_torch(submission, n, d, seed):
    A = scaled_rows(n, d, seed)
    out = checks.tensor(
        submission.step10_autoencoder.cosine_similarity_matrix(A),
        f"cosine_similarity_matrix of shape ({n}, {d})",
        shape=(n, n),
    )
    checks.close(
        out,
        torch_cosine(A),
        "cosine_similarity_matrix (normalize each row to length 1, then one matrix product)",
        rtol=1e-7,
        atol=1e-9,
    )


@pytest.mark.points(1)
def test_cosine_similarity_matrix_diagonal_and_symmetry(submission):
    A = scaled_rows(12, 5, 3)
    out = checks.tensor(
        submission.step10_autoencoder.cosine_similarity_matrix(A),
        "cosine_similarity_matrix of shape (12, 5)",
        shape=(12, 12),
    )
    checks.close(
        torch.diagonal(out),
        torch.ones(12, dtype=torch.float64),
        "the diagonal of cosine_similarity_matrix (every row is at angle 0 to itself)",
        atol=1e-9,
    )
    checks.close(out, out.T, "cosine_similarity_matrix versus its transpose", atol=1e-9)


@pytest.mark.points(3)
@given(n=st.integers(2, 25), d=st.integers(2, 8), seed=st.integers(0, 1000), data=st.data())
def test_nearest_neighbors(submission, n, d, seed, data):
    idx = data.draw(st.integers(0, n - 1), label="idx")
    k = data.draw(st.integers(1, n), label="k")
    A = scaled_rows(n, d, seed)
    found = checks.tensor(
        submission.step10_autoencoder.nearest_neighbors(A, idx, k=k),
        f"nearest_neighbors(A of shape ({n}, {d}), {idx}, k={k})",
        shape=(k,),
        dtype=torch.int64,
    )
    if found[0].item() != idx:
        checks.fail(
            f"nearest_neighbors(A, {idx}, k={k}) starts with row {found[0].item()}; row "
            f"{idx} itself is the most similar to itself and comes first"
        )
    if found.min().item() < 0 or found.max().item() >= n or len(set(found.tolist())) != k:
        checks.fail(
            f"nearest_neighbors(A, {idx}, k={k}) should give {k} different row indices "
            f"of A, got {found.tolist()}"
        )
    similarities = torch_cosine(A)[idx]
    checks.close(
        similarities[found],
        torch.sort(similarities, descending=True).values[:k],
        "the cosine similarities of the rows nearest_neighbors returns (they should be "
        "the k largest, most similar first)",
        rtol=0,
        atol=1e-9,
    )
