"""The in-pod log collector: the code's output lines, shipped to the log backend.

    log_collector.py   LogCollector: the runner's log sink, a shipping thread
    line_queue.py      the bounded queue between the pipe readers and the shipper
    records.py         one output line -> one JSON log record
    batching.py        records -> one gzip-compressed request body
    backend_client.py  HTTP POSTs with retries (the backend's protocol)

Nothing here is imported before the user code starts (see `sink.py`).
"""
