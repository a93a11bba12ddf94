#!/usr/bin/env bash
# Build the lean libcurl that the manylinux wheels bundle, from Debian's own
# source package (the same version and security patches as the system's
# libcurl4), with only what the C core uses: HTTP/1.1, HTTP/2 (nghttp2) and
# TLS through OpenSSL.  No LDAP, RTMP, SSH, GnuTLS, IDN, PSL, GSSAPI, zlib,
# brotli, zstd, nor any protocol but http and https.
#
#   bash tools/build-libcurl.sh        # prints the install prefix on its last line
#
# The result is cached outside the checkout (GETT_CURL_CACHE, default
# ~/.cache/gettcommerce) under a name made from the source version and this
# script's hash, so a second run, or CI on the same machine, costs nothing.
# The source is unpacked there too and never enters the repository.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${GETT_CURL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gettcommerce}
export DEBIAN_FRONTEND=noninteractive

CONFIGURE_FLAGS=(
    --disable-static --enable-shared --enable-symbol-hiding
    --with-openssl --with-nghttp2
    --enable-http --disable-ftp --disable-file --disable-ldap --disable-ldaps --disable-tls-srp
    --disable-rtsp --disable-dict --disable-telnet --disable-tftp
    --disable-pop3 --disable-imap --disable-smb --disable-smtp --disable-gopher
    --disable-mqtt --disable-manual --disable-ntlm --disable-ntlm-wb
    --disable-netrc
    --without-gnutls --without-nss --without-wolfssl --without-mbedtls --without-rustls
    --without-librtmp --without-libssh2 --without-libssh --without-wolfssh
    --without-libidn2 --without-libpsl --without-gssapi --without-zlib
    --without-brotli --without-zstd --without-libgsasl --without-hyper
    --without-ngtcp2 --without-nghttp3 --without-quiche --without-msh3
)

log() { echo "build-libcurl: $*" >&2; }

need=()
for pkg in dpkg-dev libssl-dev libnghttp2-dev pkg-config make gcc; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done

# apt-get source needs a deb-src entry: the system's own Debian entries again,
# with Types: deb-src (written once, next to the system's file).
src_list=/etc/apt/sources.list.d/gettcommerce-deb-src.sources
if ! apt-cache showsrc curl 2>/dev/null | grep -q '^Package: curl'; then
    if [ ! -f "$src_list" ]; then
        log "adding $src_list"
        sed -e 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources >"$src_list"
    fi
    apt-get update -qq
fi
if [ ${#need[@]} -gt 0 ]; then
    log "installing ${need[*]}"
    apt-get install -y -qq "${need[@]}" >/dev/null
fi

version=$(apt-cache showsrc curl | awk '/^Version:/ {print $2}' | sort -V | tail -1)
key=$( (echo "$version"; cat "$0") | sha256sum | cut -c1-12)
prefix="$cache/libcurl-${version//[:~+]/_}-$key"
if [ -f "$prefix/.done" ]; then
    echo "$prefix"
    exit 0
fi

work=$(mktemp -d "$cache/curl-src.XXXXXX" 2>/dev/null || { mkdir -p "$cache"; mktemp -d "$cache/curl-src.XXXXXX"; })
trap 'rm -rf "$work"' EXIT
log "building curl $version into $prefix (source in $work)"
(
    cd "$work"
    apt-get source -qq "curl=$version" >/dev/null 2>&1 || apt-get source -qq curl >/dev/null
    cd curl-*/
    ./configure -q --prefix="$prefix" "${CONFIGURE_FLAGS[@]}" CFLAGS="-O2 -g0" >/dev/null
    make -s -j"$(nproc)" -C lib >/dev/null
    make -s -C lib install >/dev/null
    make -s -C include install >/dev/null
    make -s install-pkgconfigDATA install-binSCRIPTS >/dev/null
)
strip --strip-unneeded "$prefix"/lib/libcurl.so.*.*
touch "$prefix/.done"
echo "$prefix"
