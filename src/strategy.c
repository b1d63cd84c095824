/*
 * strategy.c
 *	  Picking one eligible member of a queue, deterministically.
 *
 * Each strategy puts the eligible candidates in order of preference (ties
 * always go to the lowest rep id); routing claims a seat from the first,
 * and falls back to the next when a concurrent transaction took the last
 * seat.  Rotation state lives in leadflow.member_state, per queue and rep,
 * and is only read and written while the queue's routing lock is held
 * (routing.c), so concurrent routers see each other's turns.
 *
 *	round_robin    least recently assigned in this queue first (never first
 *				   of all).  "Recently" is a turn number, not a time: many
 *				   leads can be routed at the same instant (one INSERT,
 *				   one transaction, a fixed clock).
 *	weighted       smooth weighted round robin: every eligible member's
 *				   current weight grows by its weight, the largest is picked
 *				   and pays back the total.  With weights 3:1 that gives
 *				   a,a,b,a, a,a,b,a, ... -- exact shares, interleaved.
 *	load_balanced  lowest open/max_open first.
 *	performance    smooth weighted round robin whose weights are each rep's
 *				   conversion rate smoothed toward the queue's: a rep with
 *				   little history starts near the average, not at zero.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "routing.h"

/* Closed leads a rep's own rate is worth as much as the queue's average. */
#define PERFORMANCE_PRIOR_LEADS 20.0
/* Scale of derived performance weights (a rate of 1.0 weighs this much). */
#define PERFORMANCE_WEIGHT_SCALE 1000

static SPIPlanPtr state_plan = NULL;
static SPIPlanPtr commit_plan = NULL;

static bool
uses_weights(Strategy s)
{
	return s == STRATEGY_WEIGHTED || s == STRATEGY_PERFORMANCE;
}

/* Read the queue's rotation state into the candidates. */
void
strategy_load_state(QueueConfig *queue, Candidate *cands, int ncands)
{
	static const Oid argtypes[] = {TEXTOID};
	Datum		arg = CStringGetTextDatum(queue->name);
	uint64		row;
	int			i;

	if (SPI_execute_plan(leadflow_plan(&state_plan,
									   "SELECT rep_id, last_assigned_at, current_weight, last_turn"
									   " FROM leadflow.member_state WHERE queue = $1",
									   1, argtypes),
						 &arg, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "leadflow: could not read queue rotation state");

	for (row = 0; row < SPI_processed; row++)
	{
		HeapTuple	t = SPI_tuptable->vals[row];
		TupleDesc	d = SPI_tuptable->tupdesc;
		bool		isnull;
		int32		rep_id = DatumGetInt32(SPI_getbinval(t, d, 1, &isnull));

		for (i = 0; i < ncands; i++)
		{
			Datum		last;

			if (cands[i].rep->id != rep_id)
				continue;
			last = SPI_getbinval(t, d, 2, &isnull);
			cands[i].has_last_assigned = !isnull;
			cands[i].last_assigned_at = isnull ? 0 : DatumGetTimestampTz(last);
			cands[i].current_weight = DatumGetInt64(SPI_getbinval(t, d, 3, &isnull));
			cands[i].last_turn = DatumGetInt64(SPI_getbinval(t, d, 4, &isnull));
		}
	}
}

/*
 * Performance weights: each rep's won/closed rate, smoothed toward the
 * rate of all the queue's members together.
 */
static void
derive_performance_weights(Candidate *cands, int ncands)
{
	double		won = 0,
				closed = 0,
				average;
	int			i;

	for (i = 0; i < ncands; i++)
	{
		won += cands[i].won;
		closed += cands[i].closed;
	}
	average = closed > 0 ? won / closed : 0.5;
	for (i = 0; i < ncands; i++)
	{
		double		rate = (cands[i].won + PERFORMANCE_PRIOR_LEADS * average) /
			(cands[i].closed + PERFORMANCE_PRIOR_LEADS);

		/* +1 so that a rep with a zero rate still gets an occasional turn */
		cands[i].weight = (int32) (rate * PERFORMANCE_WEIGHT_SCALE) + 1;
	}
}

/* The sort key context: qsort_arg passes the candidates array. */
typedef struct OrderContext
{
	Candidate  *cands;
	Strategy	strategy;
} OrderContext;

static int
compare_candidates(const void *a, const void *b, void *arg)
{
	OrderContext *ctx = (OrderContext *) arg;
	Candidate  *x = &ctx->cands[*(const int *) a];
	Candidate  *y = &ctx->cands[*(const int *) b];

	switch (ctx->strategy)
	{
		case STRATEGY_ROUND_ROBIN:
			if (x->last_turn != y->last_turn)
				return x->last_turn < y->last_turn ? -1 : 1;
			break;
		case STRATEGY_WEIGHTED:
		case STRATEGY_PERFORMANCE:
			{
				int64		xw = x->current_weight + x->weight;
				int64		yw = y->current_weight + y->weight;

				if (xw != yw)
					return xw > yw ? -1 : 1;
				break;
			}
		case STRATEGY_LOAD_BALANCED:
			{
				/* compare open/max_open without division: max_open > 0 here */
				int64		xl = (int64) x->open_count * y->rep->max_open;
				int64		yl = (int64) y->open_count * x->rep->max_open;

				if (xl != yl)
					return xl < yl ? -1 : 1;
				break;
			}
	}
	return (x->rep->id > y->rep->id) - (x->rep->id < y->rep->id);
}

/*
 * Put the eligible candidates' indexes in order of preference into
 * order[]; returns how many there are.
 */
int
strategy_order(QueueConfig *queue, Candidate *cands, int ncands, int *order)
{
	OrderContext ctx;
	int			n = 0;
	int			i;

	if (queue->strategy == STRATEGY_PERFORMANCE)
		derive_performance_weights(cands, ncands);
	for (i = 0; i < ncands; i++)
		if (cands[i].reason == NULL)
			order[n++] = i;
	ctx.cands = cands;
	ctx.strategy = queue->strategy;
	qsort_arg(order, n, sizeof(int), compare_candidates, &ctx);
	return n;
}

/*
 * Record the turn: the chosen rep's last assignment, and for the weighted
 * strategies every participant's new current weight.
 */
void
strategy_commit(QueueConfig *queue, Candidate *cands, int ncands, int chosen,
				TimestampTz now)
{
	static const Oid argtypes[] = {TEXTOID, INT4ARRAYOID, INT8ARRAYOID, INT4OID,
	TIMESTAMPTZOID, INT8OID};
	Datum	   *ids = palloc(sizeof(Datum) * ncands);
	Datum	   *weights = palloc(sizeof(Datum) * ncands);
	int64		total = 0;
	int64		turn = 0;
	int			n = 0;
	int			i;
	Datum		args[6];

	if (uses_weights(queue->strategy))
	{
		for (i = 0; i < ncands; i++)
			if (cands[i].reason == NULL || i == chosen)
				total += cands[i].weight;
		for (i = 0; i < ncands; i++)
		{
			if (cands[i].reason != NULL && i != chosen)
				continue;
			cands[i].current_weight += cands[i].weight;
			if (i == chosen)
				cands[i].current_weight -= total;
			ids[n] = Int32GetDatum(cands[i].rep->id);
			weights[n++] = Int64GetDatum(cands[i].current_weight);
		}
	}
	else
	{
		ids[n] = Int32GetDatum(cands[chosen].rep->id);
		weights[n++] = Int64GetDatum(cands[chosen].current_weight);
	}

	args[0] = CStringGetTextDatum(queue->name);
	args[1] = PointerGetDatum(construct_array(ids, n, INT4OID, sizeof(int32),
											  true, TYPALIGN_INT));
	args[2] = PointerGetDatum(construct_array(weights, n, INT8OID, sizeof(int64),
											  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	/* the chosen member's turn is the queue's newest */
	for (i = 0; i < ncands; i++)
		turn = Max(turn, cands[i].last_turn);
	args[3] = Int32GetDatum(cands[chosen].rep->id);
	args[4] = TimestampTzGetDatum(now);
	args[5] = Int64GetDatum(turn + 1);
	if (SPI_execute_plan(leadflow_plan(&commit_plan,
									   "INSERT INTO leadflow.member_state AS s"
									   " (queue, rep_id, current_weight, last_assigned_at, last_turn)"
									   " SELECT $1, u.rep_id, u.w,"
									   "  CASE WHEN u.rep_id = $4 THEN $5 END,"
									   "  CASE WHEN u.rep_id = $4 THEN $6 ELSE 0 END"
									   " FROM unnest($2, $3) AS u(rep_id, w)"
									   " ON CONFLICT (queue, rep_id) DO UPDATE"
									   " SET current_weight = EXCLUDED.current_weight,"
									   "  last_assigned_at = coalesce(EXCLUDED.last_assigned_at,"
									   "                              s.last_assigned_at),"
									   "  last_turn = greatest(EXCLUDED.last_turn, s.last_turn)",
									   6, argtypes),
						 args, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "leadflow: could not record the queue's turn");
	pfree(ids);
	pfree(weights);
}
