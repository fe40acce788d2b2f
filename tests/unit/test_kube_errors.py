"""Which API refusals are for good (fail the attempt) and which are retried."""

import json

import pytest
from execution_operator import api_errors
from kubernetes.client.exceptions import ApiException


def _refusal(status: int, message: str) -> ApiException:
    exc = ApiException(status=status, reason="Refused")
    exc.body = json.dumps({"kind": "Status", "message": message})
    return exc


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (403, 'pods "p" is forbidden: no PriorityClass with name nope was found'),
        (422, 'Pod "p" is invalid: spec.tolerations[0].operator: Invalid value'),
        (403, "maximum cpu usage per Container is 1, but limit is 2"),
        (413, "request entity too large"),
    ],
)
def test_permanent_refusals_keep_the_api_servers_message(status: int, message: str) -> None:
    assert api_errors.permanent_refusal(_refusal(status, message)) == message


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (409, "already exists"),
        (429, "too many requests"),
        (500, "etcd timed out"),
        (503, "unavailable"),
        (403, 'pods "p" is forbidden: exceeded quota: q, requested: pods=1, used: pods=1'),
    ],
)
def test_transient_refusals_are_retried(status: int, message: str) -> None:
    assert api_errors.permanent_refusal(_refusal(status, message)) is None
