# Targets the README uses.  `make demo` and `make test` each do all set-up
# (system packages if missing, the package with its test extra) first.
PYTHON ?= python3
PIP ?= $(PYTHON) -m pip
APT_PACKAGES = libcurl4-openssl-dev libcjson-dev pkg-config
SANITIZER_RT = $(shell gcc -print-file-name=libasan.so)

.PHONY: setup build demo test test-asan fuzz bench profile soak clean

setup:
	@if ! pkg-config --exists libcurl libcjson 2>/dev/null; then \
		echo "installing $(APT_PACKAGES)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PACKAGES); \
	fi
	GETT_WERROR=1 $(PIP) install -q --disable-pip-version-check -e '.[test]'

build:
	GETT_WERROR=1 $(PYTHON) setup.py -q build_ext --inplace

demo: setup
	$(PYTHON) -m gettcommerce demo

test: setup
	$(PYTHON) -m pytest -q tests

# Benchmarks (run by hand): installs peers and nginx if missing, writes bench/RESULTS.md.
bench: setup
	$(PYTHON) bench/run.py

profile: build
	$(PYTHON) bench/profile.py

soak: build
	$(PYTHON) bench/soak.py

clean:
	rm -rf build gettcommerce/*.so *.egg-info
