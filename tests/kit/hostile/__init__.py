"""A corpus of hostile submissions, each a twist on the reference step 03.

Every case is the reference ``step03_normalization.py`` with hostile code added
(at import time, or inside ``normalize``), shipped beside an untouched
reference ``step04``. A case says what its *own honest code* earns on step 03:

- ``full``: the hostile part achieves nothing, the rest is correct;
- ``normalize``: ``normalize`` is wrong or never answers, so exactly the
  normalize tests fail;
- ``without``: the hostile part uses something the "without X" checks cannot
  follow (ctypes), so exactly those checks fail;
- ``zero``: the module never imports (it exits or kills itself).

Step 04 must get full marks in every case: one step's disaster stays there.
A case may add code to its step 04 too (``step04_import``): a check that what
step 03 left behind is gone, raising (so step 04 scores 0) if it is not.
``{marker}`` and ``{port}`` in the code are filled in per run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

KIT_ROOT = Path(__file__).resolve().parents[3]
REFERENCE = KIT_ROOT / "solutions" / "step03_normalization.py"
REFERENCE04 = KIT_ROOT / "solutions" / "step04_one_hot_loss.py"
NORMALIZE_BODY = "    return a / a.sum(-1, keepdim=True)\n"


@dataclass(frozen=True)
class Case:
    name: str
    expect: str  # "full", "normalize", "without" or "zero"
    at_import: str = ""  # appended to the module
    in_normalize: str = ""  # replaces normalize's body (indented 4)
    extra_files: dict = field(default_factory=dict)
    step04_import: str = ""  # appended to the reference step 04

    def step04(self, marker: str) -> str:
        text = REFERENCE04.read_text()
        if self.step04_import:
            text += "\n\n" + self.step04_import
        return text.replace("{marker}", marker)

    def step03(self, marker: str, port: int) -> str:
        text = REFERENCE.read_text()
        if self.in_normalize:
            body = "".join(f"    {line}\n" for line in self.in_normalize.strip("\n").splitlines())
            text = text.replace(NORMALIZE_BODY, body, 1)
        if self.at_import:
            text += "\n\n" + self.at_import
        return text.replace("{marker}", marker).replace("{port}", str(port))


WRONG = "return a"

# A process that outlives the step 03 worker that made it (double fork, its own
# session) and for two minutes sends ``{signal}`` to every process it sees but that
# worker (so step 03's own tests run undisturbed) and PID 1.
_LEFTOVER = """
import os, sys
_worker = os.getpid()
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, [sys.executable, '-c', '''
import os, signal, sys, time
worker, end = int(sys.argv[1]), time.time() + 120
while time.time() < end:
    for entry in os.listdir('/proc'):
        if entry.isdigit() and int(entry) not in (1, os.getpid(), worker):
            try:
                os.kill(int(entry), signal.{signal})
            except OSError:
                pass
    time.sleep(0.05)
''', str(_worker), 'hostile-leftover-{marker}'])
    os._exit(0)
os.waitpid(-1, 0)
"""

# Files planted where step 04 would find them: the worker's temporary folder (its
# HOME and working folder too), one behind folders made hard to delete (mode 000),
# and wherever else it might write. Step 04's import raises when any is still there.
_PLANTED = """
import os, tempfile
_planted = [p.format(tmp=tempfile.gettempdir(), home=os.path.expanduser('~'), cwd=os.getcwd())
            for p in ('{tmp}/hostile-plant-{marker}', '{tmp}/locked/deep/hostile-plant-{marker}',
                      '{home}/hostile-plant-{marker}', '{cwd}/hostile-plant-{marker}',
                      '/dev/shm/hostile-plant-{marker}', '/hostile-plant-{marker}',
                      '/kit/hostile-plant-{marker}')]
"""

CASES = [
    Case("exits-at-import", "zero", at_import="import sys\nsys.exit(0)\n"),
    Case("hard-exits-at-import", "zero", at_import="import os\nos._exit(3)\n"),
    Case(
        "kills-its-parents-at-import",
        "zero",
        at_import=(
            "import os, signal\n"
            "for pid in (os.getppid(), 1, -1):\n"
            "    try:\n        os.kill(pid, signal.SIGKILL)\n    except OSError:\n        pass\n"
            "os.killpg(0, signal.SIGKILL)\n"
        ),
    ),
    Case(
        "signals-every-process-it-sees",
        "full",
        at_import=(
            "import os, signal\n"
            "for entry in os.listdir('/proc'):\n"
            "    if entry.isdigit() and int(entry) not in (os.getpid(), 1):\n"
            "        try:\n            os.kill(int(entry), signal.SIGTERM)\n"
            "        except OSError:\n            pass\n"
        ),
    ),
    Case(
        "sigkills-everything-it-can",
        "full",
        at_import=(
            "import os, signal\n"
            "for target in (-1, 1, os.getppid()):\n"
            "    try:\n        os.kill(target, signal.SIGKILL)\n    except OSError:\n        pass\n"
        ),
    ),
    Case(
        "ptraces-its-parent",
        "without",  # ctypes in a step with "without X" rules: those checks cannot follow it
        at_import=(
            "import ctypes, os\n"
            "libc = ctypes.CDLL(None)\n"
            "libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]\n"
            "libc.ptrace(16, os.getppid(), None, None)  # PTRACE_ATTACH: would stop it for good\n"
            "try:\n    open(f'/proc/{os.getppid()}/mem', 'wb')\nexcept OSError:\n    pass\n"
        ),
    ),
    Case("sleeps-forever", "normalize", in_normalize="import time\ntime.sleep(10**6)\n"),
    Case("loops-forever", "normalize", in_normalize="while True:\n    pass\n"),
    Case(
        "allocates-far-beyond-the-limit",
        "normalize",
        in_normalize=("blob = torch.ones(2**36, dtype=torch.uint8)\nreturn blob\n"),
    ),
    Case(
        "grows-a-python-list-without-end",
        "normalize",
        in_normalize=("hoard = []\nwhile True:\n    hoard.append(bytearray(2**24))\n"),
    ),
    Case(
        "floods-stdout",
        "full",
        at_import=(
            "import os, sys\n"
            "for _ in range(300):\n    print('x' * 100_000)\n    sys.stderr.write('y' * 100_000)\n"
            "os.write(1, b'z' * 10**7)\n"
        ),
        in_normalize=(
            "for _ in range(100):\n    print('flood ' * 10_000)\n" + NORMALIZE_BODY.strip()
        ),
    ),
    Case(
        "ships-a-conftest-that-passes-everything",
        "normalize",
        in_normalize=WRONG,
        extra_files={
            "conftest.py": (
                "import pytest\n\n@pytest.hookimpl(hookwrapper=True)\n"
                "def pytest_runtest_makereport(item, call):\n"
                "    outcome = yield\n    report = outcome.get_result()\n"
                "    report.outcome = 'passed'\n    report.longrepr = None\n"
            ),
            "sitecustomize.py": "import builtins\nbuiltins.HOSTILE = True\n",
            "pytest.ini": "[pytest]\naddopts = -p no:grader\n",
        },
    ),
    Case(
        "forges-result-lines",
        "normalize",
        in_normalize=WRONG,
        at_import=(
            "import glob, json, os\n"
            "line = json.dumps({'nodeid': 'x', 'when': 'call', 'status': 'passed', 'message': ''})\n"
            "print(line)\n"
            "for path in [os.environ.get('GRADER_RESULTS', '')] + glob.glob('/tmp/**/*.jsonl', "
            "recursive=True) + glob.glob('/proc/*/fd/*'):\n"
            "    try:\n        open(path, 'a').write(line + '\\n')\n    except OSError:\n        pass\n"
        ),
    ),
    Case(
        "monkeypatches-comparisons",
        "normalize",
        in_normalize=WRONG,
        at_import=(
            "import numpy, torch, torch.testing\n"
            "torch.testing.assert_close = lambda *a, **k: None\n"
            "torch.allclose = lambda *a, **k: True\n"
            "torch.equal = lambda *a, **k: True\n"
            "torch.Tensor.__eq__ = lambda self, other: torch.ones_like(self, dtype=torch.bool)\n"
            "torch.isfinite = lambda t: torch.ones_like(t, dtype=torch.bool)\n"
            "numpy.allclose = lambda *a, **k: True\n"
            "numpy.testing.assert_allclose = lambda *a, **k: None\n"
        ),
    ),
    Case(
        "returns-things-equal-to-anything",
        "normalize",
        at_import=(
            "class Liar(torch.Tensor):\n"
            "    def __eq__(self, other):\n        return True\n"
            "    __ne__ = lambda self, other: False\n"
            "class Anything(float):\n"
            "    def __eq__(self, other):\n        return True\n"
            "    __hash__ = float.__hash__\n"
        ),
        in_normalize=(
            "if a.dim() == 1:\n    return Anything(0.5)\n"
            "return torch.zeros_like(a).as_subclass(Liar)\n"
        ),
    ),
    Case(
        "answers-with-a-malicious-pickle",
        "zero",
        at_import=(
            "import os, sys\n"
            "class Evil:\n"
            "    def __reduce__(self):\n"
            "        return (os.system, ('touch /tmp/hostile-pwned-{marker}',))\n"
            "sys.modules['grader.sandbox.wire'].to_plain = lambda value, keep: Evil()\n"
        ),
    ),
    Case(
        "returns-a-huge-answer",
        "normalize",
        in_normalize=("return torch.zeros(700 * 2**20, dtype=torch.uint8)\n"),
    ),
    Case(
        "returns-a-deeply-nested-answer",
        "normalize",
        in_normalize=("nest = []\nfor _ in range(100_000):\n    nest = [nest]\nreturn nest\n"),
    ),
    Case(
        "imports-the-reference-solution",
        "normalize",
        in_normalize=(
            "import glob, importlib\n"
            "for name in ('solutions.step03_normalization', 'tests.hidden'):\n"
            "    try:\n        return importlib.import_module(name).normalize(a)\n"
            "    except Exception:\n        pass\n"
            "for root in ('/kit', '/work', '/root', '/tmp', '/home', '/srv'):\n"
            "  for path in glob.glob(root + '/**/step03_normalization.py', recursive=True):\n"
            "    namespace = {}\n    exec(open(path).read(), namespace)\n"
            "    return namespace['normalize'](a)\n"
            "return a\n"
        ),
    ),
    Case(
        "writes-outside-its-folder",
        "full",
        at_import=(
            "import os, pathlib\n"
            "for target in [pathlib.Path(__file__).parent / 'pwned', pathlib.Path('/kit/grader/pwned'),\n"
            "               pathlib.Path('{kit_root}/pwned-{marker}'), pathlib.Path.home() / 'pwned',\n"
            "               pathlib.Path('/kit/data_cache/MNIST/raw/t10k-labels-idx1-ubyte')]:\n"
            "    try:\n        target.write_text('{marker}')\n    except OSError:\n        pass\n".replace(
                "{kit_root}", str(KIT_ROOT)
            )
        ),
    ),
    Case(
        "opens-network-connections",
        "full",
        at_import=(
            "import socket\n"
            "for host in ('127.0.0.1', 'localhost'):\n"
            "    try:\n        socket.create_connection((host, {port}), timeout=2).sendall(b'{marker}')\n"
            "    except OSError:\n        pass\n"
        ),
    ),
    Case(
        "leaves-processes-running",
        "full",
        at_import=(
            "import os, subprocess, sys\n"
            "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(900)', "
            "'hostile-leftover-{marker}'], start_new_session=True)\n"
            "if os.fork() == 0:\n"
            "    os.setsid()\n"
            "    os.execv(sys.executable, [sys.executable, '-c', 'import time; time.sleep(900)', "
            "'hostile-leftover-{marker}'])\n"
        ),
    ),
    Case(
        "orphan-kills-every-process-for-minutes",
        "full",
        at_import=_LEFTOVER.replace("{signal}", "SIGKILL"),
    ),
    Case(
        "setsid-daemon-freezes-every-process-for-minutes",
        "full",
        at_import=_LEFTOVER.replace("{signal}", "SIGSTOP"),
    ),
    Case(
        "plants-files-for-the-next-step",
        "full",
        at_import=_PLANTED
        + (
            "for _path in _planted:\n"
            "    try:\n"
            "        os.makedirs(os.path.dirname(_path), exist_ok=True)\n"
            "        open(_path, 'w').write('planted by step 03')\n"
            "    except OSError:\n"
            "        pass\n"
            "for _folder in ('/locked/deep', '/locked'):\n"
            "    try:\n"
            "        os.chmod(tempfile.gettempdir() + _folder, 0)\n"
            "    except OSError:\n"
            "        pass\n"
        ),
        step04_import=_PLANTED
        + (
            "_found = []\n"
            "for _path in _planted:\n"
            "    try:\n"
            "        os.stat(_path)\n"
            "        _found.append(_path)\n"
            "    except PermissionError:\n"
            "        _found.append(_path)  # there, behind a locked folder\n"
            "    except OSError:\n"
            "        pass\n"
            "if _found:\n"
            "    raise RuntimeError(f'step 03 left files behind: {_found}')\n"
        ),
    ),
    Case(
        "touches-shared-memory-beyond-the-cap",
        "zero",
        at_import=(
            "import ctypes, mmap\n"
            "_blob = mmap.mmap(-1, 6 * 2**30, flags=mmap.MAP_SHARED)  # RLIMIT_DATA skips it\n"
            "ctypes.memset((ctypes.c_char * len(_blob)).from_buffer(_blob), 1, len(_blob))\n"
        ),
    ),
]
