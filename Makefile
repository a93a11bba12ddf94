# Targets the README uses.  `make demo` and `make test` each do all set-up
# first (system packages if missing; the rest only when out of date).
#
# make test: the whole suite on every supported Python on the machine
# (tools/pythons.sh: 3.11, 3.12, 3.13, ...), each against its installed
# manylinux wheel from `make wheel`, run from build/testrun where the
# checkout is not importable (tools/wheels.sh).  The wheels are rebuilt only
# when a source file changed; `make test PYTEST_ARGS='-k batch'` narrows it.
# make check: the same suite once, fast, against the editable install in
# $(PYTHON) (the development loop).
PYTHON ?= python3
PIP ?= $(PYTHON) -m pip
APT_PACKAGES = libcurl4-openssl-dev libcjson-dev pkg-config
SANITIZER_RT = $(shell gcc -print-file-name=libasan.so)
CORE_SOURCES = $(wildcard csrc/*.c csrc/*.h)
WHEEL_SOURCES = $(CORE_SOURCES) $(shell find gettcommerce -name '*.py' -o -name '*.pyi' -o -name py.typed) \
	setup.py pyproject.toml MANIFEST.in LICENSE README.md tools/build-libcurl.sh tools/wheels.sh
PYTEST_ARGS ?=
# One stamp per interpreter: `pip install -e` runs again only when the
# metadata changes, never for a C change (build_ext below is incremental).
SETUP_STAMP = build/stamps/setup-$(shell $(PYTHON) -c 'import sys, hashlib; print(hashlib.sha1(sys.prefix.encode()).hexdigest()[:10])' 2>/dev/null)

.PHONY: system-packages setup build demo test check wheel sdist test-asan memcheck fuzz bench profile soak clean

system-packages:
	@missing=""; \
	pkg-config --exists libcurl libcjson 2>/dev/null || missing="$(APT_PACKAGES)"; \
	command -v openssl >/dev/null 2>&1 || missing="$$missing openssl"; \
	if [ -n "$$missing" ]; then \
		echo "installing$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

$(SETUP_STAMP): pyproject.toml setup.py
	GETT_WERROR=1 $(PIP) install -q --disable-pip-version-check -e '.[test]' --config-settings editable_mode=compat
	@mkdir -p $(dir $@) && touch $@

setup: system-packages $(SETUP_STAMP)
	GETT_WERROR=1 $(PYTHON) setup.py -q build_ext --inplace

build:
	GETT_WERROR=1 $(PYTHON) setup.py -q build_ext --inplace

demo: setup
	$(PYTHON) -m gettcommerce demo

wheelhouse/.built: $(WHEEL_SOURCES)
	bash tools/wheels.sh build
	@touch $@

wheel: system-packages wheelhouse/.built

test: wheel
	bash tools/wheels.sh test $(PYTEST_ARGS)

check: setup
	$(PYTHON) -m pytest -q tests $(PYTEST_ARGS)

sdist:
	$(PYTHON) -m build --sdist --outdir dist .

# The whole suite against a _core built with -fsanitize=address,undefined.
# CPython is not instrumented, so libasan is preloaded and PYTHONMALLOC=malloc
# routes Python's allocations through it too.  Leak detection is off:
# CPython keeps interned strings and static types alive at exit on purpose
# (the refcount tests and `make memcheck` cover leaks).  UBSan halts on the
# first report (-fno-sanitize-recover in setup.py).  Deselected: the RSS
# growth checks, which ASan's quarantine of freed memory makes meaningless,
# and the type-checker, packaging and wheel tests, which run no C code.
# The normal _core is rebuilt afterwards even when the run fails.
ASAN_ENV = LD_PRELOAD=$(SANITIZER_RT) PYTHONMALLOC=malloc \
	ASAN_OPTIONS=detect_leaks=0 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
ASAN_DESELECT = --deselect tests/test_transport.py::test_ten_thousand_calls_leave_objects_and_rss_flat \
	--deselect tests/test_sandbox_requestlog.py::test_big_bodies_leave_rss_and_the_log_bounded \
	--ignore tests/test_typing.py --ignore tests/test_packaging.py --ignore tests/test_wheel.py

test-asan: setup
	GETT_SANITIZE=1 GETT_WERROR=1 $(PYTHON) setup.py -q build_ext --inplace --force --build-temp build/asan
	status=0; $(ASAN_ENV) $(PYTHON) -m pytest -q -p no:cacheprovider tests $(ASAN_DESELECT) || status=$$?; \
	GETT_WERROR=1 $(PYTHON) setup.py -q build_ext --inplace --force; \
	exit $$status

# Valgrind memcheck of a focused script over the C core (requests, errors,
# batch, validator); tests/memcheck/valgrind.supp says which suppressions
# are allowed and why none are needed.  MEMCHECK_PYTHON is Debian's python3
# when it is the same minor version (the pyenv build trips a CPython
# false positive, see the .supp file); the real binary, never a pyenv shim,
# or valgrind would trace the shell script instead.
VALGRIND = valgrind --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite \
	--error-exitcode=1 --suppressions=tests/memcheck/valgrind.supp --num-callers=40
PY_MINOR = $(shell $(PYTHON) -c 'import sys; print(sys.version_info[:2])')
MEMCHECK_PYTHON ?= $(shell if [ -x /usr/bin/python3 ] && [ "$$(/usr/bin/python3 -c 'import sys; print(sys.version_info[:2])')" = "$(PY_MINOR)" ]; \
	then echo /usr/bin/python3; else $(PYTHON) -c 'import sys; print(sys.executable)'; fi)
memcheck:
	@command -v valgrind >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind)
	GETT_WERROR=1 $(PYTHON) setup.py -q build_ext --inplace
	PYTHONMALLOC=malloc $(VALGRIND) $(MEMCHECK_PYTHON) tests/memcheck/memcheck.py

# libFuzzer on the Python-free core: response parsing and the catalog
# validator, FUZZ_SECONDS in all (split between the harnesses).
FUZZ_SECONDS ?= 60
fuzz:
	bash fuzz/run.sh $(FUZZ_SECONDS)

# Benchmarks (run by hand): installs peers and nginx if missing, writes bench/RESULTS.md.
bench: setup
	$(PYTHON) bench/run.py

profile: build
	$(PYTHON) bench/profile.py

soak: build
	$(PYTHON) bench/soak.py

clean:
	rm -rf build dist wheelhouse gettcommerce/*.so *.egg-info
