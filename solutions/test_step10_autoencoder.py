"""Visible tests of step 10: run ``pytest exercises -m step10``."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from .mnist import train_images
from .step10_autoencoder import AE, cosine_similarity_matrix, nearest_neighbors, train_autoencoder

pytestmark = pytest.mark.step10


def call(what, fn, *args, hint, **kwargs):
    """``fn(*args, **kwargs)``; an error inside it fails the test with one line."""
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        raise  # a stub: its own one-line message
    except (RuntimeError, TypeError, ValueError, IndexError) as err:
        raise AssertionError(f"{what} raised {type(err).__name__}: {err}; {hint}") from err


def digits(n):
    """The first n training digits as (n, 784) floats in [0, 1]."""
    return torch.from_numpy(train_images()[:n].reshape(n, 784).astype(np.float32) / 255)


def test_ae_shapes_and_range():
    ae = AE()
    x = digits(8)
    with torch.no_grad():
        out = ae(x)
        code = ae.encode(x)
    assert tuple(out.shape) == (8, 1, 28, 28), (
        f"AE()(x) for x of shape (8, 784) should have shape (8, 1, 28, 28), got {tuple(out.shape)}"
    )
    assert out.min() >= 0 and out.max() <= 1, (
        f"the reconstruction has values in [{out.min():.3f}, {out.max():.3f}]; pixel "
        "intensities lie in [0, 1]: end the decoder with a sigmoid"
    )
    assert tuple(code.shape) == (8, 50), (
        f"encode should give (8, 50) codes, got {tuple(code.shape)}"
    )
    assert code.min() >= 0, "the codes come after a ReLU, so they are never negative"
    with torch.no_grad():
        out4d = call(
            "AE()(x) for x of shape (8, 1, 28, 28)",
            ae,
            x.reshape(8, 1, 28, 28),
            hint="AE should accept (B, 1, 28, 28) images as well as (B, 784): flatten each "
            "image in encode (x.reshape(x.shape[0], -1))",
        )
    assert torch.allclose(out4d, out), "AE should accept (B, 1, 28, 28) images as well as (B, 784)"


def reconstructions(ae, x):
    with torch.no_grad():
        return {"digits": x, "their reconstructions after 2 short epochs": ae(x)}


def test_train_autoencoder_lowers_the_loss(save_curves, save_digits):
    ae = AE()
    losses = call(
        "train_autoencoder",
        train_autoencoder,
        ae,
        digits(512),
        epochs=2,
        lr=1e-2,
        device="cpu",
        seed=0,
        hint="compare the reconstruction (B, 1, 28, 28) with the images in that shape",
    )
    save_curves("step10_train_autoencoder_loss", {"mean reconstruction loss": losses})
    save_digits("step10_reconstructions", lambda: reconstructions(ae, digits(10)))
    assert isinstance(losses, list) and len(losses) == 2, (
        f"train_autoencoder(..., epochs=2) should return a list of 2 losses, got {losses!r}"
    )
    assert all(isinstance(v, float) for v in losses), (
        f"the losses should be Python floats (.item()), got {[type(v).__name__ for v in losses]}"
    )
    assert losses[1] < losses[0], (
        f"the mean loss should fall from epoch 1 to epoch 2, got {losses}; is the target the "
        "input itself, and do you step the optimizer after every batch?"
    )
    with torch.no_grad():
        mse = F.mse_loss(ae(digits(512)), digits(512).reshape(-1, 1, 28, 28)).item()
    assert mse < 0.07, f"after training the reconstruction MSE is {mse:.3f}; expected below 0.07"


def test_cosine_similarity_matrix():
    A = torch.tensor([[1.0, 0.0], [10.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    S = call(
        "cosine_similarity_matrix",
        cosine_similarity_matrix,
        A,
        hint="divide each row by its norm, kept as an (N, 1) column (keepdim=True)",
    )
    assert tuple(S.shape) == (4, 4), f"expected a (4, 4) matrix, got {tuple(S.shape)}"
    assert torch.allclose(S[0, 1], torch.tensor(1.0)), (
        f"[1, 0] and [10, 0] point the same way, so their cosine similarity is 1, got "
        f"{S[0, 1]:.3f}; did you normalize each row to length 1 before the matrix product?"
    )
    assert torch.allclose(S[0, 2], torch.tensor(0.0), atol=1e-6), "perpendicular rows have cosine 0"
    assert torch.allclose(S[0, 3], torch.tensor(2**-0.5)), "a 45 degree angle has cosine 0.707"
    assert torch.allclose(torch.diagonal(S), torch.ones(4)), "the diagonal should be all 1"


def test_nearest_neighbors():
    A = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.1], [1.0, 0.5], [-1.0, 0.0]])
    found = call(
        "nearest_neighbors",
        nearest_neighbors,
        A,
        0,
        k=3,
        hint="take row idx of cosine_similarity_matrix(A) and its k largest entries",
    )
    assert found.dtype == torch.int64, f"return int64 indices, got {found.dtype}"
    assert found.tolist() == [0, 2, 3], (
        f"nearest_neighbors(A, 0, k=3) gave {found.tolist()}, expected [0, 2, 3]: row 0 itself, "
        "then the rows by decreasing cosine similarity"
    )
