#!/usr/bin/env python3
"""Signed requests to a Verigate gateway from Python: the standard library plus `cryptography` (Ed25519).

Signs GET /v1/whoami, then PUTs a few bytes with their Content-Digest and GETs them back, checking them
against the Repr-Digest the gateway answers with. The key file is the private JWK that `npm start` and
`verigate keygen` write ({"kty": "OKP", "crv": "Ed25519", "x", "d", "kid"}).

    VERIGATE_ENDPOINT=http://127.0.0.1:8787 VERIGATE_KEY=.verigate/dev-admin.jwk python3 examples/python_client.py [object-key]

The signature (RFC 9421, Verigate's profile) covers "@method" "@authority" "@path" "@query", and
"content-digest" (RFC 9530) when there is a body, with the parameters created, nonce and keyid. Every
request gets a fresh nonce: the gateway accepts each (keyid, nonce) once.
"""

import base64
import hashlib
import json
import os
import secrets
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

DEFAULT_PORTS = {"http": 80, "https": 443}
# 32 random bytes: the gateway asks for at least 128 bits of nonce.
NONCE_BYTES = 32


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def load_key(path):
    """The keyid and Ed25519 private key of a JWK key file."""
    with open(path, encoding="utf-8") as file:
        jwk = json.load(file)
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519" or "d" not in jwk or "kid" not in jwk:
        sys.exit(f"{path} is not a private Ed25519 JWK with a kid")
    return jwk["kid"], Ed25519PrivateKey.from_private_bytes(b64url_decode(jwk["d"]))


def sf_string(value):
    """An RFC 8941 string: quoted, with backslash and quote escaped."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def content_digest(body):
    """RFC 9530 Content-Digest (and Repr-Digest) of `body`: sha-256 as a structured-field byte sequence."""
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii") + ":"


def signature_headers(method, url, keyid, key, body=None):
    """The headers that sign one request to `url`, which must be sent exactly as given."""
    parts = urllib.parse.urlsplit(url)
    # @authority: the host as addressed, lowercase, without the scheme's default port (RFC 9421 section 2.2.3).
    authority = parts.netloc.lower().removesuffix(f":{DEFAULT_PORTS[parts.scheme]}")
    components = [
        ("@method", method),
        ("@authority", authority),
        ("@path", parts.path or "/"),
        # An absent query is signed as "?" (RFC 9421 section 2.2.7).
        ("@query", "?" + parts.query),
    ]
    headers = {}
    if body is not None:
        headers["Content-Digest"] = content_digest(body)
        components.append(("content-digest", headers["Content-Digest"]))
    nonce = base64.urlsafe_b64encode(secrets.token_bytes(NONCE_BYTES)).decode("ascii").rstrip("=")
    covered = " ".join(sf_string(name) for name, _ in components)
    params = f"({covered});created={int(time.time())};nonce={sf_string(nonce)};keyid={sf_string(keyid)}"
    base = "\n".join(f"{sf_string(name)}: {value}" for name, value in components) + f'\n"@signature-params": {params}'
    signature = base64.b64encode(key.sign(base.encode("utf-8"))).decode("ascii")
    headers["Signature-Input"] = f"sig1={params}"
    headers["Signature"] = f"sig1=:{signature}:"
    return headers


def send(method, url, keyid, key, body=None, content_type=None):
    """Signs and sends one request; returns (status, headers, body), or exits with the gateway's problem."""
    headers = signature_headers(method, url, keyid, key, body)
    if content_type is not None:
        headers["Content-Type"] = content_type
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        sys.exit(f"{method} {url}: {error.code} {error.read().decode('utf-8', 'replace')}")


def main():
    endpoint = os.environ.get("VERIGATE_ENDPOINT", "http://127.0.0.1:8787").rstrip("/")
    keyid, key = load_key(os.environ.get("VERIGATE_KEY", ".verigate/dev-admin.jwk"))
    object_key = sys.argv[1] if len(sys.argv) > 1 else "examples/hello-from-python.txt"
    object_url = f"{endpoint}/v1/objects/" + "/".join(urllib.parse.quote(segment, safe="") for segment in object_key.split("/"))

    status, _, body = send("GET", f"{endpoint}/v1/whoami", keyid, key)
    print(f"GET /v1/whoami: {status} {body.decode('utf-8')}")

    content = f"hello from Python, {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}\n".encode("utf-8")
    status, _, body = send("PUT", object_url, keyid, key, body=content, content_type="text/plain")
    print(f"PUT {object_key}: {status} {body.decode('utf-8')}")

    status, headers, body = send("GET", object_url, keyid, key)
    if headers.get("Repr-Digest") != content_digest(body) or body != content:
        sys.exit(f"GET {object_key}: {status}, but the bytes do not match their Repr-Digest or what was sent")
    print(f"GET {object_key}: {status}, {len(body)} bytes, Repr-Digest verified")


if __name__ == "__main__":
    main()
