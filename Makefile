# leadflow -- PGXS build.
#
# "make test" and "make demo" work on a bare Debian 12 machine: they install
# what is missing (through sudo when not root), build, install and run.  The
# PGXS targets (all, install, installcheck, ...) need pg_config; without it
# only the bootstrap targets below are defined.

EXTENSION = leadflow
MODULE_big = leadflow
OBJS = \
	src/leadflow.o \
	src/util.o \
	src/invalidation.o \
	src/index_probe.o \
	src/lead_fetch.o \
	src/guc.o \
	src/roles.o \
	src/cadence_parse.o \
	src/cadence.o \
	src/workhours_parse.o \
	src/workhours.o \
	src/business_time.o \
	src/matching.o \
	src/company_name.o \
	src/accounts.o \
	src/spi_plans.o \
	src/config_cache.o \
	src/caps.o \
	src/shared_turns.o \
	src/strategy.o \
	src/rank.o \
	src/ledger.o \
	src/candidates.o \
	src/routing.o \
	src/lead_row.o \
	src/pending.o \
	src/lead_keys.o \
	src/lead_triggers.o \
	src/lead_batch.o \
	src/routing_api.o \
	src/backtest.o \
	src/stages.o \
	src/touches.o \
	src/sweep.o \
	src/hygiene.o \
	src/duplicates.o \
	src/scoring.o \
	src/predict.o \
	src/operations.o \
	src/standby.o \
	src/logistic.o \
	src/train.o

DATA = sql/leadflow--1.0.sql sql/leadflow--1.0--1.1.sql sql/leadflow--1.1--1.2.sql

# pg_regress tests, listed explicitly so install scripts are never taken
# for tests.
REGRESS = \
	setup \
	matching \
	cadence \
	workhours \
	business_time \
	next_touch \
	schema \
	guc \
	routing \
	ledger \
	touches \
	touch_edges \
	sweep \
	sweep_plans \
	hygiene \
	reports \
	scoring \
	bad_input \
	invariants \
	prediction \
	operations \
	write_paths \
	security \
	audit \
	trust \
	attack \
	replication \
	accounts \
	adoption \
	explain_agreement \
	replay \
	policy \
	backtest \
	index_probe \
	lead_plans \
	foreign_keys

REGRESS_OPTS = --inputdir=. --temp-instance=tmp_check \
	--temp-config=test/regress.conf --encoding=UTF8 --no-locale

ISOLATION = last_seat manual_vs_route sticky_account cap_raised_backlog \
	alert_notify touch_vs_move sweep_races duplicate_insert \
	upsert_race merge_race delete_vs_route import_race assign_vs_sweep \
	route_pending_herd config_version explain_then_route fk_vs_delete \
	update_vs_route shared_turns
ISOLATION_OPTS = --inputdir=test --outputdir=test/output_iso \
	--temp-instance=tmp_check_iso --temp-config=test/regress.conf \
	--encoding=UTF8 --no-locale

PROVE_TESTS = test/t/*.pl

# -Wno-unused-parameter only because PostgreSQL's own headers (PG_FUNCTION_ARGS,
# inline functions in bufpage.h) leave parameters unused; all else of
# -Wextra holds.
PG_CFLAGS = -Wall -Wextra -Werror -Wno-unused-parameter
EXTRA_CLEAN = test/results test/output_iso tmp_check_iso test-logs

PG_CONFIG ?= $(shell command -v pg_config 2>/dev/null || echo pg_config)
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)

ifneq ($(wildcard $(PGXS)),)
include $(PGXS)

# PGXS does not track header dependencies; the headers are few and shared
# structs change, so every object depends on all of them.
$(OBJS): $(wildcard src/*.h)

# Verbose TAP output: one "ok N" line per assertion, which the harness counts.
# (Set after the include: Makefile.global resets PROVE_FLAGS.)
PROVE_FLAGS = -v

# Individual suites, so that one failing suite does not hide the others.
# The harness (test/run-tests.sh) calls these and counts the results.
.PHONY: regress regress-upgrade isolation tap
regress:
	$(pg_regress_installcheck) $(REGRESS_OPTS) $(REGRESS)
# The same suite on a database that was installed as 1.0, filled, and
# updated with ALTER EXTENSION (upgrade_setup instead of setup).
regress-upgrade:
	$(pg_regress_installcheck) $(REGRESS_OPTS) upgrade_setup $(filter-out setup,$(REGRESS))
isolation:
ifneq ($(strip $(ISOLATION)),)
	$(pg_isolation_regress_installcheck) $(ISOLATION_OPTS) $(ISOLATION)
endif
tap:
	$(prove_installcheck)
# The mixed pgbench stress test (test/t/005_mixed_stress.pl), 180 s by
# default (STRESS_SECONDS=n to change); `make tap` runs it for 20 s.
.PHONY: stress
stress:
	rm -rf tmp_check
	LEADFLOW_STRESS_SECONDS=$(or $(STRESS_SECONDS),180) $(MAKE) tap PROVE_TESTS=test/t/005_mixed_stress.pl
else
all:
	@echo "pg_config with PGXS was not found."
	@echo "Run 'make test' or 'make demo' (they install postgresql-server-dev-15),"
	@echo "or install it yourself: sudo apt-get install postgresql-server-dev-15"
	@exit 1
endif

# The two commands of the README.  They do not need PGXS to parse.
.PHONY: test demo demo-stop fuzz reference indent typedefs
test:
	@bash test/run-tests.sh
demo:
	@bash test/demo.sh
demo-stop:
	@bash test/demo-stop.sh
fuzz:
	@bash test/fuzz/run.sh $(FUZZ_SECONDS)
# docs/reference.md from a fresh install's catalog, in a throwaway cluster
# (test/t/010_reference.pl fails when the committed file differs)
reference:
	@bash test/tools/make-reference.sh

# Lay out src/ in PostgreSQL's style.  pgindent when it is on PATH (it is
# not packaged for Debian 12: it comes with PostgreSQL's source tree, with
# pg_bsd_indent); PG_TYPEDEFS names PostgreSQL's own typedefs.list
# (src/tools/pgindent/typedefs.list), which it needs beside ours.
# Otherwise clang-format with .clang-format, an approximation.  The tree
# has not been run through either yet (docs/architecture.md, "Style").
indent:
	@if command -v pgindent >/dev/null 2>&1; then \
		list=$$(mktemp); \
		cat $(PG_TYPEDEFS) typedefs.list >"$$list" && \
		pgindent --typedefs="$$list" src/*.c src/*.h; status=$$?; \
		rm -f "$$list"; exit $$status; \
	elif command -v clang-format >/dev/null 2>&1; then \
		echo "pgindent not found: using clang-format (.clang-format)"; \
		clang-format -i --style=file src/*.c src/*.h; \
	else \
		echo "neither pgindent nor clang-format is installed" >&2; exit 1; \
	fi
# typedefs.list: the type names src/ defines, for pgindent
typedefs:
	@perl test/tools/typedefs.pl src >typedefs.list
