"""The wire contract between the operator and the runner: typed, stdlib only.

The operator writes the payload files (and the pod's env and command) and reads
the termination message and the framed result line; the runner reads the
payload and writes both. Both sides import this package, so names, defaults and
formats cannot drift apart: a test fails if a contract key is spelled as a
string literal anywhere else. The `*Key` classes name the keys; the TypedDicts
describe the documents (a test checks that both agree).

    pod.py            payload files, the runner's command and env, user env names
    runner_config.py  runner.json
    termination.py    the termination message, log counters, RFC 3339 times
    outcomes.py       reasons, status codes, exit statuses
    framing.py        the framed result line
"""

TYPE_CHECKING = False
if TYPE_CHECKING:
    from execution_runner.protocol.framing import *  # noqa: F403
    from execution_runner.protocol.outcomes import *  # noqa: F403
    from execution_runner.protocol.pod import *  # noqa: F403
    from execution_runner.protocol.runner_config import *  # noqa: F403
    from execution_runner.protocol.termination import *  # noqa: F403

# The names of all five, loaded on first use: the runner's start-up needs only the
# first two (the others load while the code runs). Public names are defined once.
_SUBMODULES = ("pod", "runner_config", "outcomes", "termination", "framing")


def __getattr__(name: str) -> object:
    if not name.startswith("_"):
        for submodule in _SUBMODULES:
            module = __import__(f"{__name__}.{submodule}", fromlist=["*"])
            if name in globals():  # a submodule itself, set by the import
                return globals()[name]
            if hasattr(module, name):
                value = getattr(module, name)
                globals()[name] = value
                return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
