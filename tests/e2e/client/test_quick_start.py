"""The in-process executor's quick-start examples, unchanged, through the cluster."""

from __future__ import annotations

import textwrap
from pathlib import Path

from execution_operator.client import ClusterExecutor

# The quick-start's metric: prints its result as JSON, reads its env and input.
METRIC = textwrap.dedent(
    """
    import json
    import os

    tenant_id = os.getenv("TENANT_ID", "unknown")
    input_text = data.get("input_text", "")
    result = {
        "scores": [{
            "value": 0.95,
            "name": "my_metric",
            "reason": f"Scored {input_text!r} for tenant {tenant_id}",
        }]
    }
    print(json.dumps(result))
    """
)


def test_result_dict(executor: ClusterExecutor) -> None:
    result = executor.execute(METRIC, {"input_text": "hi"})
    assert result == {
        "scores": [{"value": 0.95, "name": "my_metric", "reason": "Scored 'hi' for tenant unknown"}]
    }


def test_env_vars_reach_the_code(executor: ClusterExecutor) -> None:
    result = executor.execute(
        METRIC, {"input_text": "x"}, env_vars={"TENANT_ID": "tenant_123", "API_KEY": "secret_key"}
    )
    assert result["scores"][0]["reason"] == "Scored 'x' for tenant tenant_123"


def test_user_error_is_a_400_with_the_traceback(executor: ClusterExecutor) -> None:
    code = "def score(x):\n    return 1 / x\n\nresult = score(data['n'])\n"
    result = executor.execute(code, {"n": 0})
    assert set(result) == {"code", "error"}
    assert result["code"] == 400
    assert "Traceback" in result["error"]
    assert "return 1 / x" in result["error"]
    assert "ZeroDivisionError: division by zero" in result["error"]


def test_infinite_loop_is_a_500_on_timeout(executor: ClusterExecutor) -> None:
    result = executor.execute("while True:\n    pass\n", {}, timeout_secs=2)
    assert result["code"] == 500
    assert "Timeout" in result["error"]


def test_file_path(executor: ClusterExecutor, tmp_path: Path) -> None:
    metric = tmp_path / "metric.py"
    metric.write_text(METRIC)
    expected = executor.execute(file_path=metric, data={"input_text": "f"})
    assert expected["scores"][0]["reason"] == "Scored 'f' for tenant unknown"
    # The in-process executor also read a `.py` path given as the code.
    assert executor.execute(str(metric), {"input_text": "f"}) == expected


def test_payload_type_and_seed_positional_arguments(executor: ClusterExecutor) -> None:
    code = "import json, os\nprint(json.dumps([payload_type, os.environ['T'], data]))\n"
    assert executor.execute(code, [1], {"T": "t"}, payload_type="trace_thread") == [
        "trace_thread",
        "t",
        [1],
    ]
