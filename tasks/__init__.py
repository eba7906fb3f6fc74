"""Every task that changes git or GitHub, and one-line aliases of the nox sessions.

`invoke --list` is the menu and `invoke --help TASK` explains a task's options. Tasks that change
something check every precondition first and change nothing until all hold; --dry-run prints the
exact commands instead of running them; when a later step fails, what was done is undone and the
message says what, if anything, reached origin.

One module per concern: steps (what every task shares), preconditions, sessions, ci, release
(cut, tag), github_release (the GitHub Release, safe with immutable releases), finish (the merge
back), lines (hotfixes and maintenance lines), status (with status_rules and gh), yank, rehearsal
(with rehearsal_world, rehearsal_act, rehearsal_checks, rehearsal_steps and act), doctor, github.
What only the tasks use lives here.
"""

from __future__ import annotations

import sys
from pathlib import Path

from invoke.collection import Collection
from invoke.tasks import Task

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the shared helpers in scripts/

from . import (
    ci,
    doctor,
    finish,
    github,
    github_release,
    lines,
    rehearsal,
    release,
    sessions,
    status,
    steps,
    yank,
)

ns = Collection()
ns.configure({"runners": {"local": steps.ClosingLocal}})
_modules = (sessions, ci, release, github_release, finish, lines, status, yank, rehearsal, doctor)
for _module in (*_modules, github):
    for _task in vars(_module).values():
        if isinstance(_task, Task):
            ns.add_task(_task)
