"""CA bundle discovery for a Client given neither ca_bundle= nor SSL_CERT_FILE."""
from __future__ import annotations

import sys
import types

import pytest

from gettcommerce import _certs
from gettcommerce.errors import InvalidRequestError

PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


@pytest.fixture
def no_certifi(monkeypatch):
    monkeypatch.setitem(sys.modules, "certifi", None)  # import certifi -> ImportError


def fake_certifi(monkeypatch, path):
    module = types.ModuleType("certifi")
    module.where = lambda: str(path)
    monkeypatch.setitem(sys.modules, "certifi", module)


@pytest.mark.parametrize("distro", ["debian", "rhel", "rhel_old", "suse", "suse_old", "alpine"])
def test_each_distributions_bundle_is_found(tmp_path, monkeypatch, no_certifi, distro):
    index = ["debian", "rhel", "rhel_old", "suse", "suse_old", "alpine"].index(distro)
    paths = [tmp_path / f"{i}.pem" for i in range(len(_certs.SYSTEM_CA_BUNDLES))]
    paths[index].write_text(PEM)
    monkeypatch.setattr(_certs, "SYSTEM_CA_BUNDLES", tuple(map(str, paths)))
    assert _certs.default_ca_bundle() == str(paths[index])
    assert _certs.ca_bundle_for("https://api.gett-tech.com") == str(paths[index])


def test_the_real_paths_cover_each_distribution_family():
    paths = _certs.SYSTEM_CA_BUNDLES
    assert "/etc/ssl/certs/ca-certificates.crt" in paths            # Debian, Ubuntu, Alpine
    assert "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem" in paths  # RHEL, Fedora
    assert "/etc/pki/tls/certs/ca-bundle.crt" in paths
    assert "/var/lib/ca-certificates/ca-bundle.pem" in paths         # SUSE
    assert "/etc/ssl/cert.pem" in paths                              # Alpine


def test_the_first_present_wins_and_empty_files_are_skipped(tmp_path, monkeypatch, no_certifi):
    empty, first, second = tmp_path / "empty.pem", tmp_path / "a.pem", tmp_path / "b.pem"
    empty.write_text("")
    first.write_text(PEM)
    second.write_text(PEM)
    monkeypatch.setattr(_certs, "SYSTEM_CA_BUNDLES", (str(tmp_path / "missing.pem"), str(empty), str(first),
                                                      str(second)))
    assert _certs.default_ca_bundle() == str(first)


def test_system_bundle_is_preferred_to_certifi(tmp_path, monkeypatch):
    system, cert = tmp_path / "system.pem", tmp_path / "certifi.pem"
    system.write_text(PEM)
    cert.write_text(PEM)
    fake_certifi(monkeypatch, cert)
    monkeypatch.setattr(_certs, "SYSTEM_CA_BUNDLES", (str(system),))
    assert _certs.default_ca_bundle() == str(system)


def test_certifi_when_the_system_has_none(tmp_path, monkeypatch):
    cert = tmp_path / "certifi.pem"
    cert.write_text(PEM)
    fake_certifi(monkeypatch, cert)
    monkeypatch.setattr(_certs, "SYSTEM_CA_BUNDLES", (str(tmp_path / "none.pem"),))
    assert _certs.default_ca_bundle() == str(cert)
    assert _certs.ca_bundle_for("HTTPS://api.gett-tech.com") == str(cert)


def test_nothing_found_is_a_clear_error_for_https_only(tmp_path, monkeypatch, no_certifi):
    monkeypatch.setattr(_certs, "SYSTEM_CA_BUNDLES", (str(tmp_path / "none.pem"),))
    assert _certs.default_ca_bundle() is None
    assert _certs.ca_bundle_for("http://127.0.0.1:8787") is None  # no TLS, nothing to verify
    with pytest.raises(InvalidRequestError) as caught:
        _certs.ca_bundle_for("https://api.gett-tech.com")
    message = str(caught.value)
    assert caught.value.field == "ca_bundle"
    assert "ca_bundle=" in message and "SSL_CERT_FILE" in message and "certifi" in message
    assert str(tmp_path / "none.pem") in message


def test_this_machine_has_a_bundle():
    # Every machine that runs the suite (Debian here) must be covered.
    found = _certs.default_ca_bundle()
    assert found is not None and found in _certs.SYSTEM_CA_BUNDLES


@pytest.mark.xfail(strict=True, reason="needs the one-line hook in gettcommerce/_client.py Client.__init__: "
                   "ca_bundle = os.environ.get('SSL_CERT_FILE') or _certs.ca_bundle_for(url); "
                   "remove this mark when it lands")
def test_a_https_client_without_any_bundle_says_how_to_give_one(tmp_path, monkeypatch, no_certifi):
    import gettcommerce as gett
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.setattr(_certs, "SYSTEM_CA_BUNDLES", (str(tmp_path / "none.pem"),))
    with pytest.raises(InvalidRequestError) as caught:
        gett.Client(api_key="zpka_test_0123456789abcdef", base_url="https://api.gett-tech.com")
    assert caught.value.field == "ca_bundle" and "SSL_CERT_FILE" in str(caught.value)
