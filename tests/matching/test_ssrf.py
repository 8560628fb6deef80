import pytest

from matching.ssrf import UnsafeEndpointError, check_endpoint_url

DNS = {
    "bank.example.cn": ["203.0.113.9"],  # TEST-NET-3 is reserved, so use it as "private" below
    "public.example.cn": ["8.8.8.8", "2001:4860:4860::8888"],
    "rebind.example.cn": ["8.8.8.8", "10.0.0.5"],
    "local.example.cn": ["127.0.0.1"],
    "mapped.example.cn": ["::ffff:192.168.1.1"],
    "meta.example.cn": ["169.254.169.254"],
}


def resolve(host):
    if host not in DNS:
        raise OSError("NXDOMAIN")
    return DNS[host]


def test_public_https_endpoint_passes_with_addresses():
    checked = check_endpoint_url("https://public.example.cn/hooks", False, resolve)
    assert checked.host == "public.example.cn" and checked.port == 443
    assert checked.addresses == ("8.8.8.8", "2001:4860:4860::8888")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://public.example.cn/x", "https"),
        ("ftp://public.example.cn/x", "https"),
        ("https://user:pw@public.example.cn/x", "credentials"),
        ("https:///x", "no host"),
        ("https://public.example.cn:99999/x", "port"),
        ("https://rebind.example.cn/x", "10.0.0.5"),
        ("https://local.example.cn/x", "127.0.0.1"),
        ("https://mapped.example.cn/x", "192.168.1.1"),
        ("https://meta.example.cn/x", "169.254.169.254"),
        ("https://127.0.0.1/x", "127.0.0.1"),
        ("https://[::1]/x", "::1"),
        ("https://0.0.0.0/x", "0.0.0.0"),
        ("https://bank.example.cn/x", "203.0.113.9"),
        ("https://nxdomain.example.cn/x", "cannot resolve"),
    ],
)
def test_unsafe_endpoints_are_refused(url, message):
    with pytest.raises(UnsafeEndpointError, match=message.replace(".", r"\.")):
        check_endpoint_url(url, False, resolve)


def test_allow_private_admits_local_receivers_for_development():
    assert check_endpoint_url("http://127.0.0.1:8081/hook", True, resolve).port == 8081
    assert check_endpoint_url("https://local.example.cn/x", True, resolve).addresses == ("127.0.0.1",)
    with pytest.raises(UnsafeEndpointError, match="https"):
        check_endpoint_url("http://127.0.0.1:8081/hook", True, resolve, allow_http=False)
