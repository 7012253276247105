"""``grade --html``: real gradings (the reference and a broken submission, steps 01 and 11)
write the pages, and headless Chromium opens them: no load error, every image decodes.

Chromium is Debian's ``chromium`` package (``.ci/run`` installs it as it installs
bubblewrap); the browser tests are skipped, saying so, where it is not installed.
"""

import base64
import json
import re
import shutil
import subprocess

import pytest

from grader.grading import results
from tests.kit.submission_files import SOLUTIONS, reference, submission_with
from tests.kit.submission_files import grade_command as grade

pytestmark = pytest.mark.timeout(400)
S01, S11 = "step01_plotting", "step11_rnn"
PNG = b"\x89PNG\r\n\x1a\n"
CHROMIUM = shutil.which("chromium")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="headless Chromium is not installed (Debian: apt-get install chromium; .ci/run "
    "installs it when it runs as root)",
)
# Appended to a copy of a page: whether every <img> decoded, written into the DOM.
CHECK = """<script>
window.addEventListener("load", () => {
  const images = Array.from(document.images);
  const bad = images.filter((im) => !(im.complete && im.naturalWidth > 0));
  const out = document.createElement("pre");
  out.id = "image-check";
  out.textContent = `images ${images.length} broken ${bad.length}`;
  document.body.appendChild(out);
});
</script>"""


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """One grading with --html: the reference, and a submission whose plot draws the
    digit transposed and whose step 11 does not import."""
    tmp = tmp_path_factory.mktemp("html")
    broken = submission_with(
        tmp,
        "broken",
        {
            f"{S01}.py": reference(S01).replace("X).reshape(28, 28)", "X).reshape(28, 28).T"),
            f"{S11}.py": reference(S11) + "\ndef oops(:\n",
        },
    )
    out = tmp / "report"
    proc = grade(
        SOLUTIONS,
        broken,
        "--steps",
        "1",
        "11",
        "--html",
        out,
        "--json",
        tmp / "r.json",
        "--gradescope",
        tmp / "gradescope",
        "--gradescope-visibility",
        "hidden",
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    return out, json.loads((tmp / "r.json").read_text())


def embedded_pngs(page: str) -> list[bytes]:
    sources = re.findall(r'<img [^>]*src="([^"]*)"', page)
    assert len(sources) == page.count("<img "), "an <img> without a src"
    assert all(s.startswith("data:image/png;base64,") for s in sources), "not an inline PNG"
    return [base64.b64decode(s.split(",", 1)[1]) for s in sources]


def test_the_pages_hold_the_students_own_results(report):
    out, document = report
    results.validate(document)
    assert sorted(p.name for p in out.iterdir()) == ["broken.html", "index.html", "solutions.html"]
    index = (out / "index.html").read_text()
    assert 'href="solutions.html"' in index and 'href="broken.html"' in index
    assert "Tests that cost the most points" in index and "test_rnn_init" in index
    assert all(png.startswith(PNG) for png in embedded_pngs(index))
    good = (out / "solutions.html").read_text()
    for caption in (
        "plot(X, y=3, pred=8)",
        "plot_probs(theta)",
        "plot_grid(images, labels",
        "train_rnn(): the loss of each epoch",
        "the trained RNN",
    ):
        assert f"<figcaption>{caption}" in good, caption
    assert len(embedded_pngs(good)) == 6
    bad = (out / "broken.html").read_text()
    assert "SyntaxError" in bad and "step11_rnn: 0/" in bad
    assert "plot(X, y=3, pred=8)" in bad  # its (transposed) digit is shown all the same
    kept = [
        a for t in document["submissions"][1]["steps"][S01]["tests"] for a in t.get("artifacts", [])
    ]
    assert {a["kind"] for a in kept} == {"figure"}


def test_gradescope_results_carry_the_same_pictures(report):
    out, _ = report
    results_json = json.loads((out.parent / "gradescope" / "solutions.json").read_text())
    summaries = {t["name"]: t for t in results_json["tests"] if "(step total)" in t["name"]}
    step01 = summaries[f"{S01} (step total)"]
    assert step01["output_format"] == "html" and step01["visibility"] == "visible"
    assert len(embedded_pngs(step01["output"])) == 4
    assert all(png.startswith(PNG) for png in embedded_pngs(step01["output"]))
    details = [t for t in results_json["tests"] if "(step total)" not in t["name"]]
    assert {t["visibility"] for t in details} == {"hidden"}


def chromium(*args: str, timeout: float = 90) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--disable-gpu",
            "--no-sandbox",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=5000",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def console_problems(stderr: str) -> list[str]:
    """Chromium's console messages and load errors (its own dbus noise aside)."""
    return [
        line
        for line in stderr.splitlines()
        if "CONSOLE" in line
        or "Refused to" in line
        or "Failed to load" in line
        or "net::ERR" in line
    ]


@needs_chromium
@pytest.mark.parametrize("page", ["index.html", "solutions.html", "broken.html"])
def test_chromium_loads_the_page_and_decodes_every_image(report, tmp_path, page):
    out, _ = report
    text = (out / page).read_text()
    # The page itself: no console message, nothing refused by its policy, nothing fetched.
    plain = chromium("--dump-dom", (out / page).as_uri())
    assert plain.returncode == 0, plain.stderr[-2000:]
    assert console_problems(plain.stderr) == []
    # A copy whose policy also runs the check: every image complete with a width.
    checked = tmp_path / page
    checked.write_text(
        text.replace(
            "default-src 'none';", "default-src 'none'; script-src 'unsafe-inline';"
        ).replace("</body>", CHECK + "</body>")
    )
    dom = chromium("--dump-dom", checked.as_uri())
    assert console_problems(dom.stderr) == []
    found = re.search(r'<pre id="image-check">images (\d+) broken (\d+)</pre>', dom.stdout)
    assert found, dom.stdout[-2000:]
    assert int(found[1]) == text.count("<img ") > 0 and found[2] == "0"


@needs_chromium
def test_a_screenshot_of_a_student_page(report, tmp_path):
    out, _ = report
    shot = tmp_path / "page.png"
    proc = chromium(
        "--hide-scrollbars",
        "--window-size=1100,2400",
        f"--screenshot={shot}",
        (out / "broken.html").as_uri(),
    )
    assert proc.returncode == 0 and shot.read_bytes().startswith(PNG), proc.stderr[-2000:]
    assert shot.stat().st_size > 50_000  # a page of pictures, not a blank one
