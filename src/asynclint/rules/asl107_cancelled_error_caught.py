"""ASL107 cancelled-error-caught: `except asyncio.CancelledError` that ends the cancellation
there, in async code. Opt-in (`extend-select = ["ASL107"]`).

A handler that names `CancelledError` (alone or in a tuple) and holds no `raise` stops the
cancellation of its task: callers, `asyncio.timeout` and TaskGroup never see it; one that
leaves only by raising another exception turns it into an error they do not take for a
cancellation. It is the half of ASL102 that names the exception, and it is opt-in because
naming it is nearly always deliberate: blind reviews of 105 real async projects judged 15 of
184 such handlers a bug a maintainer would fix (a cancelled caller that carries on), and 4
of 25 conversions; the rest end a task on purpose (a stop path, a worker abort turned into an
HTTP 409, a documented error type, a stream closed on disconnect) (benchmarks/REVIEW.md).
ASL102 keeps `except BaseException` and bare `except:`, which catch the cancellation with
everything else, and jumps out of `finally:`.

Everything ASL102 leaves alone this rule leaves alone, by the same code: a `raise` on some
path, a deferred re-raise or hand-back, the cancel-then-await idiom, a `try` with no
suspension point, the root coroutine of a task, sync code (see ASL102).

Fix (unsafe, ASL102's): append `raise` to the handler body, when it has no
`return`/`break`/`continue`.
"""

from __future__ import annotations

from typing import ClassVar

from asynclint.rules.asl102_cancelled_error_swallowed import CancelledErrorSwallowed


class CancelledErrorCaught(CancelledErrorSwallowed):
    code = "ASL107"
    name = "cancelled-error-caught"
    summary = "`except asyncio.CancelledError` without `raise` ends the cancellation (opt-in)"
    tokens = ("CancelledError",)
    swallows: ClassVar[frozenset[str]] = frozenset({"cancelled"})
    converts: ClassVar[bool] = True
    jumps: ClassVar[bool] = False


RULE = CancelledErrorCaught
