"""Run the Argo CD health script of an Execution with a real Lua interpreter.

Argo CD hands the script the object as the global `obj` and reads `hs.status`
and `hs.message` from what it returns. The harness does the same: the object
becomes a Lua table literal, and the script runs in an environment holding only
`obj` and the libraries Argo CD opens (base functions, string, table, math), so
a script that reached for `io` or `os` would fail here as it fails there.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from dataclasses import dataclass
from typing import Any

from tests.support.kube import REPO

HEALTH_SCRIPT = REPO / "gitops" / "argocd" / "health.lua"
ARGOCD_CM = REPO / "gitops" / "argocd" / "argocd-cm.yaml"
# Argo CD runs gopher-lua (the Lua 5.1 language); Debian's 5.4 is what the project installs.
INTERPRETERS = ("lua5.1", "lua5.4")
STATUSES = {"Healthy", "Progressing", "Degraded", "Suspended", "Missing", "Unknown"}

# Loads the script in a sandbox (setfenv in 5.1, the env argument of loadfile in 5.2+).
HARNESS = """
local env = {obj = obj, pairs = pairs, ipairs = ipairs, next = next, type = type,
  tostring = tostring, tonumber = tonumber, error = error, pcall = pcall,
  select = select, unpack = unpack, string = string, table = table, math = math}
local script
if setfenv then
  script = assert(loadfile(SCRIPT))
  setfenv(script, env)
else
  script = assert(loadfile(SCRIPT, "t", env))
end
local hs = script()
io.write(tostring(hs.status), "\\n", tostring(hs.message))
"""


@dataclass(frozen=True)
class Health:
    status: str
    message: str


def lua_literal(value: Any) -> str:
    """A Lua expression for a JSON value (null is nil, as Argo CD converts it)."""
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"JSON has no {value}")
        return repr(value)
    if isinstance(value, str):
        return lua_string(value)
    if isinstance(value, list):
        return "{" + ", ".join(lua_literal(item) for item in value) + "}"
    if isinstance(value, dict):
        fields = (f"[{lua_string(str(k))}] = {lua_literal(v)}" for k, v in value.items())
        return "{" + ", ".join(fields) + "}"
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def lua_string(text: str) -> str:
    """A quoted Lua string; every byte outside printable ASCII (and quote, backslash) as \\ddd."""
    safe = (chr(b) if 32 <= b < 127 and b not in (34, 92) else f"\\{b:03d}" for b in text.encode())
    return '"' + "".join(safe) + '"'


def available_interpreters() -> list[str]:
    return [name for name in INTERPRETERS if shutil.which(name)]


def run_health(obj: dict[str, Any], interpreter: str = "lua5.4") -> Health:
    """hs.status and hs.message of the health script for `obj` (its JSON form)."""
    plain = json.loads(json.dumps(obj))  # exactly what the API serves, nothing Python-only
    chunk = f"obj = {lua_literal(plain)}\nSCRIPT = {lua_string(str(HEALTH_SCRIPT))}\n{HARNESS}"
    done = subprocess.run(
        [interpreter, "-"], input=chunk, capture_output=True, text=True, timeout=30, check=False
    )
    if done.returncode != 0:
        raise AssertionError(f"{interpreter} failed ({done.returncode}): {done.stderr.strip()}")
    status, _, message = done.stdout.partition("\n")
    return Health(status, message)
