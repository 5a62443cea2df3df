#!/usr/bin/env python3
"""Open N sessions with one turn each and print their ids: open_sessions.py URL N MESSAGE."""
import json
import sys
import urllib.request


def main() -> None:
    url, n, message = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    body = json.dumps({"message": message}).encode()
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    for _ in range(n):
        request = urllib.request.Request(
            url, data=body, headers={"content-type": "application/json"}
        )
        with opener.open(request, timeout=10) as response:
            reply = json.load(response)
        if reply.get("outcome") != "accepted":
            sys.exit(f"turn not accepted: {reply}")
        print(reply["session_id"])


if __name__ == "__main__":
    main()
