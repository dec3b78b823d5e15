"""ASL203 blocking-subprocess: starting or waiting for a process synchronously in async code.

`subprocess.run/call/check_call/check_output/getoutput/getstatusoutput`, `os.system`
and the `os.wait*` functions wait for the child while holding the event loop's
thread; so do `wait()` and `communicate()` of a `subprocess.Popen` (known by the
constructor that bound the name, attribute or module global). `os.popen` and the
`os.spawn*` functions hand back blocking pipes or wait. `asyncio.create_subprocess_exec`
starts the process and lets the coroutine `await` it.

Not flagged: creating a `Popen` itself, which returns at once (a detached daemon, a
child polled with `poll()`).

No fix: the asyncio process API differs (`await proc.communicate()`, byte streams).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from asynclint import knowledge
from asynclint.rules._blocking import BlockingCallRule

if TYPE_CHECKING:
    from asynclint.config import Settings

# `os` is a word in most files; its process functions, as words (not `await`, not
# `file_system`), are what make one worth parsing.
_OS = re.compile(r"os\b")
_OS_PROCESS_WORDS = re.compile(
    "(?:{})\\b".format(
        "|".join(sorted(n.removeprefix("os.") for n in knowledge.BLOCKING_SUBPROCESS if n.startswith("os.")))
    )
)


class BlockingSubprocess(BlockingCallRule):
    code = "ASL203"
    name = "blocking-subprocess"
    summary = "a synchronous subprocess call in async code blocks the event loop"
    tokens = ("subprocess",)
    calls = knowledge.BLOCKING_SUBPROCESS
    receiver_methods = knowledge.BLOCKING_SUBPROCESS_METHODS
    remedy = "Use `asyncio.create_subprocess_exec`"

    @classmethod
    def mentioned(cls, text: str, settings: Settings) -> bool:
        if super().mentioned(text, settings):
            return True
        return knowledge.has_word(_OS, text) and knowledge.has_word(_OS_PROCESS_WORDS, text)


RULE = BlockingSubprocess
