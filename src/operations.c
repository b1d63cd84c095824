/*
 * operations.c
 *	  What operators read about a running leadflow: leadflow.preloaded(),
 *	  and the record of each sweep (leadflow.sweep_stats,
 *	  leadflow.sweep_action_total) that leadflow.health() judges the
 *	  schedule by and the Prometheus metrics count.
 *
 * The record is written in the sweep's own transaction, so only a sweep
 * that committed is recorded: a failed pg_cron run leaves nothing, and
 * health() sees the sweep fall behind.  Times are real time (the clock of
 * the machine, never leadflow.clock): they say when pg_cron ran, not what
 * instant was swept.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parse_func.h"
#include "postmaster/bgworker.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "operations.h"
#include "spi_plans.h"

static bool loaded_at_preload = false;

void
operations_init(void)
{
	loaded_at_preload = process_shared_preload_libraries_in_progress;
}

PG_FUNCTION_INFO_V1(leadflow_preloaded);

/*
 * leadflow.preloaded() -> boolean: whether this backend got the library
 * from shared_preload_libraries.  Only then were leadflow.* settings
 * checked from the session's start (before the library loads, PostgreSQL
 * takes any leadflow.* name as a placeholder).
 */
Datum
leadflow_preloaded(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(loaded_at_preload);
}

/*
 * Whether this session is a pg_cron job: a pg_cron background worker
 * (cron.use_background_workers) or pg_cron's libpq connection, which names
 * itself "pg_cron".  A role allowed to sweep could set that name by hand;
 * it would only make its own runs count as scheduled ones.
 */
static bool
session_is_pg_cron(void)
{
	if (MyBgworkerEntry != NULL && strcmp(MyBgworkerEntry->bgw_type, "pg_cron") == 0)
		return true;
	return application_name != NULL && strcmp(application_name, "pg_cron") == 0;
}

static const Oid record_argtypes[] = {TIMESTAMPTZOID, TIMESTAMPTZOID, TIMESTAMPTZOID, BOOLOID,
TEXTARRAYOID, INT8ARRAYOID};

/*
 * Whether this database has leadflow.sweep_record (1.2 on).  The library
 * is installed before ALTER EXTENSION ... UPDATE and serves older
 * databases meanwhile; their sweeps work as before, unrecorded.
 */
static bool
sweep_record_exists(void)
{
	List	   *name = list_make2(makeString("leadflow"), makeString("sweep_record"));

	return OidIsValid(LookupFuncName(name, lengthof(record_argtypes), record_argtypes, true));
}

void
operations_record_sweep(TimestampTz as_of, int nactions,
						const char *const *names, const int64 *counts)
{
	static SPIPlanPtr plan = NULL;
	Datum		args[6];
	Datum	   *name_datums;
	Datum	   *count_datums;
	int			i;

	if (!sweep_record_exists())
		return;
	name_datums = palloc(sizeof(Datum) * nactions);
	count_datums = palloc(sizeof(Datum) * nactions);

	for (i = 0; i < nactions; i++)
	{
		name_datums[i] = CStringGetTextDatum(names[i]);
		count_datums[i] = Int64GetDatum(counts[i]);
	}
	/* the sweep is the statement's work: pg_cron runs it as one statement */
	args[0] = TimestampTzGetDatum(GetCurrentStatementStartTimestamp());
	args[1] = TimestampTzGetDatum(GetCurrentTimestamp());
	args[2] = TimestampTzGetDatum(as_of);
	args[3] = BoolGetDatum(session_is_pg_cron());
	args[4] = PointerGetDatum(construct_array(name_datums, nactions, TEXTOID, -1, false,
											  TYPALIGN_INT));
	args[5] = PointerGetDatum(construct_array(count_datums, nactions, INT8OID, sizeof(int64),
											  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	if (SPI_execute_plan(leadflow_plan(&plan,
									   "SELECT leadflow.sweep_record($1, $2, $3, $4, $5, $6)",
									   lengthof(record_argtypes), record_argtypes),
						 args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "leadflow: could not record the sweep");
}
