"""OpenTelemetry metrics of the operator, exported for Prometheus.

- `execution_pod_creation_seconds`: from the Execution's run start to its pod created.
- `execution_duration_seconds`: the user code's wall time, by reason.
- `execution_active`: Executions this operator sees that are not yet terminal.
- `execution_outcomes_total`: finished Executions, by reason and code.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from execution_runner import protocol
from opentelemetry.metrics import CallbackOptions, Counter, Histogram, Observation
from opentelemetry.sdk.metrics import MeterProvider

_lock = threading.Lock()
# A set, not a counter: a restarted operator re-learns it from the initial listing.
_active: set[str] = set()


@dataclass(frozen=True)
class Instruments:
    pod_creation: Histogram
    duration: Histogram
    outcomes: Counter


_instruments: Instruments | None = None

# In seconds: the SDK's default buckets (0, 5, 10, 25, ... 10000) suit milliseconds.
POD_CREATION_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
DURATION_BUCKETS: Final = (0.01, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)


def instruments() -> Instruments:
    """The instruments; without `serve()` they record into a provider nobody reads."""
    global _instruments  # noqa: PLW0603 - one set of instruments per process
    with _lock:
        if _instruments is None:
            _instruments = _make(MeterProvider())
        return _instruments


def serve(port: int, address: str) -> None:
    """Export to Prometheus on `address:port` (/metrics); call before any `instruments()`."""
    global _instruments  # noqa: PLW0603
    from opentelemetry.exporter.prometheus import PrometheusMetricReader  # noqa: PLC0415
    from prometheus_client import start_http_server  # noqa: PLC0415

    with _lock:
        start_http_server(port, addr=address)
        _instruments = _make(MeterProvider(metric_readers=[PrometheusMetricReader()]))


def _make(provider: MeterProvider) -> Instruments:
    meter = provider.get_meter("execution_operator")
    meter.create_observable_gauge(
        "execution_active", [_observe_active], description="Executions not yet terminal."
    )
    return Instruments(
        pod_creation=meter.create_histogram(
            "execution_pod_creation_seconds",
            unit="s",
            description="Time from an attempt's start to its pod created.",
            explicit_bucket_boundaries_advisory=POD_CREATION_BUCKETS,
        ),
        duration=meter.create_histogram(
            "execution_duration_seconds",
            unit="s",
            description="Wall time of the user code.",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
        ),
        outcomes=meter.create_counter(
            "execution_outcomes_total", description="Finished Executions by reason."
        ),
    )


def record_outcome(reason: str, code: int, metrics: dict[str, Any] | None) -> None:
    inst = instruments()
    inst.outcomes.add(1, {"reason": reason, "code": str(code)})
    execution_ms = (metrics or {}).get(protocol.MetricKey.EXECUTION_MS)
    if isinstance(execution_ms, int | float):
        inst.duration.record(execution_ms / 1000.0, {"reason": reason})


def set_active(uid: str, active: bool) -> None:
    with _lock:
        if active:
            _active.add(uid)
        else:
            _active.discard(uid)


def _observe_active(options: CallbackOptions) -> Iterable[Observation]:
    with _lock:
        count = len(_active)
    yield Observation(count)
