# Arena: two commands matter. `make demo` starts the product with demo data on embedded
# defaults (SQLite, in-memory channel layer, Celery inline). `make test` runs the whole suite
# against PostgreSQL (DATABASE_URL overrides the local default).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# The stand-in LLM server (tests/llm_server.py) that answers live battles in the demo.
LLM_PORT ?= 8001
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/arena
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0
TEST_BROKER_URL ?= amqp://guest:guest@127.0.0.1:5672//

.PHONY: venv lock demo evaluate-demo test test-quick worker serve lint graph bench clean

# The virtualenv holds exactly what requirements.lock pins: every package of requirements.txt and
# requirements-dev.txt and everything they pull in (--no-deps: nothing unpinned sneaks in; pip
# check: the pins fit together).
$(BIN)/.installed: requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --no-deps -r requirements.lock
	$(BIN)/pip check
	touch $@

venv: $(BIN)/.installed

# Write requirements.lock again after changing requirements.txt or requirements-dev.txt. Pins that
# still fit are kept (--upgrade-package NAME, through LOCK_ARGS, moves one); the index is pip's own
# configuration, so a local mirror works as it does for `pip install`.
lock: venv
	CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile --quiet --allow-unsafe --strip-extras \
		--no-emit-index-url --no-emit-find-links $(LOCK_ARGS) --output-file requirements.lock requirements-dev.txt

demo: venv
	mkdir -p var
	$(BIN)/python manage.py migrate --noinput -v 0
	$(BIN)/python manage.py load_demo --quiet --stand-in-url http://$(HOST):$(LLM_PORT)/v1
	@echo "Stand-in LLM server for live battles (canned text, not real models): http://$(HOST):$(LLM_PORT)/v1"
	@echo "Serving Arena at http://$(HOST):$(PORT)/ (live battles: http://$(HOST):$(PORT)/battle/; Ctrl-C to stop)"
	$(BIN)/python -m tests.llm_server --host $(HOST) --port $(LLM_PORT) --stream-rate 20 --stream-words 60 \
		> var/stand-in-llm.log & LLM=$$!; trap 'kill $$LLM 2>/dev/null' EXIT INT TERM; \
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

test: venv
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} \
	ARENA_TEST_REDIS_URL=$${ARENA_TEST_REDIS_URL:-$(TEST_REDIS_URL)} \
	ARENA_TEST_BROKER_URL=$${ARENA_TEST_BROKER_URL:-$(TEST_BROKER_URL)} \
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The quick part: no browser, no worker or server processes, no wall-clock measurements.
test-quick:
	$(MAKE) test PYTEST_ARGS="-m 'not browser and not integration and not timing' $(PYTEST_ARGS)"

# The third workflow on the demo database: a custom prompt set and a new model, judged end to
# end, with the test LLM server (tests/llm_server.py) standing in for the endpoints.
evaluate-demo: venv
	mkdir -p var
	$(BIN)/python manage.py migrate --noinput -v 0
	@rm -f var/llm_server.url; set -e; \
	$(BIN)/python -m tests.llm_server --port 0 --models my-model-quality-7,baseline-quality-5 > var/llm_server.url & \
	server=$$!; trap "kill $$server" EXIT; \
	for i in 1 2 3 4 5 6 7 8 9 10; do test -s var/llm_server.url && break; sleep 0.5; done; \
	url=$$(head -1 var/llm_server.url); echo "Test LLM server at $$url"; \
	$(BIN)/python manage.py import_prompt_set arena/data/demo/my_prompts.jsonl --slug my-prompts --name "My prompts" --format jsonl; \
	$(BIN)/python manage.py judge_add local-judge --model fake-judge --base-url $$url --api-key-env ARENA_KEY_EVALUATE_DEMO \
	    --price-input 2.5 --price-output 10 --update; \
	$(BIN)/python manage.py evaluate --contender baseline --base-url $$url --model baseline-quality-5 --api-key-env ARENA_KEY_EVALUATE_DEMO \
	    --prompt-set my-prompts --judge local-judge --mode single; \
	$(BIN)/python manage.py evaluate --contender my-model --base-url $$url --model my-model-quality-7 --api-key-env ARENA_KEY_EVALUATE_DEMO \
	    --prompt-set my-prompts --judge local-judge --dry-run; \
	$(BIN)/python manage.py evaluate --contender my-model --base-url $$url --model my-model-quality-7 --api-key-env ARENA_KEY_EVALUATE_DEMO \
	    --prompt-set my-prompts --judge local-judge --mode single; \
	$(BIN)/python manage.py evaluate --contender my-model --prompt-set my-prompts --judge local-judge \
	    --mode pairwise --baseline baseline

worker: venv
	$(BIN)/celery -A arena worker --loglevel INFO --queues default,judge,ratings

# The full process layout (daphne, a judge worker, a ratings worker, beat) against the local
# PostgreSQL, Redis and RabbitMQ; override the URLs to point elsewhere.
SERVE_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/arena
SERVE_REDIS_URL ?= redis://127.0.0.1:6379/0
SERVE_BROKER_URL ?= amqp://guest:guest@127.0.0.1:5672//
JUDGE_WORKER_PROCESSES ?= $(shell nproc 2>/dev/null || echo 2)
serve: venv
	mkdir -p var
	DATABASE_URL=$${DATABASE_URL:-$(SERVE_DATABASE_URL)} $(BIN)/python manage.py create_database
	DATABASE_URL=$${DATABASE_URL:-$(SERVE_DATABASE_URL)} $(BIN)/python manage.py migrate --noinput -v 0
	DATABASE_URL=$${DATABASE_URL:-$(SERVE_DATABASE_URL)} $(BIN)/python manage.py collectstatic --noinput -v 0
	DATABASE_URL=$${DATABASE_URL:-$(SERVE_DATABASE_URL)} \
	REDIS_URL=$${REDIS_URL:-$(SERVE_REDIS_URL)} \
	CELERY_BROKER_URL=$${CELERY_BROKER_URL:-$(SERVE_BROKER_URL)} \
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/honcho start -f Procfile -c judge-worker=$(JUDGE_WORKER_PROCESSES)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-logo

# The import graph by layer, as lint-imports checks it (--dot for Graphviz, --packages for more detail).
graph: venv
	$(BIN)/python tools/import_graph.py $(GRAPH_ARGS)

bench: venv
	for script in benchmarks/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache .mypy_cache .import_linter_cache
