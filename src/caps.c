/*
 * caps.c
 *	  Per-rep counters (leadflow.rep_load) and the claims that keep pipeline
 *	  caps from ever being exceeded.
 *
 * A claim is one conditional UPDATE: it raises the rep's counters only if
 * they are still under the caps.  Under concurrency the UPDATE waits for
 * the row lock and re-checks its condition against the committed row, so
 * two transactions can never both take a rep's last seat; the loser sees
 * zero rows and moves on to the next candidate.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "pgtime.h"
#include "utils/array.h"
#include "utils/date.h"
#include "utils/datetime.h"

#include "business_time.h"
#include "routing.h"

static SPIPlanPtr load_plan = NULL;
static SPIPlanPtr claim_plan = NULL;
static SPIPlanPtr force_plan = NULL;
static SPIPlanPtr ensure_plan = NULL;
static SPIPlanPtr release_plan = NULL;
static SPIPlanPtr outcome_plan = NULL;

/* The rep's own calendar date at "now": daily caps count local days. */
DateADT
rep_local_date(RepConfig *rep, TimestampTz now)
{
	struct pg_tm tm;
	fsec_t		fsec;
	int			tzoff;

	if (timestamp2tm(now, &tzoff, &tm, &fsec, NULL, rep->sched.tz) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	return date2j(tm.tm_year, tm.tm_mon, tm.tm_mday) - POSTGRES_EPOCH_JDATE;
}

/*
 * Fill each candidate's open and new-today counts and its outcome history
 * from leadflow.rep_load.  Reps without a row yet count as empty.
 */
void
caps_load(Candidate *cands, int ncands, TimestampTz now)
{
	static const Oid argtypes[] = {INT4ARRAYOID};
	Datum	   *ids = palloc(sizeof(Datum) * Max(ncands, 1));
	Datum		arg;
	uint64		row;
	int			i;

	for (i = 0; i < ncands; i++)
		ids[i] = Int32GetDatum(cands[i].rep->id);
	arg = PointerGetDatum(construct_array(ids, ncands, INT4OID, sizeof(int32),
										  true, TYPALIGN_INT));

	if (SPI_execute_plan(leadflow_plan(&load_plan,
									   "SELECT rep_id, open_count, new_day, new_count,"
									   " won_count, closed_count"
									   " FROM leadflow.rep_load WHERE rep_id = ANY ($1)",
									   1, argtypes),
						 &arg, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "leadflow: could not read rep counters");

	for (row = 0; row < SPI_processed; row++)
	{
		HeapTuple	t = SPI_tuptable->vals[row];
		TupleDesc	d = SPI_tuptable->tupdesc;
		bool		isnull;
		int32		rep_id = DatumGetInt32(SPI_getbinval(t, d, 1, &isnull));

		for (i = 0; i < ncands; i++)
		{
			Candidate  *c = &cands[i];
			Datum		new_day;

			if (c->rep->id != rep_id)
				continue;
			c->open_count = DatumGetInt32(SPI_getbinval(t, d, 2, &isnull));
			new_day = SPI_getbinval(t, d, 3, &isnull);
			c->new_today = (!isnull &&
							DatumGetDateADT(new_day) == rep_local_date(c->rep, now))
				? DatumGetInt32(SPI_getbinval(t, d, 4, &isnull)) : 0;
			c->won = DatumGetInt64(SPI_getbinval(t, d, 5, &isnull));
			c->closed = DatumGetInt64(SPI_getbinval(t, d, 6, &isnull));
		}
	}
	pfree(ids);
}

/* Make sure the rep has a counter row; true when one was created. */
static bool
ensure_counter_row(int32 rep_id)
{
	static const Oid argtypes[] = {INT4OID};
	Datum		arg = Int32GetDatum(rep_id);

	if (SPI_execute_plan(leadflow_plan(&ensure_plan,
									   "INSERT INTO leadflow.rep_load (rep_id) VALUES ($1)"
									   " ON CONFLICT (rep_id) DO NOTHING",
									   1, argtypes),
						 &arg, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "leadflow: could not create rep counters");
	return SPI_processed > 0;
}

/*
 * Run the claim (conditional) or force (unconditional) update for a rep.
 * Returns whether a row was updated.
 */
static bool
update_counters(SPIPlanPtr plan, RepConfig *rep, TimestampTz now, bool count_as_new)
{
	Datum		args[4];

	args[0] = Int32GetDatum(rep->id);
	args[1] = DateADTGetDatum(rep_local_date(rep, now));
	args[2] = TimestampTzGetDatum(now);
	args[3] = BoolGetDatum(count_as_new);
	if (SPI_execute_plan(plan, args, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "leadflow: could not update rep counters");
	return SPI_processed > 0;
}

static SPIPlanPtr
counters_plan(bool conditional)
{
	static const Oid argtypes[] = {INT4OID, DATEOID, TIMESTAMPTZOID, BOOLOID};

	/*
	 * new_count restarts on a new local day.  The conditional form compares
	 * against the caps in leadflow.rep as they are when the row lock is
	 * held, so a cap changed concurrently is honoured.
	 */
#define COUNTERS_SET \
	"UPDATE leadflow.rep_load l SET open_count = l.open_count + 1," \
	" new_count = CASE WHEN NOT $4 THEN l.new_count" \
	"  WHEN l.new_day = $2 THEN l.new_count + 1 ELSE 1 END," \
	" new_day = CASE WHEN $4 THEN $2 ELSE l.new_day END," \
	" last_assigned_at = $3"
	if (conditional)
		return leadflow_plan(&claim_plan,
							 COUNTERS_SET
							 " FROM leadflow.rep r"
							 " WHERE l.rep_id = $1 AND r.id = l.rep_id"
							 " AND l.open_count < r.max_open"
							 " AND (NOT $4 OR l.new_day IS DISTINCT FROM $2"
							 "      OR l.new_count < r.max_new_per_day)",
							 4, argtypes);
	return leadflow_plan(&force_plan,
						 COUNTERS_SET " WHERE l.rep_id = $1",
						 4, argtypes);
#undef COUNTERS_SET
}

/*
 * Take a seat in the rep's pipeline if the caps allow it.  count_as_new
 * also takes one of today's new-lead slots.  Returns false when a cap is
 * reached (possibly by a concurrent transaction that just committed).
 */
bool
caps_claim(RepConfig *rep, TimestampTz now, bool count_as_new)
{
	SPIPlanPtr	plan = counters_plan(true);

	if (update_counters(plan, rep, now, count_as_new))
		return true;
	if (ensure_counter_row(rep->id))
		return update_counters(plan, rep, now, count_as_new);
	return false;
}

/* Take a seat regardless of the caps (imports, manager overrides). */
void
caps_force(RepConfig *rep, TimestampTz now, bool count_as_new)
{
	SPIPlanPtr	plan = counters_plan(false);

	if (!update_counters(plan, rep, now, count_as_new))
	{
		ensure_counter_row(rep->id);
		update_counters(plan, rep, now, count_as_new);
	}
}

/* Give back a seat: the lead closed or left the rep. */
void
caps_release(int32 rep_id)
{
	static const Oid argtypes[] = {INT4OID};
	Datum		arg = Int32GetDatum(rep_id);

	if (SPI_execute_plan(leadflow_plan(&release_plan,
									   "UPDATE leadflow.rep_load"
									   " SET open_count = open_count - 1"
									   " WHERE rep_id = $1",
									   1, argtypes),
						 &arg, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "leadflow: could not release rep counters");
}

/* Count a closed lead for the performance strategy. */
void
caps_record_outcome(int32 rep_id, bool won)
{
	static const Oid argtypes[] = {INT4OID, BOOLOID};
	Datum		args[2];

	args[0] = Int32GetDatum(rep_id);
	args[1] = BoolGetDatum(won);
	ensure_counter_row(rep_id);
	if (SPI_execute_plan(leadflow_plan(&outcome_plan,
									   "UPDATE leadflow.rep_load"
									   " SET closed_count = closed_count + 1,"
									   " won_count = won_count + $2::int"
									   " WHERE rep_id = $1",
									   2, argtypes),
						 args, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "leadflow: could not record a closed lead");
}

/*
 * Lock two reps' counter rows in rep id order before a move touches both,
 * so that two moves in opposite directions cannot deadlock.
 */
void
caps_lock(int32 rep_a, int32 rep_b)
{
	static SPIPlanPtr lock_plan = NULL;
	static const Oid argtypes[] = {INT4OID, INT4OID};
	Datum		args[2];

	args[0] = Int32GetDatum(rep_a);
	args[1] = Int32GetDatum(rep_b);
	if (SPI_execute_plan(leadflow_plan(&lock_plan,
									   "SELECT 1 FROM leadflow.rep_load"
									   " WHERE rep_id IN ($1, $2) ORDER BY rep_id FOR UPDATE",
									   2, argtypes),
						 args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "leadflow: could not lock rep counters");
}
