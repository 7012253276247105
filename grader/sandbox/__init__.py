"""The sandbox: where a submission's code runs when the grader grades it.

- :mod:`.bwrap`: whether bubblewrap can run here, and the sandbox's command line.
- :mod:`.limits`: the resource limits, and a cgroup v2 that holds them.
- :mod:`.host`: the grader's side: start a sandbox, ask its zygote for workers.
- :mod:`.zygote`: the sandbox's first process; forks a worker per step, cleans up.
- :mod:`.worker`: runs the submission's code, answers the grader's requests.
- :mod:`.wire`: the messages, and the grader's checks on everything read back.
- :mod:`.sync`: in-place changes to the test's tensors and modules, both ways.
- :mod:`.kit_data`: the kit's MNIST tensors cross by name, not by value.
- :mod:`.remote_errors`: the submission's exceptions, rebuilt as plain data.
- :mod:`.scratch`: folders made and removed (matplotlib's cache, any tree).

Nothing here imports pytest: the grader's pytest plugin uses this package, not
the other way round.

Isolation, strongest first:

- ``bwrap``: bubblewrap gives the worker no network, a private /tmp, a
  read-only view of only the Python install, the worker code, the data and the
  staged submission (no ``solutions/``, no ``tests/``, no output paths), its own
  PID namespace (it cannot see or signal the grader; everything it started dies
  with it), and it runs as an unprivileged user id. The zygote is that
  namespace's PID 1, which the kernel shields from signals sent inside it: a
  worker that signals every process it can see ends only itself.
- ``process``: a plain child process (used where bubblewrap is missing or
  cannot run); the grader says so once.

Both set resource limits with ``prlimit``: data segment, CPU time, processes,
file size. Memory is capped over all of a sandbox's processes by a cgroup v2
(``memory.max``, ``pids.max``) where the grader can create one; elsewhere each
worker's address space is capped (RLIMIT_AS, which counts shared mappings too)
at the zygote's own size plus the budget. Workers run one at a time; when one
ends, the zygote kills every process it left and empties its /tmp. A worker that
crashes, exits, is killed or runs past the test's timeout fails that test only;
the next request starts a fresh worker.
"""
