"""Where the CA certificates are, for a Client that was given none.

The wheel bundles its own OpenSSL, whose compiled-in certificate paths are
those of the build machine, so the SDK looks for the system's bundle itself:
at the paths the common Linux distributions use, then ``certifi`` when it is
installed (``pip install gettcommerce[certifi]``).  An explicit
``ca_bundle=`` or ``$SSL_CERT_FILE`` always wins over all of these.
"""
from __future__ import annotations

import importlib
import os
from typing import Optional, Tuple

from .errors import InvalidRequestError

__all__ = ["SYSTEM_CA_BUNDLES", "default_ca_bundle", "ca_bundle_for"]

#: Checked in order; the first readable, non-empty file is used.
SYSTEM_CA_BUNDLES: Tuple[str, ...] = (
    "/etc/ssl/certs/ca-certificates.crt",                 # Debian, Ubuntu, Gentoo, Arch, Alpine
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",  # RHEL, CentOS, Fedora, Amazon Linux, Rocky
    "/etc/pki/tls/certs/ca-bundle.crt",                   # older RHEL and Fedora
    "/var/lib/ca-certificates/ca-bundle.pem",             # openSUSE, SLES 15
    "/etc/ssl/ca-bundle.pem",                             # older openSUSE and SLES
    "/etc/ssl/cert.pem",                                  # Alpine, the BSDs
)


def _usable(path: str) -> bool:
    try:
        return os.path.isfile(path) and os.path.getsize(path) > 0 and os.access(path, os.R_OK)
    except OSError:
        return False


def default_ca_bundle() -> Optional[str]:
    """The first system CA bundle found, else certifi's, else None."""
    found: Optional[str] = None
    for path in SYSTEM_CA_BUNDLES:
        if _usable(path):
            found = path
            break
    if found is None:
        try:
            certifi = importlib.import_module("certifi")
        except ImportError:
            certifi = None
        if certifi is not None:
            where: object = certifi.where()
            if isinstance(where, str) and _usable(where):
                found = where
    return found


def ca_bundle_for(base_url: str) -> Optional[str]:
    """The CA bundle a Client for ``base_url`` uses when given none.

    None for plain http (no TLS, nothing to verify); for https the default
    bundle, or InvalidRequestError(field="ca_bundle") saying how to give one.
    """
    if not base_url.lower().startswith("https://"):
        return None
    found = default_ca_bundle()
    if found is None:
        raise InvalidRequestError(
            "no CA certificates found to verify TLS: looked at " + ", ".join(SYSTEM_CA_BUNDLES)
            + " and for the certifi package; pass ca_bundle='/path/to/ca.pem' to Client, set "
            "SSL_CERT_FILE, install your system's ca-certificates package, or pip install certifi",
            field="ca_bundle", value=None)
    return found
