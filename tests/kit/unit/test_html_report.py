"""Artifacts (what hidden tests keep for the HTML report) and the report's pages.

Real data: MNIST digits from data_cache/, a real matplotlib figure read into FigureData,
PNGs drawn by the report and decoded here. No grading runs (tests/kit/e2e/test_html_report.py
grades for real and opens the pages in a browser).
"""

import base64
import copy
import io
import json
import re

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from PIL import Image  # noqa: E402

from grader import cli  # noqa: E402
from grader.authoring.figures import figure_data  # noqa: E402
from grader.authoring.kit_mnist import mnist  # noqa: E402
from grader.grading import artifacts, results  # noqa: E402
from grader.reports import gradescope_results, html_report  # noqa: E402

HOSTILE = '<script>alert(1)</script> $\\frac{a}{$ "quoted" &amp;'


def only(stored):
    assert len(stored) == 1, stored
    return stored[0]


def test_a_curve_is_kept_as_plain_rounded_floats():
    kept = only(artifacts.convert("loss", "curve", [2.3, np.float64(1.5), torch.tensor(0.25)]))
    assert kept == {"name": "loss", "kind": "curve", "data": {"": [2.3, 1.5, 0.25]}}
    two = only(artifacts.convert("rnn", "curve", {"series": torch.ones(5), "prediction": [0] * 5}))
    assert list(two["data"]) == ["series", "prediction"]


@pytest.mark.parametrize(
    "kind, data, why",
    [
        ("curve", [1.0, float("nan")], "NaN"),
        ("curve", list(range(artifacts.MAX_POINTS + 1)), "points"),
        ("curve", [], "points"),
        ("curve", {str(i): [1.0] for i in range(5)}, "series"),
        ("curve", ["a", "b"], "not numbers"),
        ("images", torch.zeros(3, 27, 27), "28x28"),
        ("neighbours", (torch.zeros(5, 784), torch.tensor([[0, 9]])), "indices"),
        ("classification", (torch.zeros(2, 784), [1, 2], [1, 12]), "0-9"),
        ("reconstructions", (torch.zeros(4, 784), torch.zeros(3, 784)), "as many"),
        ("video", [1.0], "unknown kind"),
    ],
)
def test_what_does_not_fit_becomes_a_note_never_an_error(kind, data, why):
    note = only(artifacts.convert("x", kind, data))
    assert note["kind"] == "note" and why in note["data"], note


def test_classification_keeps_a_confusion_matrix_and_the_misclassified_digits():
    X, y = mnist.tensors("test")
    predicted = y.clone()
    predicted[[3, 10, 500]] = (y[[3, 10, 500]] + 1) % 10
    matrix, wrong = artifacts.convert("model", "classification", (X, y, predicted))
    assert matrix["kind"] == "matrix" and wrong["kind"] == "images"
    values = np.array(matrix["data"]["values"])
    assert values.sum() == 10000 and np.trace(values) == 9997
    assert wrong["data"]["captions"] == [f"{y[i]} -> {predicted[i]}" for i in (3, 10, 500)]
    # The kept pixels are the digits themselves, scaled to 0..255.
    pixels = np.array(wrong["data"]["pixels"][0])
    assert np.corrcoef(pixels, X[3].numpy())[0, 1] > 0.99


def test_images_are_capped_at_64_and_neighbours_are_rows_of_images():
    X, _ = mnist.tensors("test")
    assert len(only(artifacts.convert("x", "images", X[:100]))["data"]["pixels"]) == 64
    rows = only(
        artifacts.convert("nn", "neighbours", (X[:50], torch.arange(60).reshape(10, 6) % 50))
    )
    assert rows["data"]["ncols"] == 6 and len(rows["data"]["pixels"]) == 8 * 6


def test_a_real_figure_is_kept_as_its_data():
    fig = Figure()
    ax = fig.add_subplot()
    ax.imshow(np.arange(28 * 56).reshape(28, 56), cmap="gray")
    ax.bar(range(3), [0.2, 0.5, 0.3])
    ax.set_title(HOSTILE)
    ax.text(0, 0, "7")
    kept = only(artifacts.convert("plot", "figure", figure_data(fig)))
    axes = kept["data"]["axes"][0]
    assert axes["title"] == HOSTILE and axes["texts"] == ["7"]
    assert len(axes["images"][0]["pixels"]) == 28 and len(axes["images"][0]["pixels"][0]) == 56
    assert [b["height"] for b in axes["bars"]] == pytest.approx([0.2, 0.5, 0.3])


@pytest.mark.parametrize(
    "change",
    [
        lambda a: a["data"]["pixels"][0].__setitem__(0, 256),
        lambda a: a["data"]["pixels"][0].__setitem__(0, 1.5),
        lambda a: a["data"]["pixels"].extend(a["data"]["pixels"] * 64),
        lambda a: a["data"]["captions"].append("one caption too many"),
        lambda a: a.__setitem__("name", "x" * 201),
        lambda a: a.__setitem__("kind", "script"),
    ],
)
def test_the_schema_refuses_what_the_plugin_would_never_write(change):
    artifact = only(artifacts.convert("x", "images", torch.rand(2, 784)))
    artifacts.check_stored(artifact)
    change(artifact)
    with pytest.raises(ValueError, match="artifact"):
        artifacts.check_stored(artifact)


def document(artifacts_of_test, message="expected 3, got 4 <b>"):
    test = {"name": "test_a", "score": 0.0, "max_score": 2.0, "status": "failed"}
    test.update(message=message, artifacts=artifacts_of_test)
    passed = {"name": "test_b", "score": 1.0, "max_score": 1.0, "status": "passed", "message": ""}
    step = {"score": 1.0, "max_score": 3.0, "tests": [test, passed]}
    sub = {"name": HOSTILE, "path": "/x", "score": 1.0, "max_score": 3.0}
    sub["steps"] = {"step07_train_loop": step}
    return {"kit_version": "1", "submissions": [sub]}


def images_of(page):
    """The PNGs embedded in ``page``, decoded (every <img> must be one)."""
    sources = re.findall(r"<img [^>]*src=\"([^\"]*)\"", page)
    assert len(sources) == page.count("<img ")
    decoded = []
    for src in sources:
        assert src.startswith("data:image/png;base64,")
        decoded.append(Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))))
    for image in decoded:
        image.load()
    return decoded


def test_a_student_page_is_self_contained_escaped_and_draws_every_artifact(tmp_path):
    X, y = mnist.tensors("test")
    kept = [
        *artifacts.convert("loss", "curve", [2.0, 1.0, 0.5]),
        *artifacts.convert("model", "classification", (X[:200], y[:200], y[:200] * 0)),
        *artifacts.convert(HOSTILE, "figure", figure_data(_figure_with_title(HOSTILE))),
        *artifacts.convert("bad", "curve", [float("inf")]),
    ]
    doc = document(kept)
    results.validate(doc)
    page = html_report.student_page(doc["submissions"][0])
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "expected 3, got 4 &lt;b&gt;" in page
    assert "bad: not shown: the curve" in page
    assert [im.size[0] > 100 for im in images_of(page)] == [True] * 4
    assert html_report.CSP in page and not re.search(r"(src|href)=\"(https?:|//)", page)
    hidden = html_report.student_page(doc["submissions"][0], hide_hidden=True)
    assert "expected 3, got 4" not in hidden and "test_a: failed" in hidden
    assert len(images_of(hidden)) == 4


def test_a_tampered_artifact_is_left_out_not_drawn():
    kept = artifacts.convert("loss", "curve", [2.0, 1.0])
    bad = copy.deepcopy(kept)
    bad[0]["data"][""] = ["<img src=x>"]
    with pytest.raises(ValueError):
        results.validate(document(bad))
    page = html_report.student_page(document(bad)["submissions"][0])
    assert "a picture was left out" in page and "<img src=x>" not in page


def test_the_class_page_ranks_the_tests_that_cost_most(tmp_path):
    doc = document([])
    other = copy.deepcopy(doc["submissions"][0])
    other["name"] = HOSTILE  # the same name twice: two pages
    doc["submissions"].append(other)
    written = html_report.write(doc, tmp_path / "report")
    assert [p.name for p in written] == [
        "index.html",
        "script_alert_1_script_frac_a_quoted_amp.html",
        "script_alert_1_script_frac_a_quoted_amp-2.html",
    ]
    index = written[0].read_text()
    assert html_report.costly_tests(doc) == [("step07_train_loop", "test_a", 4.0, 2)]
    assert (
        len(images_of(index)) == 3
        and 'href="script_alert_1_script_frac_a_quoted_amp-2.html"' in index
    )
    json.dumps(doc)  # the document stays JSON


def _figure_with_title(title):
    fig = Figure()
    ax = fig.add_subplot()
    ax.plot([0, 1, 2], [1, 0, 1])
    ax.set_title(title)
    return fig


def test_gradescope_carries_the_pictures_in_the_step_summary_and_sets_visibility():
    doc = document(artifacts.convert("loss", "curve", [2.0, 1.0, 0.5]))
    out = gradescope_results.report(doc, visibility="after_due_date")
    summary, *tests = out["tests"]
    assert summary["output_format"] == "html" and summary["visibility"] == "visible"
    assert summary["output"].startswith("<p>1/3 points; 1 of 2 hidden tests passed</p>")
    assert len(images_of(summary["output"])) == 1
    assert {t["visibility"] for t in tests} == {"after_due_date"}
    assert "output_format" not in tests[0]  # messages stay text
    plain = gradescope_results.report(document([]))
    assert "output_format" not in plain["tests"][0]
    assert {t["visibility"] for t in plain["tests"][1:]} == {"after_published"}


def test_gradescope_pictures_are_capped(monkeypatch):
    kept = artifacts.convert("loss", "curve", [2.0, 1.0])
    doc = document(kept * 3)
    one = len(html_report.picture(kept[0]))
    monkeypatch.setattr(gradescope_results, "PICTURES_LIMIT", int(1.5 * one))
    output = gradescope_results.report(doc)["tests"][0]["output"]
    assert len(images_of(output)) == 1 and output.count("left out (the page is full)") == 2


def test_hide_hidden_needs_html():
    assert cli.main(["grade", "solutions", "--hide-hidden"]) == 2


def test_page_names_differ_also_on_a_case_insensitive_disk():
    """On macOS and Windows "Jane.html" and "jane.html" are one file: the second student's
    page replaced the first's (whose link then showed someone else's feedback), a student
    named "INDEX" replaced the class page, and one named "con" could not be written."""
    names = ["Jane", "jane", "JANE", "INDEX", "index", "jane-2", "Con", "nul.x", "com1"]
    document = {"submissions": [{"name": n} for n in names]}
    pages = html_report.page_names(document)
    folded = [p.casefold() for p in pages]
    assert len(set(folded)) == len(names) and "index.html" not in folded, pages
    assert pages[0] == "Jane.html", "a name that collides with none is kept as it is"
    devices = ("con.", "nul.", "com1.")  # Windows: the console, nothing, a serial port
    assert not [p for p in folded if p.startswith(devices)], pages
