"""A plain HTTP request to the web front door, as a forger or a script sends it: form fields
form-encoded, cookies by hand, no redirects followed. Shared by the browser suites
(services/web/tests/browser_support.py) and the container tests' check (scripts/web-check.py)."""
import http.client
import urllib.parse


def form_request(host, method, path, fields=None, cookies=None, timeout=15):
    """(status, headers, body) of one request to host ("127.0.0.1:8080"); headers is the response's
    http.client.HTTPMessage (headers.get("Location"), headers.get_all("Set-Cookie"))."""
    connection = http.client.HTTPConnection(host, timeout=timeout)
    headers = {}
    if cookies:
        headers["Cookie"] = "; ".join("%s=%s" % item for item in cookies.items())
    body = None
    if fields is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        body = urllib.parse.urlencode(fields)
    try:
        connection.request(method, path, body, headers)
        response = connection.getresponse()
        return response.status, response.msg, response.read().decode()
    finally:
        connection.close()
