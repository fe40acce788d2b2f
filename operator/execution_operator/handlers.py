"""kopf handlers: thin adapters from watch events to the dispatcher's queue.

Only `@kopf.on.event` handlers: they need no finalizers and store no progress
on the Executions, because the controller is level-triggered and keeps its own
state in `status`. They are coroutines that only queue (`dispatch.py`): kopf
keeps nothing per event waiting for a thread.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import kopf
from kubernetes import client

from . import api_errors, controller, kopf_config, kube, metrics, models, naming, peering
from .background import Background, Wakeups
from .cluster import KubeCluster
from .dispatch import Dispatcher
from .pause import PeeringPause
from .relist import Relister
from .settings import Settings, load_settings

logger = logging.getLogger(__name__)


@dataclass
class Runtime:
    """The operator's state, kept in kopf's memo (one per operator process)."""

    settings: Settings
    controller: controller.Controller
    wakeups: Wakeups
    dispatcher: Dispatcher
    relister: Relister | None = None
    # Held so the lazily imported API classes stay imported.
    api_classes: tuple[type, ...] = ()
    # True while kopf's peering has this replica paused.
    paused: Callable[[], bool] = lambda: False


RUNTIME = "runtime"  # the memo key
SETTINGS = "settings"  # the memo key main() fills, so settings are loaded once


def _runtime(memo: kopf.Memo) -> Runtime:
    runtime: Runtime = memo[RUNTIME]
    return runtime


# A wake-up only queues its Execution for the dispatcher's threads.
WAKEUPS_STUCK_SECONDS = 120.0
# One thread posted ~3 Events per Execution too slowly for a burst of 100 (66 queued).
EVENT_THREADS = 3
# Every API call times out in 30 s; a step makes a handful, a few more on conflicts.
STEP_STUCK_SECONDS = 300.0


def _alive(stuck: float | None, limit: float, what: str) -> str:
    if stuck is not None and stuck > limit:
        raise kopf.PermanentError(f"{what} for {stuck:.0f}s")
    return "ok"


@kopf.on.probe(id="wakeups")
def wakeups_alive(memo: kopf.Memo, **_: Any) -> str:
    """Fails the liveness endpoint when deadlines, TTLs and retries stopped firing."""
    runtime: Runtime | None = memo.get(RUNTIME)
    stuck = runtime.wakeups.stuck_for() if runtime is not None else None
    return _alive(stuck, WAKEUPS_STUCK_SECONDS, "the wake-up thread has been stuck")


@kopf.on.probe(id="steps")
def steps_alive(memo: kopf.Memo, **_: Any) -> str:
    """Fails the liveness endpoint when a worker hangs inside one Execution's step."""
    runtime: Runtime | None = memo.get(RUNTIME)
    stuck = runtime.controller.stuck_for() if runtime is not None else None
    return _alive(stuck, STEP_STUCK_SECONDS, "a reconcile step has been running")


@kopf.on.probe(id="dispatch")
def dispatch_alive(memo: kopf.Memo, **_: Any) -> str:
    """Fails when a dispatcher thread died; else tells the queue's depth and age."""
    runtime: Runtime | None = memo.get(RUNTIME)
    if runtime is None:
        return "ok"
    dispatcher = runtime.dispatcher
    if dead := dispatcher.dead():
        raise kopf.PermanentError(f"{dead} dispatcher threads have ended")
    waited = dispatcher.oldest()
    return "ok" if waited is None else f"{len(dispatcher)} queued, oldest {waited:.0f}s"


# Our writes come back through the watches within seconds; kopf reconnects a silent
# stream after 70 s (settings.watching.inactivity_timeout) and relists after a 410.
WATCH_STUCK_SECONDS = 180.0


@kopf.on.probe(id="watches")
def watches_alive(memo: kopf.Memo, **_: Any) -> str:
    """Fails the liveness endpoint when the watches stopped bringing our own changes back."""
    runtime: Runtime | None = memo.get(RUNTIME)
    if runtime is None or runtime.paused():  # a paused replica does not watch
        return "ok"
    echoes = runtime.controller.echoes
    waited = echoes.oldest()
    _alive(waited, WATCH_STUCK_SECONDS, "the watches have not shown a write")
    # Healthy either way; "ok" says every write has come back.
    return "ok" if waited is None else f"{len(echoes)} writes awaiting, oldest {waited:.0f}s"


# What an Event needs of its Execution (kube.post_event's involvedObject).
EVENT_SUBJECT_KEYS = ("name", "namespace", "uid", "resourceVersion")
Poster = Callable[[Mapping[str, Any], str, str, str, datetime], None]


def event_subject(execution: Mapping[str, Any]) -> dict[str, Any]:
    """The Execution as far as its Event needs it: a queued Event holds no whole body."""
    meta = execution.get("metadata") or {}
    return {"metadata": {key: meta[key] for key in EVENT_SUBJECT_KEYS if key in meta}}


# An Event into a namespace being deleted is refused (403) or finds it gone (404): the
# others queued for it are dropped without a call for this long (a burst's Events can
# outlive its namespace by minutes; each refusal cost a call and a logged traceback).
GONE_NAMESPACE_SECONDS = 60.0


def _namespace_gone(exc: BaseException) -> bool:
    if api_errors.is_status(exc, 404):
        return True
    return api_errors.is_status(exc, 403) and "being terminated" in api_errors.describe_error(exc)


def queued_poster(
    submit: Callable[[Callable[[], None]], None],
    post: Poster,
    monotonic: Callable[[], float] = time.monotonic,
) -> Callable[[Mapping[str, Any], str, str, str], None]:
    """Posts Events through `submit` (a queue), each with the time of its transition.

    In a burst the queue runs thousands deep; each entry keeps only the subject.
    """
    guard = threading.Lock()
    gone: dict[str, float] = {}  # namespace -> when an Event found it going away

    def deliver(
        subject: dict[str, Any], kind: str, reason: str, message: str, at: datetime
    ) -> None:
        namespace = str(subject["metadata"].get("namespace"))
        with guard:
            if monotonic() - gone.get(namespace, -math.inf) < GONE_NAMESPACE_SECONDS:
                return
        try:
            post(subject, kind, reason, message, at)
        except Exception as exc:
            if not _namespace_gone(exc):
                raise
            now = monotonic()
            with guard:
                for old in [n for n, t in gone.items() if now - t >= GONE_NAMESPACE_SECONDS]:
                    del gone[old]
                gone[namespace] = now
            logger.info("namespace %s is going away; dropping its queued Events", namespace)

    def post_event(execution: Mapping[str, Any], kind: str, reason: str, message: str) -> None:
        at = datetime.now(UTC)
        subject = event_subject(execution)
        submit(lambda: deliver(subject, kind, reason, message, at))

    return post_event


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    ours: Settings = memo.get(SETTINGS) or load_settings(os.environ)
    kopf_config.apply(settings, peering=ours.peering, peering_name=ours.peering_name)
    if ours.peering:
        peering.ensure_peering_objects(ours.peering_name, ours.namespaces)
    if ours.metrics_port:
        metrics.serve(ours.metrics_port, ours.listen_address)

    def wake(key: Hashable) -> None:
        # Queued like an event: the wake-up thread never waits on the API, and a relist
        # of thousands is worked off by the dispatcher's threads.
        dispatcher.wake(str(key[0]), str(key[1]))  # type: ignore[index]

    pause = PeeringPause().install()
    wakeups = Wakeups(wake, paused=pause)
    cluster = KubeCluster()
    # Posting an Event can take a second on a busy API server: never on the way to a pod.
    # A few threads keep up with a burst; each Event keeps the time of its transition.
    events = Background("events", threads=EVENT_THREADS)
    post_event = queued_poster(events.submit, cluster.post_event)
    ctl = controller.Controller(ours, cluster, wakeups.at, post_event=post_event)
    kube.api()
    # A safety net for watches that stall silently: unfinished Executions get woken.
    relister = Relister(lambda: cluster.list_executions(ours.namespaces), wakeups.at, paused=pause)
    # Our own threads take the queued events: as many as kopf's executor had.
    dispatcher = Dispatcher(ctl, wakeups.cancel, threads=kube.WORKERS, paused=pause)
    memo[RUNTIME] = Runtime(
        ours,
        ctl,
        wakeups,
        dispatcher,
        relister,
        # The API classes import lazily (1-2 s on a busy machine, under the import lock
        # every worker then waits on): import them now, not on the first Execution.
        (client.CoreV1Api, client.CustomObjectsApi),
        paused=pause,
    )
    wakeups.start()
    dispatcher.start()
    relister.start()
    logger.info("execution-operator started; runner image %s", ours.runner_image)


@kopf.on.cleanup()
def stop(memo: kopf.Memo, **_: Any) -> None:
    runtime: Runtime | None = memo.get(RUNTIME)
    if runtime is not None:
        runtime.wakeups.stop()
        runtime.dispatcher.stop()
        if runtime.relister is not None:
            runtime.relister.stop()


@kopf.on.event(models.GROUP, models.VERSION, models.PLURAL)
async def execution_changed(
    *,
    type: str,
    body: kopf.Body,
    name: str,
    namespace: str | None,
    uid: str,
    memo: kopf.Memo,
    **_: Any,
) -> None:
    assert namespace is not None  # Executions are namespaced
    dispatcher = _runtime(memo).dispatcher
    if type == "DELETED":  # forgotten, with its wake-up: nothing kept for what is gone
        dispatcher.deleted(namespace, name, uid)
    else:  # the event's body saves a read
        dispatcher.execution(namespace, name, body)


@kopf.on.event(
    "",
    "v1",
    "pods",
    labels={naming.UID_LABEL: kopf.PRESENT, naming.MANAGED_BY_LABEL: naming.MANAGED_BY},
)
async def pod_changed(
    type: str, body: kopf.Body, name: str, namespace: str | None, memo: kopf.Memo, **_: Any
) -> None:
    assert namespace is not None
    owners = [
        ref["name"]
        for ref in body.metadata.get("ownerReferences") or []
        if ref.get("kind") == models.KIND and ref.get("apiVersion") == models.API_VERSION
    ]
    if owners:
        _runtime(memo).dispatcher.pod(
            namespace, owners[0], name, None if type == "DELETED" else body
        )
