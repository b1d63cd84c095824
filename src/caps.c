/*
 * caps.c
 *	  Per-rep counters (leadflow.rep_load) and the claims that keep pipeline
 *	  caps from ever being exceeded.
 *
 * Claiming a seat locks the rep's counter row (SELECT ... FOR UPDATE, which
 * in READ COMMITTED waits for a concurrent claimer and then returns the row
 * as that one committed it) and checks the caps against it.  The lock is
 * held to the end of the transaction, so no other transaction can take the
 * seat in between: two transactions can never both take a rep's last seat,
 * and the loser moves on to the next candidate.
 *
 * Counting in memory.  A bulk INSERT routes thousands of leads to the same
 * few reps in one transaction.  Writing the counter row for every lead
 * would leave thousands of versions of it that every later read must walk
 * (none can be pruned before the transaction ends), making a bulk load
 * quadratic.  So once a rep's row is locked, its changes are kept here as
 * deltas and written once when the statement ends (caps_flush, by
 * routing_flush in routing_api.c: from the statement trigger on
 * leadflow.lead and from the routing functions).
 * Deltas are tagged with the subtransaction that made them, so a rolled
 * back savepoint takes exactly its own changes with it.
 *
 * Lock order.  Routing must lock a counter row before it decides (the
 * decision depends on the locked count).  Everything else that changes
 * counters -- a seat given back, a closed lead's outcome, a manual move or
 * an import, which only need the caps checked -- changes them in memory
 * and locks the rows when the statement ends, in rep id order, and checks
 * the caps then (caps_claim_later): a statement that moves or imports many
 * leads then takes its reps' locks in one order, whatever the order of
 * its rows, so two such statements cannot deadlock over them.  The sweep
 * and route_pending lock every counter row first, in rep id order
 * (caps_lock_all).
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "pgtime.h"
#include "utils/array.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"

#include "caps.h"
#include "business_time.h"
#include "index_probe.h"
#include "spi_plans.h"
#include "util.h"

/* Changes one subtransaction made to one rep's counters. */
typedef struct CounterDelta
{
	SubTransactionId subxid;
	int32		open;
	int32		new_count;		/* new leads, all on RepCounters.delta_day */
	int64		won;
	int64		closed;
	bool		has_last;		/* took a seat: last_assigned_at moves to last */
	TimestampTz last;
	/* seats taken before the row was locked, whose caps are checked then */
	int32		unchecked_open;
	int32		unchecked_new;
	int64		unchecked_lead; /* the latest of those leads, for the message */
} CounterDelta;

#define MAX_DELTAS 8			/* nesting depth of savepoints we track */

typedef struct RepCounters
{
	int32		rep_id;			/* hash key */
	/* the row as this transaction last read or wrote it */
	bool		base_valid;
	SubTransactionId locked_subxid;	/* who holds the row lock */
	SubTransactionId flushed_subxid;	/* who last wrote the row */
	int32		open_count;
	bool		has_new_day;
	DateADT		new_day;
	int32		new_count;
	int64		won;
	int64		closed;
	bool		has_last_assigned;
	TimestampTz last_assigned_at;
	/* not yet written (a rolled back subtransaction takes its delta away) */
	DateADT		delta_day;
	int			ndeltas;
	CounterDelta deltas[MAX_DELTAS];
	/* the caps an unchecked seat is checked against (caps_claim_later) */
	char	   *rep_name;
	int32		max_open;
	int32		max_new_per_day;
} RepCounters;

static HTAB *counters = NULL;

/* The latest seat taken, so that a row never inserted can give it back. */
static SeatTaken last_seat;
static uint64 seats_taken = 0;

static SPIPlanPtr lock_plan = NULL;
static SPIPlanPtr ensure_plan = NULL;
static SPIPlanPtr write_plan = NULL;
static SPIPlanPtr lock_all_plan = NULL;

/*
 * The rep's own calendar date at "now": daily caps count local days.
 * Remembered for the last "now" asked about: a sweep or a multi-row
 * INSERT asks it of every candidate of every lead at one instant.
 */
DateADT
rep_local_date(RepConfig *rep, TimestampTz now)
{
	if (!rep->has_local_date || rep->local_date_of != now)
	{
		rep->local_date = bt_local_date(&rep->sched, now);
		rep->local_date_of = now;
		rep->has_local_date = true;
	}
	return rep->local_date;
}

/* ----- the in-memory counters ----- */

static RepCounters *
counters_entry(int32 rep_id, bool create)
{
	bool		found;
	RepCounters *e;

	if (counters == NULL)
	{
		HASHCTL		ctl;

		if (!create)
			return NULL;
		ctl.keysize = sizeof(int32);
		ctl.entrysize = sizeof(RepCounters);
		ctl.hcxt = TopTransactionContext;
		counters = hash_create("leadflow rep counters", 64, &ctl,
							   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	e = hash_search(counters, &rep_id, create ? HASH_ENTER : HASH_FIND, &found);
	if (e != NULL && !found)
	{
		memset(e, 0, sizeof(*e));
		e->rep_id = rep_id;
	}
	return e;
}

/* The delta record of the current subtransaction, made if needed. */
static CounterDelta *
current_delta(RepCounters *e)
{
	SubTransactionId subxid = GetCurrentSubTransactionId();
	CounterDelta *d;

	if (e->ndeltas > 0 && e->deltas[e->ndeltas - 1].subxid == subxid)
		return &e->deltas[e->ndeltas - 1];
	if (e->ndeltas >= MAX_DELTAS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("leadflow cannot track routing across more than %d nested savepoints",
						MAX_DELTAS)));
	d = &e->deltas[e->ndeltas++];
	memset(d, 0, sizeof(*d));
	d->subxid = subxid;
	return d;
}

/* Counters as they stand for this transaction: row plus pending deltas. */
static void
effective(const RepCounters *e, DateADT today, int32 *open, int32 *new_today,
		  int64 *won, int64 *closed)
{
	int			i;

	*open = e->open_count;
	*new_today = (e->has_new_day && e->new_day == today) ? e->new_count : 0;
	*won = e->won;
	*closed = e->closed;
	for (i = 0; i < e->ndeltas; i++)
	{
		*open += e->deltas[i].open;
		if (e->delta_day == today)
			*new_today += e->deltas[i].new_count;
		*won += e->deltas[i].won;
		*closed += e->deltas[i].closed;
	}
}

static bool
has_pending(const RepCounters *e)
{
	return e->ndeltas > 0;
}

static bool
pending_new(const RepCounters *e)
{
	int			i;

	for (i = 0; i < e->ndeltas; i++)
		if (e->deltas[i].new_count != 0)
			return true;
	return false;
}

/* The columns of a counter row, in COUNTER_COLUMNS' order. */
#define COUNTER_NCOLUMNS 6

/* Copy a counter row (open, new_day, new_count, won, closed, last) into e. */
static void
base_from_values(RepCounters *e, const Datum *values, const bool *nulls)
{
	e->open_count = DatumGetInt32(values[0]);
	e->has_new_day = !nulls[1];
	e->new_day = nulls[1] ? 0 : DatumGetDateADT(values[1]);
	e->new_count = DatumGetInt32(values[2]);
	e->won = DatumGetInt64(values[3]);
	e->closed = DatumGetInt64(values[4]);
	e->has_last_assigned = !nulls[5];
	e->last_assigned_at = nulls[5] ? 0 : DatumGetTimestampTz(values[5]);
}

/* The same from an SPI result row whose counter columns start at first. */
static void
base_from_row(RepCounters *e, HeapTuple t, TupleDesc d, int first)
{
	Datum		values[COUNTER_NCOLUMNS];
	bool		nulls[COUNTER_NCOLUMNS];
	int			i;

	for (i = 0; i < COUNTER_NCOLUMNS; i++)
		values[i] = SPI_getbinval(t, d, first + i, &nulls[i]);
	base_from_values(e, values, nulls);
}

#define COUNTER_COLUMNS "open_count, new_day, new_count, won_count, closed_count, last_assigned_at"

/*
 * The highest rep id whose counter row this transaction has locked (it
 * may have given some back with a rolled-back savepoint: then it only
 * makes routing more careful than it need be).
 */
static int32 highest_locked = 0;

static void
take_locked_row(RepCounters *e, HeapTuple t, TupleDesc d, int first)
{
	base_from_row(e, t, d, first);
	e->base_valid = true;
	e->locked_subxid = GetCurrentSubTransactionId();
	highest_locked = Max(highest_locked, e->rep_id);
}

/*
 * Lock the rep's counter row and read it, creating it if missing.  With
 * only_upward, the row of a rep whose id is below one this transaction
 * holds is not waited for -- waiting downward is how two transactions
 * would each wait for the other -- and false says another transaction
 * holds it now.
 */
static bool
lock_counters_if(RepCounters *e, bool only_upward)
{
	static SPIPlanPtr skip_plan = NULL;
	static SPIPlanPtr exists_plan = NULL;
	static const Oid argtypes[] = {INT4OID};
	Datum		arg = Int32GetDatum(e->rep_id);
	bool		no_wait = only_upward && e->rep_id < highest_locked;
	int			attempt;

	if (e->base_valid)
		return true;
	for (attempt = 0; attempt < 2; attempt++)
	{
		SPIPlanPtr	plan = no_wait
			? leadflow_plan(&skip_plan,
							"SELECT " COUNTER_COLUMNS
							" FROM leadflow.rep_load WHERE rep_id = $1 FOR UPDATE SKIP LOCKED",
							1, argtypes)
			: leadflow_plan(&lock_plan,
							"SELECT " COUNTER_COLUMNS
							" FROM leadflow.rep_load WHERE rep_id = $1 FOR UPDATE",
							1, argtypes);

		if (SPI_execute_plan(plan, &arg, NULL, false, 1) != SPI_OK_SELECT)
			elog(ERROR, "leadflow: could not lock rep counters");
		if (SPI_processed == 1)
		{
			take_locked_row(e, SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
			return true;
		}
		if (no_wait)
		{
			/* skipped: another transaction holds it, or there is none yet */
			if (SPI_execute_plan(leadflow_plan(&exists_plan,
											   "SELECT FROM leadflow.rep_load WHERE rep_id = $1",
											   1, argtypes),
								 &arg, NULL, false, 1) != SPI_OK_SELECT)
				elog(ERROR, "leadflow: could not read rep counters");
			if (SPI_processed == 1)
				return false;
		}
		if (SPI_execute_plan(leadflow_plan(&ensure_plan,
										   "INSERT INTO leadflow.rep_load (rep_id) VALUES ($1)"
										   " ON CONFLICT (rep_id) DO NOTHING",
										   1, argtypes),
							 &arg, NULL, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "leadflow: could not create rep counters");
	}
	elog(ERROR, "leadflow: counters of rep %d vanished", e->rep_id);
	return false;				/* not reached */
}

/* Lock the rep's counter row and read it, creating it if missing. */
static void
lock_counters(RepCounters *e)
{
	(void) lock_counters_if(e, false);
}

/*
 * The unlocked read of counter rows, straight from rep_load's primary key
 * (index_probe.c): every lead reads the rows of the members this
 * transaction has not locked, and members a strategy never picks stay
 * unlocked for the whole statement.
 */
static IndexProbe counters_probe = {
	.relname = "rep_load", .key = "rep_id",
	.columns = {"open_count", "new_day", "new_count", "won_count", "closed_count",
	"last_assigned_at", "rep_id"}
};

typedef struct CapsLoad
{
	Candidate  *cands;
	int			ncands;
	TimestampTz now;
} CapsLoad;

/* One counter row read: the counts of the candidates that are its rep. */
static bool
caps_load_row(const IndexProbe *probe, TupleTableSlot *slot, void *arg)
{
	CapsLoad   *load = (CapsLoad *) arg;
	Datum		values[COUNTER_NCOLUMNS];
	bool		nulls[COUNTER_NCOLUMNS];
	bool		isnull;
	int32		rep_id = DatumGetInt32(index_probe_value(probe, slot, COUNTER_NCOLUMNS, &isnull));
	int			i;

	for (i = 0; i < COUNTER_NCOLUMNS; i++)
		values[i] = index_probe_value(probe, slot, i, &nulls[i]);
	for (i = 0; i < load->ncands; i++)
	{
		Candidate  *c = &load->cands[i];
		RepCounters tmp;
		RepCounters *pending;

		if (c->rep->id != rep_id)
			continue;
		/* an unlocked read, plus any deltas kept from before a rollback */
		memset(&tmp, 0, sizeof(tmp));
		base_from_values(&tmp, values, nulls);
		pending = counters_entry(rep_id, false);
		if (pending != NULL)
		{
			tmp.delta_day = pending->delta_day;
			tmp.ndeltas = pending->ndeltas;
			memcpy(tmp.deltas, pending->deltas, sizeof(tmp.deltas));
		}
		effective(&tmp, rep_local_date(c->rep, load->now), &c->open_count,
				  &c->new_today, &c->won, &c->closed);
	}
	return true;
}

/*
 * Fill each candidate's open and new-today counts and its outcome history:
 * from memory for reps this transaction holds, from the table (one probe
 * of each other rep's row) for the rest.  Reps without a row yet count as
 * empty.
 */
void
caps_load(Candidate *cands, int ncands, TimestampTz now)
{
	Datum	   *ids = palloc(sizeof(Datum) * Max(ncands, 1));
	int			nids = 0;
	int			i;
	CapsLoad	load = {cands, ncands, now};

	for (i = 0; i < ncands; i++)
	{
		RepCounters *e = counters_entry(cands[i].rep->id, false);
		int			j;

		if (e != NULL && e->base_valid)
		{
			effective(e, rep_local_date(cands[i].rep, now), &cands[i].open_count,
					  &cands[i].new_today, &cands[i].won, &cands[i].closed);
			continue;
		}
		/* each rep's row once, as "rep_id = ANY ($1)" reads it */
		for (j = 0; j < i && cands[j].rep->id != cands[i].rep->id; j++)
			;
		if (j == i)
			ids[nids++] = Int32GetDatum(cands[i].rep->id);
	}
	if (nids > 0 && !index_probe_keys(&counters_probe, ids, nids, caps_load_row, &load))
		elog(ERROR, "leadflow: table leadflow.rep_load is missing");
	pfree(ids);
}

/* Write one rep's pending changes: the one UPDATE of its row. */
static void
flush_counters(RepCounters *e)
{
	static const Oid argtypes[] = {INT4OID, INT4OID, DATEOID, INT4OID, INT8OID, INT8OID,
	TIMESTAMPTZOID};
	Datum		args[7];
	char		nulls[7] = {' ', ' ', ' ', ' ', ' ', ' ', ' '};
	int32		open,
				new_today;
	int64		won,
				closed;
	bool		has_day;
	DateADT		day;
	int			i;

	lock_counters(e);			/* after a rolled-back savepoint, re-read */
	/* the latest seat taken sets last_assigned_at */
	for (i = 0; i < e->ndeltas; i++)
		if (e->deltas[i].has_last)
		{
			e->has_last_assigned = true;
			e->last_assigned_at = e->deltas[i].last;
		}
	/* the day new_count counts: the pending new leads', else the row's */
	has_day = pending_new(e) || e->has_new_day;
	day = pending_new(e) ? e->delta_day : e->new_day;
	effective(e, day, &open, &new_today, &won, &closed);

	args[0] = Int32GetDatum(e->rep_id);
	args[1] = Int32GetDatum(open);
	args[2] = DateADTGetDatum(day);
	nulls[2] = has_day ? ' ' : 'n';
	args[3] = Int32GetDatum(new_today);
	args[4] = Int64GetDatum(won);
	args[5] = Int64GetDatum(closed);
	args[6] = TimestampTzGetDatum(e->last_assigned_at);
	nulls[6] = e->has_last_assigned ? ' ' : 'n';
	if (SPI_execute_plan(leadflow_plan(&write_plan,
									   "UPDATE leadflow.rep_load SET open_count = $2,"
									   " new_day = $3, new_count = $4, won_count = $5,"
									   " closed_count = $6, last_assigned_at = $7"
									   " WHERE rep_id = $1",
									   7, argtypes),
						 args, nulls, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "leadflow: could not write rep counters");

	e->open_count = open;
	e->has_new_day = has_day;
	e->new_day = day;
	e->new_count = new_today;
	e->won = won;
	e->closed = closed;
	e->ndeltas = 0;
	e->flushed_subxid = GetCurrentSubTransactionId();
}

/*
 * Refuse a seat over a cap: 23514 naming the rep, the cap and the count.
 * Nothing is written: the statement fails.
 */
void
caps_refuse(const char *rep_name, int32 rep_id, const char *cap, int32 limit,
			int32 count, int64 lead_id)
{
	ereport(ERROR,
			(errcode(ERRCODE_CHECK_VIOLATION),
			 errmsg("rep \"%s\" is at its cap %s = %d (has %d)",
					rep_name, cap, limit, count),
			 errdetail("Lead " INT64_FORMAT " was not given to rep %d.", lead_id, rep_id),
			 errhint("Raise the rep's %s in leadflow.rep, choose another rep, or, as a member of leadflow_manager, SET leadflow.override_caps = on.",
					 cap)));
}

/*
 * Check the seats a statement took before the rep's row was locked
 * (caps_claim_later), now that it is: the rep may end the statement at
 * its caps, not past them (or, when it was past them already, not further
 * past).  The count reported is what the rep had before the seat refused.
 */
static void
check_unchecked(RepCounters *e)
{
	int32		open,
				new_today,
				unchecked_open = 0,
				unchecked_new = 0;
	int64		won,
				closed,
				lead = 0;
	int			i;

	for (i = 0; i < e->ndeltas; i++)
	{
		unchecked_open += e->deltas[i].unchecked_open;
		unchecked_new += e->deltas[i].unchecked_new;
		if (e->deltas[i].unchecked_lead != 0)
			lead = e->deltas[i].unchecked_lead;
	}
	if (unchecked_open == 0 && unchecked_new == 0)
		return;
	effective(e, e->delta_day, &open, &new_today, &won, &closed);
	if (unchecked_open > 0 && open > e->max_open)
		caps_refuse(e->rep_name, e->rep_id, "max_open", e->max_open,
					Max(e->max_open, open - unchecked_open), lead);
	if (unchecked_new > 0 && new_today > e->max_new_per_day)
		caps_refuse(e->rep_name, e->rep_id, "max_new_per_day", e->max_new_per_day,
					Max(e->max_new_per_day, new_today - unchecked_new), lead);
	for (i = 0; i < e->ndeltas; i++)
	{
		e->deltas[i].unchecked_open = e->deltas[i].unchecked_new = 0;
		e->deltas[i].unchecked_lead = 0;
	}
}

static int
compare_rep_ids(const void *a, const void *b)
{
	int32		x = (*(RepCounters *const *) a)->rep_id;
	int32		y = (*(RepCounters *const *) b)->rep_id;

	return (x > y) - (x < y);
}

/* Whether this flush may write the entry (see caps_flush). */
static bool
flushable(const RepCounters *e, SubTransactionId subxid)
{
	return has_pending(e) &&
		!(e->ndeltas > 1 || (e->ndeltas == 1 && e->deltas[0].subxid != subxid));
}

/*
 * Write the pending counter changes of this subtransaction.  A rep that
 * also has changes from an enclosing subtransaction is left for the
 * enclosing statement's flush: writing them here would lose them if this
 * subtransaction rolled back.  Rows not locked yet are locked first, in
 * rep id order, and seats taken before their lock are checked against the
 * caps.  The caller is connected to SPI.
 */
void
caps_flush(void)
{
	SubTransactionId subxid = GetCurrentSubTransactionId();
	HASH_SEQ_STATUS status;
	RepCounters *e;
	RepCounters **todo;
	int			n = 0,
				max,
				i;

	if (counters == NULL)
		return;
	max = hash_get_num_entries(counters);
	todo = palloc(sizeof(RepCounters *) * Max(max, 1));
	hash_seq_init(&status, counters);
	while ((e = hash_seq_search(&status)) != NULL)
		if (flushable(e, subxid))
			todo[n++] = e;
	qsort(todo, n, sizeof(RepCounters *), compare_rep_ids);
	for (i = 0; i < n; i++)
		lock_counters(todo[i]);
	for (i = 0; i < n; i++)
		check_unchecked(todo[i]);
	for (i = 0; i < n; i++)
		flush_counters(todo[i]);
	pfree(todo);
}

/*
 * Lock every rep's counter row, in rep id order, and read it: for the
 * sweep and route_pending, which route many leads among many reps in one
 * transaction and would otherwise lock the rows in the order their leads
 * need them.  The caller is connected to SPI.
 */
void
caps_lock_all(void)
{
	SPIPlanPtr	plan = leadflow_plan(&lock_all_plan,
									 "SELECT rep_id, " COUNTER_COLUMNS
									 " FROM leadflow.rep_load ORDER BY rep_id FOR UPDATE",
									 0, NULL);
	uint64		row;

	if (SPI_execute_plan(plan, NULL, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "leadflow: could not lock the rep counters");
	for (row = 0; row < SPI_processed; row++)
	{
		bool		isnull;
		int32		rep_id = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[row],
														 SPI_tuptable->tupdesc, 1, &isnull));
		RepCounters *e = counters_entry(rep_id, true);

		if (!e->base_valid)
			take_locked_row(e, SPI_tuptable->vals[row], SPI_tuptable->tupdesc, 2);
	}
}

/* Forget every counter kept in memory: the rows were reset (TRUNCATE). */
void
caps_reset(void)
{
	if (counters != NULL)
		hash_destroy(counters);
	counters = NULL;
}

/* Start a day's new-lead count for the rep's pending deltas. */
static void
set_delta_day(RepCounters *e, DateADT today)
{
	if (pending_new(e) && e->delta_day != today)
		flush_counters(e);		/* the clock crossed midnight: settle the old day */
	e->delta_day = today;
}

static void
take_seat(RepCounters *e, TimestampTz now, DateADT today, bool count_as_new)
{
	CounterDelta *d;

	set_delta_day(e, today);	/* may write the row, so fetch d after it */
	d = current_delta(e);
	last_seat.rep_id = e->rep_id;
	last_seat.count_as_new = count_as_new;
	last_seat.had_last = d->has_last;
	last_seat.last = d->last;
	last_seat.unchecked = false;
	seats_taken++;
	d->open++;
	if (count_as_new)
		d->new_count++;
	d->has_last = true;
	d->last = now;
}

/*
 * Take a seat in the rep's pipeline if the caps allow it.  count_as_new
 * also takes one of today's new-lead slots.  Returns false when a cap is
 * reached (possibly by a concurrent transaction that just committed), or
 * when another transaction holds the counters of a rep below one this
 * transaction holds (routing then takes the next candidate rather than
 * wait downward, see lock_counters_if).
 */
bool
caps_claim(RepConfig *rep, TimestampTz now, bool count_as_new)
{
	int32		open_before;

	return caps_claim_counted(rep, now, count_as_new, &open_before);
}

/*
 * caps_claim, with the rep's open leads before the seat as its locked
 * counter row says (*open_before): routing's read before the claim may be
 * a seat behind a router still committing.
 */
bool
caps_claim_counted(RepConfig *rep, TimestampTz now, bool count_as_new, int32 *open_before)
{
	RepCounters *e = counters_entry(rep->id, true);
	DateADT		today = rep_local_date(rep, now);
	int32		open,
				new_today;
	int64		won,
				closed;

	if (!lock_counters_if(e, true))
		return false;
	effective(e, today, &open, &new_today, &won, &closed);
	if (open >= rep->max_open || (count_as_new && new_today >= rep->max_new_per_day))
		return false;
	*open_before = open;
	take_seat(e, now, today, count_as_new);
	return true;
}

/* Take a seat regardless of the caps (imports, manager overrides). */
void
caps_force(RepConfig *rep, TimestampTz now, bool count_as_new)
{
	RepCounters *e = counters_entry(rep->id, true);

	lock_counters(e);
	take_seat(e, now, rep_local_date(rep, now), count_as_new);
}

/*
 * Take a seat whatever the caps, for history imported as given (it
 * happened already): written when the statement ends, which locks the
 * reps' rows in rep id order, like caps_claim_later's seats -- but never
 * refused.
 */
void
caps_force_later(RepConfig *rep, TimestampTz now, bool count_as_new)
{
	take_seat(counters_entry(rep->id, true), now, rep_local_date(rep, now), count_as_new);
}

/*
 * Take a seat for a lead moved by hand, cap-checked: now when
 * this transaction holds the rep's row already, else when the statement
 * ends and locks it (caps_flush).  Over a cap it fails with 23514 naming
 * the rep, the cap and lead_id.
 */
void
caps_claim_later(RepConfig *rep, TimestampTz now, bool count_as_new, int64 lead_id)
{
	RepCounters *e = counters_entry(rep->id, true);
	DateADT		today = rep_local_date(rep, now);
	CounterDelta *d;

	if (e->base_valid)
	{
		int32		open,
					new_today;
		int64		won,
					closed;

		effective(e, today, &open, &new_today, &won, &closed);
		if (open >= rep->max_open)
			caps_refuse(rep->name, rep->id, "max_open", rep->max_open, open, lead_id);
		if (count_as_new && new_today >= rep->max_new_per_day)
			caps_refuse(rep->name, rep->id, "max_new_per_day", rep->max_new_per_day,
						new_today, lead_id);
		take_seat(e, now, today, count_as_new);
		return;
	}
	if (e->rep_name == NULL || strcmp(e->rep_name, rep->name) != 0)
		e->rep_name = MemoryContextStrdup(TopTransactionContext, rep->name);
	e->max_open = rep->max_open;
	e->max_new_per_day = rep->max_new_per_day;
	take_seat(e, now, today, count_as_new);
	last_seat.unchecked = true;
	d = current_delta(e);
	d->unchecked_open++;
	if (count_as_new)
		d->unchecked_new++;
	d->unchecked_lead = lead_id;
}

/* How many seats this backend has taken: a change means one more was. */
uint64
caps_seats_taken(void)
{
	return seats_taken;
}

/* The latest seat taken (by caps_claim, caps_force or caps_claim_later). */
void
caps_last_seat(SeatTaken *seat)
{
	*seat = last_seat;
}

/*
 * Give back a seat taken for a row that was then not inserted (an upsert
 * that became an update): as if it had never been taken.
 */
void
caps_take_back(const SeatTaken *seat)
{
	RepCounters *e = counters_entry(seat->rep_id, true);
	CounterDelta *d = current_delta(e);

	d->open--;
	if (seat->count_as_new)
		d->new_count--;
	d->has_last = seat->had_last;
	d->last = seat->last;
	if (seat->unchecked)
	{
		d->unchecked_open--;
		if (seat->count_as_new)
			d->unchecked_new--;
	}
}

/* Give back a seat: the lead closed, left the rep or was deleted. */
void
caps_release(int32 rep_id)
{
	current_delta(counters_entry(rep_id, true))->open--;
}

/* Count a closed lead for the performance strategy. */
void
caps_record_outcome(int32 rep_id, bool won, int sign)
{
	CounterDelta *d = current_delta(counters_entry(rep_id, true));

	d->closed += sign;
	if (won)
		d->won += sign;
}

/*
 * Lock two reps' counter rows in rep id order before a move touches both,
 * so that two moves in opposite directions cannot deadlock.
 */
void
caps_lock(int32 rep_a, int32 rep_b)
{
	lock_counters(counters_entry(Min(rep_a, rep_b), true));
	lock_counters(counters_entry(Max(rep_a, rep_b), true));
}

/* ----- transaction boundaries ----- */

static void
counters_subxact(SubXactEvent event, SubTransactionId mySubid,
				 SubTransactionId parentSubid, void *arg)
{
	HASH_SEQ_STATUS status;
	RepCounters *e;

	if (counters == NULL ||
		(event != SUBXACT_EVENT_COMMIT_SUB && event != SUBXACT_EVENT_ABORT_SUB))
		return;
	hash_seq_init(&status, counters);
	while ((e = hash_seq_search(&status)) != NULL)
	{
		if (event == SUBXACT_EVENT_COMMIT_SUB)
		{
			/* the parent inherits the child's changes and its row lock */
			if (e->ndeltas > 0 && e->deltas[e->ndeltas - 1].subxid == mySubid)
			{
				if (e->ndeltas > 1 && e->deltas[e->ndeltas - 2].subxid == parentSubid)
				{
					CounterDelta *into = &e->deltas[e->ndeltas - 2];
					CounterDelta *from = &e->deltas[e->ndeltas - 1];

					into->open += from->open;
					into->new_count += from->new_count;
					into->won += from->won;
					into->closed += from->closed;
					into->unchecked_open += from->unchecked_open;
					into->unchecked_new += from->unchecked_new;
					if (from->unchecked_lead != 0)
						into->unchecked_lead = from->unchecked_lead;
					if (from->has_last)
					{
						into->has_last = true;
						into->last = from->last;
					}
					e->ndeltas--;
				}
				else
					e->deltas[e->ndeltas - 1].subxid = parentSubid;
			}
			if (e->locked_subxid == mySubid)
				e->locked_subxid = parentSubid;
			if (e->flushed_subxid == mySubid)
				e->flushed_subxid = parentSubid;
			continue;
		}
		/* abort: forget the child's changes; re-read a row it locked or wrote */
		if (e->ndeltas > 0 && e->deltas[e->ndeltas - 1].subxid == mySubid)
			e->ndeltas--;
		if (e->locked_subxid == mySubid || e->flushed_subxid == mySubid)
			e->base_valid = false;
	}
}

static void
counters_xact(XactEvent event, void *arg)
{
	if (xact_event_precedes_commit(event) && counters != NULL)
	{
		HASH_SEQ_STATUS status;
		RepCounters *e;

		hash_seq_init(&status, counters);
		while ((e = hash_seq_search(&status)) != NULL)
			if (has_pending(e))
				elog(ERROR, "leadflow: counters of rep %d were not written before commit",
					 e->rep_id);
	}
	if (xact_event_ends_transaction(event))
	{
		/* the table lives in TopTransactionContext, gone now */
		counters = NULL;
		highest_locked = 0;
	}
}

void
caps_init(void)
{
	RegisterXactCallback(counters_xact, NULL);
	RegisterSubXactCallback(counters_subxact, NULL);
}
