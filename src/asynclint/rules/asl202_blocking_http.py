"""ASL202 blocking-http: a synchronous HTTP request in async code.

`requests.get(...)`, `httpx.post(...)`, `urllib.request.urlopen(...)`, a request
method of a `requests.Session()` or sync `httpx.Client()`, and `request` /
`getresponse` of an `http.client` connection wait for the remote server while
holding the thread that runs the event loop: nothing else in the process runs
for the whole round trip.

The client's type comes from evidence (`ctx.type_of`): the constructor that bound
the name in the function, in a `with` statement, on `self.x` in any method, or at
module level, or an annotation. Creating a client does no I/O and is not flagged;
`httpx.AsyncClient` and `aiohttp` are async.

No fix: use `httpx.AsyncClient` or `aiohttp`, or move the call to a thread with
`asyncio.to_thread`.
"""

from __future__ import annotations

from asynclint import knowledge
from asynclint.rules._blocking import BlockingCallRule


class BlockingHttp(BlockingCallRule):
    code = "ASL202"
    name = "blocking-http"
    summary = "a synchronous HTTP request in async code blocks the event loop"
    tokens = ("requests", "httpx", "urlopen", "urlretrieve", "HTTPConnection", "HTTPSConnection", "urllib2")
    calls = knowledge.BLOCKING_HTTP
    receiver_methods = knowledge.BLOCKING_HTTP_METHODS
    remedy = "Use `httpx.AsyncClient` or `aiohttp`, or run it in a thread with `asyncio.to_thread`"


RULE = BlockingHttp
