import time

import pytest
import requests

from integrations import oauth1

# RFC 5849 §3.4.1.1: the request, and the signature base string the RFC prints for it.
RFC_URL = "http://example.com/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b"
RFC_BODY = "c2&a3=2+q"
RFC_OAUTH = {
    "oauth_consumer_key": "9djdj82h48djs9d2",
    "oauth_token": "kkk9d7dh3k39sjv7",
    "oauth_signature_method": "HMAC-SHA1",
    "oauth_timestamp": "137131201",
    "oauth_nonce": "7d8f3e4a",
}
RFC_BASE_STRING = (
    "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D"
    "%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA1"
    "%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7"
)
# The photos example of OAuth Core 1.0 (Appendix A.5), whose signature is published.
PHOTOS = {
    "oauth_consumer_key": "dpf43f3p2l4k3l03",
    "oauth_token": "nnch734d00sl2jdk",
    "oauth_signature_method": "HMAC-SHA1",
    "oauth_timestamp": "1191242096",
    "oauth_nonce": "kllo9940pd9333jh",
    "oauth_version": "1.0",
}
PHOTOS_URL = "http://photos.example.net/photos?file=vacation.jpg&size=original"
SECRETS = {("ck", "tok"): ("consumer secret", "token secret")}


def test_base_string_matches_rfc5849_example():
    pairs = [*oauth1.request_parameters(RFC_URL, RFC_BODY, oauth1.FORM_CONTENT_TYPE), *RFC_OAUTH.items()]
    assert oauth1.base_string("POST", RFC_URL, pairs) == RFC_BASE_STRING


def test_signature_matches_published_oauth_example():
    pairs = [*oauth1.request_parameters(PHOTOS_URL), *PHOTOS.items()]
    base = oauth1.base_string("GET", PHOTOS_URL, pairs)
    assert oauth1.hmac_sha1_signature(base, "kd94hf93k423kf44", "pfkkdhi9sl3r4s00") == "tR3+Ty81lMeYAr/Fid0kMTYa/WM="


def test_percent_encoding_keeps_only_unreserved_characters():
    assert oauth1.percent_encode("a b/c~d.e_f-g+h=é") == "a%20b%2Fc~d.e_f-g%2Bh%3D%C3%A9"


def test_normalized_url_drops_default_port_query_and_case():
    assert oauth1.normalized_url("HTTP://Example.COM:80/Path?q=1") == "http://example.com/Path"
    assert oauth1.normalized_url("https://example.com:8443") == "https://example.com:8443/"


def test_json_body_is_not_signed_but_form_body_is():
    assert oauth1.request_parameters("http://h/p?a=1", b'{"b": 2}', "application/json") == [("a", "1")]
    assert oauth1.request_parameters("http://h/p", b"b=2", "application/x-www-form-urlencoded; charset=utf-8") == [
        ("b", "2")
    ]


def test_header_round_trips_and_parses_legacy_bare_values():
    header = oauth1.authorization_header({"oauth_consumer_key": "k y", "oauth_signature": "a+b/c="})
    assert header == 'OAuth oauth_consumer_key="k%20y",oauth_signature="a%2Bb%2Fc%3D"'
    assert oauth1.parse_authorization_header(header) == {"oauth_consumer_key": "k y", "oauth_signature": "a+b/c="}
    legacy = "oAuth oauth_consumer_key=mdu,oauth_timestamp=1411467905,oauth_signature=aa6c"
    assert oauth1.parse_authorization_header(legacy)["oauth_timestamp"] == "1411467905"
    assert "realm" not in oauth1.parse_authorization_header('OAuth realm="Example", oauth_nonce="n"')


def test_legacy_signature_is_hex_of_the_fixed_order_base_string():
    oauth = {"oauth_consumer_key": "ck", "oauth_token": "tok", "oauth_timestamp": "1411467905", "oauth_nonce": "n1"}
    base = oauth1.legacy_base_string("get", "https://host.example/api/order/1?x=1", oauth)
    assert base == (
        "GEThttps://host.example/api/order/1?oauth_consumer_key=ck&oauth_token=tok&oauth_timestamp=1411467905"
        "&oauth_nonce=n1&oauth_version=1.0&oauth_signature_method=HMAC-SHA1"
    )
    signature = oauth1.legacy_signature(base, "cs", "ts")
    assert len(signature) == 40 and int(signature, 16) >= 0


def test_signer_agrees_with_requests_oauthlib():
    """The reference implementation NuORDER's docs point at verifies what our signer produces."""
    oauthlib = pytest.importorskip("oauthlib.oauth1")
    request = _signed("POST", "http://127.0.0.1:1/api/order/abc?x=1&y=a%20b", json={"order_number": "F-1"})
    params = oauth1.parse_authorization_header(request.headers["Authorization"])
    client = oauthlib.Client(
        "ck",
        client_secret="consumer secret",
        resource_owner_key="tok",
        resource_owner_secret="token secret",
        nonce=params["oauth_nonce"],
        timestamp=params["oauth_timestamp"],
    )
    _, headers, _ = client.sign(request.url, http_method="POST", headers={"Content-Type": "application/json"})
    expected = oauth1.parse_authorization_header(headers["Authorization"])["oauth_signature"]
    assert params["oauth_signature"] == expected


def test_each_signing_uses_a_fresh_nonce():
    first = _signed("GET", "http://127.0.0.1:1/api/x").headers["Authorization"]
    second = _signed("GET", "http://127.0.0.1:1/api/x").headers["Authorization"]
    nonce = [oauth1.parse_authorization_header(h)["oauth_nonce"] for h in (first, second)]
    assert nonce[0] != nonce[1]


def test_verify_accepts_a_signed_request_with_query_and_form_body():
    request = _signed("POST", "http://127.0.0.1:1/api/x?q=1", data={"a": "b c"})
    verified = _verify(request)
    assert (verified.consumer_key, verified.token, verified.style) == ("ck", "tok", "rfc5849")


def test_verify_refuses_a_tampered_query():
    request = _signed("GET", "http://127.0.0.1:1/api/x?q=1")
    with pytest.raises(oauth1.SignatureError, match="invalid signature"):
        _verify(request, url=request.url.replace("q=1", "q=2"))


def test_verify_refuses_unknown_consumer_and_wrong_secret():
    request = _signed("GET", "http://127.0.0.1:1/api/x")
    with pytest.raises(oauth1.SignatureError, match="unknown consumer"):
        _verify(request, secrets={})
    with pytest.raises(oauth1.SignatureError, match="invalid signature"):
        _verify(request, secrets={("ck", "tok"): ("consumer secret", "other")})


def test_verify_refuses_a_stale_timestamp():
    request = _signed("GET", "http://127.0.0.1:1/api/x")
    with pytest.raises(oauth1.SignatureError, match="clock"):
        _verify(request, now=time.time() + 3600)


def test_verify_refuses_a_missing_header():
    with pytest.raises(oauth1.SignatureError, match="missing"):
        oauth1.verify_request(method="GET", url="http://h/", authorization="", secrets_for=lambda k, t: None)


def test_legacy_signature_verifies_only_when_accepted():
    request = _signed("GET", "http://127.0.0.1:1/api/x", legacy=True)
    with pytest.raises(oauth1.SignatureError, match="legacy"):
        _verify(request)
    assert _verify(request, accept_legacy=True).style == "legacy"


def _signed(method, url, *, legacy=False, **kwargs) -> requests.PreparedRequest:
    auth = oauth1.OAuth1("ck", "consumer secret", "tok", "token secret", legacy=legacy)
    return requests.Request(method, url, auth=auth, **kwargs).prepare()


def _verify(request, *, url=None, secrets=SECRETS, now=None, accept_legacy=False) -> oauth1.Verified:
    return oauth1.verify_request(
        method=request.method,
        url=url or request.url,
        authorization=request.headers["Authorization"],
        secrets_for=lambda key, token: secrets.get((key, token)),
        body=request.body,
        content_type=request.headers.get("Content-Type", ""),
        accept_legacy=accept_legacy,
        now=now,
    )
