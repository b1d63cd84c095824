/*
 * spi_plans.c
 *	  Saved SPI plans: each statement of the hot path is prepared once per
 *	  backend and kept, so routing never re-plans per lead.
 *
 * Every statement runs with read_only = false, SELECTs included: that
 * makes SPI advance the command counter and take a fresh snapshot, so the
 * routing of one row of a multi-row INSERT sees the counters and turns the
 * rows before it claimed, and (in READ COMMITTED) what other transactions
 * committed while it waited for a lock.
 *
 * Names.  Every function that runs these statements pins search_path =
 * pg_catalog, leadflow, pg_temp: a built-in name resolves in pg_catalog
 * first, leadflow's in leadflow (only its owner can create there), and
 * pg_temp -- the one schema every role can fill -- comes last, for
 * relations and types only (PostgreSQL never looks up functions or
 * operators there); public is not on the path.  So relations are written
 * leadflow.x, and built-in types, functions and operators stay
 * unqualified: nothing a role creates can come before them.  A saved plan
 * is re-analysed when it runs under another search_path than it was
 * prepared with, so the pin must hold wherever a plan runs: sql/audit.sql
 * fails for every extension function without a pinned path that it does
 * not list with its reason, and sql/attack.sql shadows the built-in names
 * in pg_temp and public and drives every entry point.
 */
#include "postgres.h"

#include "access/table.h"
#include "access/xact.h"
#include "executor/spi.h"
#include "storage/bufmgr.h"
#include "utils/inval.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"

#include "spi_plans.h"

/* Every slot handed out, so that all plans can be dropped at once. */
#define MAX_PLAN_SLOTS 96
static SPIPlanPtr *plan_slots[MAX_PLAN_SLOTS];
static int	nplan_slots = 0;

/*
 * Forget every saved plan.  Needed when the extension was dropped and
 * created again in this backend: a plan's parameter types (leadflow.stage,
 * leadflow.cadence) are fixed when it is prepared and would name types
 * that no longer exist.  The old plans are not freed: one may be running
 * further up the stack (leadflow.assign's UPDATE fires the trigger that
 * notices the new extension).  They are a few kB, left for the backend's
 * end, and only after a DROP and CREATE EXTENSION in one session.
 */
void
leadflow_plans_reset(void)
{
	int			i;

	for (i = 0; i < nplan_slots; i++)
		*plan_slots[i] = NULL;
}

/* Prepare sql with cursor_options, keep it and remember its slot. */
static SPIPlanPtr
prepare_saved(SPIPlanPtr *slot, const char *sql, int nargs, const Oid *argtypes,
			  int cursor_options)
{
	SPIPlanPtr	plan;
	int			i;

	plan = SPI_prepare_cursor(sql, nargs, (Oid *) argtypes, cursor_options);
	if (plan == NULL)
		elog(ERROR, "leadflow: SPI_prepare failed for \"%s\": %s",
			 sql, SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "leadflow: SPI_keepplan failed");
	*slot = plan;
	for (i = 0; i < nplan_slots; i++)
		if (plan_slots[i] == slot)
			return plan;		/* prepared again after a reset */
	if (nplan_slots >= MAX_PLAN_SLOTS)
		elog(ERROR, "leadflow: too many saved plans");
	plan_slots[nplan_slots++] = slot;
	return plan;
}

/*
 * Return the plan in *slot, preparing and saving it on first use.  The
 * caller must be connected to SPI.
 */
SPIPlanPtr
leadflow_plan(SPIPlanPtr *slot, const char *sql, int nargs, const Oid *argtypes)
{
	if (*slot != NULL)
		return *slot;
	return prepare_saved(slot, sql, nargs, argtypes, 0);
}

/*
 * The same for a statement planned anew, for its parameters and the
 * tables' sizes now, every time it runs.  A saved statement may otherwise
 * settle, after five runs, on a generic plan chosen while its table was
 * small -- ANALYZEd empty, say -- and keep it while the table grows: a
 * sequential scan of the whole ledger for what an index finds in a few
 * pages.  Worth its planning only for a statement that runs once per
 * batch, not per lead.
 */
SPIPlanPtr
leadflow_plan_custom(SPIPlanPtr *slot, const char *sql, int nargs, const Oid *argtypes)
{
	if (*slot != NULL)
		return *slot;
	return prepare_saved(slot, sql, nargs, argtypes, CURSOR_OPT_CUSTOM_PLAN);
}

/* The size its table had when each growing statement was last prepared. */
typedef struct GrowingPlan
{
	SPIPlanPtr *slot;
	BlockNumber nblocks;
} GrowingPlan;
static GrowingPlan growing_plans[MAX_PLAN_SLOTS];
static int	ngrowing_plans = 0;

/* The table's size in blocks now, 0 when it is gone. */
static BlockNumber
table_blocks(Oid relid)
{
	Relation	rel = try_table_open(relid, AccessShareLock);
	BlockNumber nblocks;

	if (rel == NULL)
		return 0;
	nblocks = RelationGetNumberOfBlocks(rel);
	table_close(rel, NoLock);	/* the statement takes the lock anyway */
	return nblocks;
}

/*
 * The same for a statement run once per lead on the table relid (a look-up
 * or an UPDATE by its key), prepared again whenever that table has more
 * than doubled since it was last prepared.  A saved statement settles on a
 * generic plan after five runs and keeps it; chosen while the table was a
 * few pages (ANALYZEd empty, say, then filled within one transaction,
 * which invalidates nothing), that plan is a sequential scan, run for
 * every lead while the table grows to millions of rows.  Prepared again,
 * the statement is planned for the table as it is: the scan costs at most
 * about twice what the planner accepted, and the planning is paid once per
 * doubling of the table, never per lead.  Checking the size costs one
 * lock (the statement's own, taken early) and one lseek.  The plan left
 * behind is not freed: it may be running further up the stack (see
 * leadflow_plans_reset); there are at most a few dozen such per backend.
 *
 * PostgreSQL's own saved statements on the table -- the foreign-key checks
 * of the tables that reference it (a touch, a stage change, a decision of
 * a duplicate each check their lead), and a client's prepared statements
 * -- are stuck the same way, out of reach.  So a transaction that writes
 * (the import that made the table grow) also invalidates the table's
 * relation cache entry when it prepares again, as an ANALYZE would: those
 * statements are planned again once, here at the next command and in other
 * sessions after the commit.  Not in a read-only transaction, which sends
 * no invalidations (a standby's).
 */
SPIPlanPtr
leadflow_plan_growing(SPIPlanPtr *slot, const char *sql, int nargs, const Oid *argtypes,
					  Oid relid)
{
	GrowingPlan *g = NULL;
	BlockNumber nblocks = table_blocks(relid);
	int			i;

	for (i = 0; i < ngrowing_plans && g == NULL; i++)
		if (growing_plans[i].slot == slot)
			g = &growing_plans[i];
	if (g == NULL)
	{
		if (ngrowing_plans >= MAX_PLAN_SLOTS)
			elog(ERROR, "leadflow: too many saved plans");
		g = &growing_plans[ngrowing_plans++];
		g->slot = slot;
	}
	else if (*slot != NULL && (uint64) nblocks <= 2 * (uint64) g->nblocks + 8)
		return *slot;
	else if (*slot != NULL && GetTopTransactionIdIfAny() != InvalidTransactionId)
		CacheInvalidateRelcacheByRelid(relid);
	g->nblocks = nblocks;
	return prepare_saved(slot, sql, nargs, argtypes, 0);
}

/*
 * The element types of a statement's array parameters, with what building
 * and copying their values needs, looked up once instead of per row.
 */
void
array_params_init(ArrayParams *params, int n, const Oid *elem_types)
{
	int			i;

	Assert(n <= MAX_ARRAY_PARAMS);
	params->n = n;
	for (i = 0; i < n; i++)
	{
		params->elem_types[i] = elem_types[i];
		params->array_types[i] = get_array_type(elem_types[i]);
		get_typlenbyvalalign(elem_types[i], &params->typlen[i], &params->typbyval[i],
							 &params->typalign[i]);
	}
}

/* A copy of a value of parameter i's element type, in the current context. */
Datum
array_param_copy(const ArrayParams *params, int i, Datum value)
{
	return datumCopy(value, params->typbyval[i], params->typlen[i]);
}

/*
 * Parameter i as a one-dimensional array of n elements, for a statement
 * that writes many rows at once ("... FROM unnest($1, $2, ...)").  nulls
 * may be NULL when none is.
 */
Datum
array_param(const ArrayParams *params, int i, Datum *elems, bool *nulls, int n)
{
	int			dims[1] = {n};
	int			lbs[1] = {1};

	return PointerGetDatum(construct_md_array(elems, nulls, 1, dims, lbs,
											  params->elem_types[i], params->typlen[i],
											  params->typbyval[i], params->typalign[i]));
}

/* ----- reading SPI results ----- */

/* A text column as a C string; NULL for NULL. */
char *
spi_col_text(HeapTuple tuple, TupleDesc desc, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tuple, desc, col, &isnull);

	return isnull ? NULL : TextDatumGetCString(d);
}

/* An integer column; 0 for NULL (and *isnull set, when asked). */
int32
spi_col_int32(HeapTuple tuple, TupleDesc desc, int col, bool *isnull)
{
	bool		null;
	Datum		d = SPI_getbinval(tuple, desc, col, &null);

	if (isnull)
		*isnull = null;
	return null ? 0 : DatumGetInt32(d);
}

/* A bigint column; 0 for NULL. */
int64
spi_col_int64(HeapTuple tuple, TupleDesc desc, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tuple, desc, col, &isnull);

	return isnull ? 0 : DatumGetInt64(d);
}
