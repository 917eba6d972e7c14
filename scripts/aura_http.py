"""A small JSON client for the scripts (standard library only)."""

import json
import urllib.error
import urllib.request


def call(base, method, path, body=None, token=None, headers=None, timeout=60):
    """Sends one request; returns (status, JSON body or None, response headers)."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", "Bearer " + token)
    for name, value in (headers or {}).items():
        req.add_header(name, value)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            text, status, answer = resp.read(), resp.status, resp.headers
    except urllib.error.HTTPError as error:
        text, status, answer = error.read(), error.code, error.headers
    return status, (json.loads(text) if text else None), answer
