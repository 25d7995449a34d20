# Sakila Lake: `make run` serves the embedded default with demo data,
# `make test` runs the whole suite on it. See README.md.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
SPARK_INSTALLED := $(VENV)/.spark-installed
MYSQL_URL ?= mysql://root@127.0.0.1:3306/sakila
# The tests' Redis database; with TEST_WORKERS > 1, worker gwN takes the one N below.
REDIS_URL ?= redis://127.0.0.1:6379/15
# pytest-xdist processes for the test targets (0: the tests in this process, as
# for a debugger). Each has its own database, var dir, cache, broker and moto;
# they take the tests one at a time, slow ones first (tests/conftest.py).
TEST_WORKERS ?= 2
PYTEST := $(PY) -m pytest -n $(TEST_WORKERS) --dist load --maxschedchunk 1
HOST ?= 127.0.0.1
PORT ?= 8000
# Python keeps compiled modules (and pytest its assertion-rewritten ones, of the
# tests and of its plugins' packages) in __pycache__ (git-ignored). A shell that
# sets PYTHONDONTWRITEBYTECODE makes every process, each test worker and each
# worker or stack a test starts, compile ~500 modules again: 5 s or more each.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: install install-spark spark-system-deps lock lock-check system-deps chromium run dev test test-fast test-mysql test-e2e test-spark test-clients node lint format bench bench-lake bench-api bench-freshness bench-reports bench-broker bench-admin clean

install: $(INSTALLED)

# mysqlclient compiles against the MySQL/MariaDB client headers.
system-deps:
	@if ! pkg-config --exists mysqlclient 2>/dev/null && ! pkg-config --exists mariadb 2>/dev/null \
	    || ! command -v cc >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing the MySQL client headers and a C compiler (apt-get)"; \
	    apt-get -o DPkg::Lock::Timeout=600 update -qq && apt-get -o DPkg::Lock::Timeout=600 install -y -qq default-libmysqlclient-dev pkg-config gcc; \
	  else \
	    echo "mysqlclient needs the MySQL client headers. Run:"; \
	    echo "  sudo apt-get install default-libmysqlclient-dev pkg-config gcc"; \
	    exit 1; \
	  fi; \
	fi

# The locks (requirements*.txt: every package, transitive ones included, at one
# version with its hashes) are all an install reads; pip refuses anything not
# in them. `make lock` compiles them from the requirements*.in files.
$(INSTALLED): requirements.txt requirements-dev.txt
	@$(MAKE) --no-print-directory system-deps
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes -r requirements-dev.txt
	touch $(INSTALLED)

# uv (locked in requirements-dev.txt) compiles each lock from its input,
# keeping every version already locked unless the input asks for another.
# To upgrade one package: UPGRADE="-P NAME" make lock (then review the diff).
LOCK_FILES := requirements.txt requirements-dev.txt requirements-spark.txt
UV_COMPILE := $(VENV)/bin/uv pip compile --quiet --generate-hashes --universal \
	--python-version 3.11 --custom-compile-command "make lock" $(UPGRADE)

lock: install
	$(UV_COMPILE) requirements.in -o requirements.txt
	$(UV_COMPILE) requirements-dev.in -o requirements-dev.txt
	$(UV_COMPILE) requirements-spark.in -o requirements-spark.txt

# Fails when a lock no longer matches its input (an .in edited, make lock not
# run); leaves the locks as they were either way.
lock-check: install
	@tmp=$$(mktemp -d); cp $(LOCK_FILES) "$$tmp"/; status=0; \
	$(MAKE) --no-print-directory lock >/dev/null || status=2; \
	for f in $(LOCK_FILES); do \
	  cmp -s "$$f" "$$tmp/$$f" || { diff -u "$$tmp/$$f" "$$f" | head -40; status=1; }; \
	  cp "$$tmp/$$f" "$$f"; \
	done; rm -rf "$$tmp"; \
	if [ $$status = 0 ]; then echo "The locks match their inputs."; \
	else echo "A lock does not match its input: run make lock, review and commit the locks." >&2; exit 1; fi

# Migrate, demo data, then gunicorn (DEBUG off), a Celery worker and beat under
# supervisord (deploy/supervisord.conf), which restarts any that dies.
run: install
	HOST=$(HOST) PORT=$(PORT) $(PY) -m sakila_site.serve

# The same with Django's autoreloading runserver and DEBUG on (deploy/supervisord-dev.conf).
dev: install
	HOST=$(HOST) PORT=$(PORT) $(PY) -m sakila_site.serve --dev

# The whole suite (the browser journeys and PySpark have their own targets),
# then its 20 slowest tests.
test: install
	$(PYTEST) --durations=20

# For the edit loop: all but the tests marked slow (make test runs those too).
test-fast: install
	$(PYTEST) -m "not slow and not e2e and not spark"

# MariaDB, with the Celery tests on Redis (as production runs).
test-mysql: install
	DATABASE_URL=$(MYSQL_URL) CELERY_BROKER_URL=$(REDIS_URL) $(PYTEST) --durations=20

# The browser journeys (tests/e2e) against make run's stack, in Debian's Chromium.
test-e2e: install chromium
	$(PY) -m pytest -m e2e tests/e2e

chromium:
	@if ! [ -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Chromium (apt-get)"; \
	    apt-get -o DPkg::Lock::Timeout=600 update -qq && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq chromium; \
	  else \
	    echo "The browser journeys need Debian's Chromium: sudo apt-get install chromium"; \
	    exit 1; \
	  fi; \
	fi

# The Glue job scripts on local PySpark (Java 17), through JDBC, compared with
# the local engine; and LAKE_ENGINE=spark (docs/spark.md).
# Clients generated from the API's schema (tests/api_clients): the schema linted
# by Redocly, TypeScript types compiled against, a Python client driven against
# make run's stack. npm ci installs the Node tools at package-lock.json's versions.
test-clients: install node
	npm ci --prefix tests/api_clients --no-audit --no-fund
	$(PY) -m pytest -m clients tests/api_clients

node:
	@if ! command -v npm >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Node.js and npm (apt-get)"; \
	    apt-get -o DPkg::Lock::Timeout=600 update -qq && apt-get -o DPkg::Lock::Timeout=600 install -y -qq nodejs npm; \
	  else \
	    echo "make test-clients needs Node.js 20.19+ and npm. Run:"; \
	    echo "  sudo apt-get install nodejs npm"; \
	    exit 1; \
	  fi; \
	fi

test-spark: install-spark
	$(PY) -m pytest -m spark tests/lake/glue_jobs tests/lake/engines

# What LAKE_ENGINE=spark and make test-spark need: PySpark and Iceberg's Spark
# runtime (requirements-spark.txt, with hashes), Java 17 and the JDBC drivers
# from Debian at pinned versions (their jars' SHA-256 in lake/core/spark_jars.py).
install-spark: $(SPARK_INSTALLED)
	@$(PY) -m lake.core.spark_jars >/dev/null

SPARK_DEBIAN_PACKAGES := libmariadb-java=2.7.6-1 libxerial-sqlite-jdbc-java=3.40.1.0+dfsg-1+deb12u1 \
	libxerial-sqlite-jdbc-jni=3.40.1.0+dfsg-1+deb12u1

spark-system-deps:
	@if ! command -v java >/dev/null || ! $(PY) -m lake.core.spark_jars >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Java 17 and the JDBC drivers (apt-get)"; \
	    apt-get -o DPkg::Lock::Timeout=600 update -qq && DEBIAN_FRONTEND=noninteractive \
	      apt-get -o DPkg::Lock::Timeout=600 install -y -qq --allow-downgrades \
	      $$(command -v java >/dev/null || echo openjdk-17-jre-headless) $(SPARK_DEBIAN_PACKAGES); \
	  else \
	    echo "The Spark engine needs Java 17 and the JDBC drivers. Run:"; \
	    echo "  sudo apt-get install openjdk-17-jre-headless $(SPARK_DEBIAN_PACKAGES)"; \
	    exit 1; \
	  fi; \
	fi

$(SPARK_INSTALLED): $(INSTALLED) requirements-spark.txt
	$(PY) -m pip install --quiet --require-hashes -r requirements-spark.txt
	@$(MAKE) --no-print-directory spark-system-deps
	touch $(SPARK_INSTALLED)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: install
	$(PY) bench/load.py

bench-lake: install
	$(PY) bench/lake.py

bench-api: install
	$(PY) bench/api.py

bench-freshness: install
	$(PY) bench/freshness.py

bench-reports: install
	$(PY) bench/reports.py

bench-broker: install
	$(PY) bench/broker.py

bench-admin: install
	$(PY) bench/admin.py

clean:
	rm -rf $(VENV) var staticfiles
