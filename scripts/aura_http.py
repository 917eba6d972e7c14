"""A small HTTP client for the scripts (standard library only)."""

import json
import urllib.error
import urllib.request


def send(base, method, path, data=None, token=None, headers=None, timeout=60):
    """Sends one request with a raw body (bytes); returns (status, body bytes, response headers)."""
    req = urllib.request.Request(base + path, data=data, method=method)
    if token:
        req.add_header("authorization", "Bearer " + token)
    for name, value in (headers or {}).items():
        req.add_header(name, value)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read(), resp.headers
    except urllib.error.HTTPError as error:
        return error.code, error.read(), error.headers


def call(base, method, path, body=None, token=None, headers=None, timeout=60):
    """Sends one JSON request; returns (status, JSON body or None, response headers)."""
    data = None if body is None else json.dumps(body).encode()
    status, text, answer = send(base, method, path, data, token,
                                {"content-type": "application/json", **(headers or {})}, timeout)
    return status, (json.loads(text) if text else None), answer
