"""The floor of bench_day, in a process of its own: a bare `requests.Session` per server replaying recorded calls
in order, no Django, no database. Run by bench_day as `python -m tests.benchmarks.day_floor CALLS OUT` (CALLS: a
pickle of {"bases": {kind: url}, "calls": [(kind, method, target, headers, body), ...]}; OUT: where the JSON
answer {"seconds", "calls", "errors"} goes).

A process of its own, like the hub's workers: the sandboxes' servers run in the bench's process, and a client
in that process would share their interpreter lock and make the floor look slower than it is.
"""

import json
import pickle
import sys
import time

import requests


def replay(bases: dict[str, str], calls: list[tuple[str, str, str, dict[str, str], bytes]]) -> dict:
    sessions = {kind: requests.Session() for kind in bases}
    errors = 0
    started = time.perf_counter()
    for kind, method, target, headers, body in calls:
        response = sessions[kind].request(method, bases[kind] + target, data=body or None, headers=headers)
        response.content  # noqa: B018  # the whole answer is read, as the hub reads it
        errors += response.status_code >= 400
    seconds = time.perf_counter() - started
    for session in sessions.values():
        session.close()
    return {"seconds": seconds, "calls": len(calls), "errors": errors}


def main() -> None:
    source, out = sys.argv[1], sys.argv[2]
    with open(source, "rb") as file:
        given = pickle.load(file)
    with open(out, "w") as file:
        json.dump(replay(given["bases"], given["calls"]), file)


if __name__ == "__main__":
    main()
