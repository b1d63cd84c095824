/*
 * strategy.c
 *	  The queue strategies' state: each queue's turns.
 *
 * The strategies' order of preference is pure and lives in rank.c; what
 * it works from -- the rotation state -- lives in leadflow.member_state,
 * per queue and rep, and is only read and written here, while the queue's
 * routing lock is held (routing.c), so concurrent routers see each other's
 * turns: strategy_load_state reads it into the candidates, strategy_commit
 * records the turn of the rep routing claimed, strategy_undo takes it back.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"

#include "strategy.h"
#include "spi_plans.h"

const char *const strategy_names[] = {
	"round_robin", "weighted", "load_balanced", "performance"
};

/* The Strategy of a leadflow.strategy label (as the configuration stores it). */
Strategy
strategy_from_name(const char *name)
{
	int			i;

	for (i = 0; i < (int) lengthof(strategy_names); i++)
		if (strcmp(name, strategy_names[i]) == 0)
			return (Strategy) i;
	elog(ERROR, "leadflow: unknown strategy \"%s\"", name);
	return STRATEGY_ROUND_ROBIN;	/* keep compiler quiet */
}

static SPIPlanPtr state_plan = NULL;
static SPIPlanPtr commit_plan = NULL;
static SPIPlanPtr update_plan = NULL;

static bool
uses_weights(Strategy s)
{
	return s == STRATEGY_WEIGHTED || s == STRATEGY_PERFORMANCE;
}

/*
 * Rotation state in memory.  Routing into a queue holds the queue's lock
 * to the end of the transaction, so once read, this transaction's copy of
 * the queue's state is the truth; it is written back once per statement
 * (strategy_flush) instead of once per lead, for the same reason as the
 * counters in caps.c.  A rolled-back savepoint drops the copy: the state is
 * read again, and at worst a turn is repeated -- fairness, never a cap.
 * A copy read without the lock (explain) is only a look: routing reads
 * the state again once it holds the lock (test/specs/explain_then_route.spec).
 */
typedef struct MemberTurn
{
	int32		rep_id;
	bool		has_last_assigned;
	TimestampTz last_assigned_at;
	int64		last_turn;
	int64		current_weight;
	bool		dirty;
} MemberTurn;

typedef struct QueueTurns
{
	char		name[NAMEDATALEN];	/* hash key; queue names are at most 63 bytes */
	int			nmembers;
	int			maxmembers;
	MemberTurn *members;
	bool		dirty;
	bool		locked;			/* read under the queue's lock: the truth */
} QueueTurns;

static HTAB *turns = NULL;
/* Bumped whenever the in-memory copy is thrown away (a rolled-back savepoint). */
static uint64 turns_generation = 0;

/* The member's entry, found by binary search (members are kept sorted). */
static MemberTurn *
member_turn(QueueTurns *q, int32 rep_id)
{
	int			lo = 0,
				hi = q->nmembers;

	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;

		if (q->members[mid].rep_id < rep_id)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < q->nmembers && q->members[lo].rep_id == rep_id)
		return &q->members[lo];

	if (q->nmembers == q->maxmembers)
	{
		q->maxmembers = Max(16, q->maxmembers * 2);
		q->members = q->members
			? repalloc(q->members, sizeof(MemberTurn) * q->maxmembers)
			: MemoryContextAlloc(TopTransactionContext, sizeof(MemberTurn) * q->maxmembers);
	}
	memmove(&q->members[lo + 1], &q->members[lo], sizeof(MemberTurn) * (q->nmembers - lo));
	q->nmembers++;
	memset(&q->members[lo], 0, sizeof(MemberTurn));
	q->members[lo].rep_id = rep_id;
	return &q->members[lo];
}

/*
 * This transaction's copy of the queue's state, read on first use.  With
 * locked (the caller holds the queue's lock), a copy read without it is
 * read again: another transaction may have taken a turn since.
 */
static QueueTurns *
queue_turns(const char *name, bool locked)
{
	static const Oid argtypes[] = {TEXTOID};
	QueueTurns *q;
	bool		found;
	Datum		arg;
	uint64		row;

	if (turns == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = NAMEDATALEN;
		ctl.entrysize = sizeof(QueueTurns);
		ctl.hcxt = TopTransactionContext;
		turns = hash_create("leadflow queue turns", 16, &ctl,
							HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	}
	q = hash_search(turns, name, HASH_ENTER, &found);
	if (found && (q->locked || !locked))
		return q;
	/* an unlocked copy is never dirty: only routing, under the lock, writes */
	Assert(!found || !q->dirty);
	if (found && q->members)
		pfree(q->members);
	q->nmembers = q->maxmembers = 0;
	q->members = NULL;
	q->dirty = false;
	q->locked = locked;

	arg = CStringGetTextDatum(name);
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
		MemberTurn *m = member_turn(q, DatumGetInt32(SPI_getbinval(t, d, 1, &isnull)));
		Datum		last = SPI_getbinval(t, d, 2, &isnull);

		m->has_last_assigned = !isnull;
		m->last_assigned_at = isnull ? 0 : DatumGetTimestampTz(last);
		m->current_weight = DatumGetInt64(SPI_getbinval(t, d, 3, &isnull));
		m->last_turn = DatumGetInt64(SPI_getbinval(t, d, 4, &isnull));
	}
	return q;
}

/*
 * Read the queue's rotation state into the candidates; locked says the
 * caller holds the queue's routing lock (routing; not explain).
 */
void
strategy_load_state(QueueConfig *queue, Candidate *cands, int ncands, bool locked)
{
	QueueTurns *q = queue_turns(queue->name, locked);
	int			i;

	for (i = 0; i < ncands; i++)
	{
		MemberTurn *m = member_turn(q, cands[i].rep->id);

		cands[i].has_last_assigned = m->has_last_assigned;
		cands[i].last_assigned_at = m->last_assigned_at;
		cands[i].last_turn = m->last_turn;
		cands[i].current_weight = m->current_weight;
	}
}

/*
 * Record the turn: the chosen rep's last assignment and turn number, and
 * for the weighted strategies every participant's new current weight.
 * *taken keeps what the chosen rep's turn was before, for strategy_undo.
 */
void
strategy_commit(QueueConfig *queue, Candidate *cands, int ncands, int chosen,
				TimestampTz now, TurnTaken *taken)
{
	QueueTurns *q = queue_turns(queue->name, true);
	int64		total = 0;
	int64		turn = 0;
	int			i;

	for (i = 0; i < q->nmembers; i++)
		turn = Max(turn, q->members[i].last_turn);
	if (uses_weights(queue->strategy))
	{
		for (i = 0; i < ncands; i++)
			if (cands[i].eligible)
				total += cands[i].weight;
		for (i = 0; i < ncands; i++)
		{
			MemberTurn *m;

			if (!cands[i].eligible)
				continue;
			m = member_turn(q, cands[i].rep->id);
			m->current_weight += cands[i].weight - (i == chosen ? total : 0);
			m->dirty = true;
		}
	}
	{
		MemberTurn *m = member_turn(q, cands[chosen].rep->id);

		taken->rep_id = m->rep_id;
		taken->had_last = m->has_last_assigned;
		taken->last_assigned_at = m->last_assigned_at;
		taken->last_turn = m->last_turn;
		taken->generation = turns_generation;
		m->has_last_assigned = true;
		m->last_assigned_at = now;
		m->last_turn = turn + 1;
		m->dirty = true;
	}
	q->dirty = true;
}

/*
 * Take a turn back, as if it had not been taken: the row it was taken for
 * was never inserted.  reps and weights are the eligible participants of
 * a weighted turn (n = 0 for the others).  When the in-memory state was
 * thrown away since (a rolled-back savepoint), it is read again from the
 * table, which never had the turn: nothing to undo.
 */
void
strategy_undo(const char *queue_name, const TurnTaken *taken, const int32 *reps,
			  const int32 *weights, int n)
{
	QueueTurns *q;
	MemberTurn *m;
	int64		total = 0;
	int			i;

	if (turns == NULL || taken->generation != turns_generation || taken->rep_id == 0)
		return;
	q = queue_turns(queue_name, true);
	for (i = 0; i < n; i++)
	{
		total += weights[i];
		m = member_turn(q, reps[i]);
		m->current_weight -= weights[i];
		m->dirty = true;
	}
	m = member_turn(q, taken->rep_id);
	if (n > 0)
		m->current_weight += total;
	m->has_last_assigned = taken->had_last;
	m->last_assigned_at = taken->last_assigned_at;
	m->last_turn = taken->last_turn;
	m->dirty = true;
	q->dirty = true;
}

/* Whether the strategy's turns move weights (undo then needs the participants). */
bool
strategy_uses_weights(Strategy strategy)
{
	return uses_weights(strategy);
}

/* Write one queue's changed member rows. */
static void
flush_queue(QueueTurns *q)
{
	static const Oid argtypes[] = {TEXTOID, INT4ARRAYOID, TIMESTAMPTZARRAYOID,
	INT8ARRAYOID, INT8ARRAYOID};
	Datum	   *ids = palloc(sizeof(Datum) * q->nmembers);
	Datum	   *lasts = palloc(sizeof(Datum) * q->nmembers);
	bool	   *lastnulls = palloc(sizeof(bool) * q->nmembers);
	Datum	   *turnsv = palloc(sizeof(Datum) * q->nmembers);
	Datum	   *weights = palloc(sizeof(Datum) * q->nmembers);
	int			dims[1];
	int			lbs[1] = {1};
	Datum		args[5];
	int			n = 0;
	int			i;

	for (i = 0; i < q->nmembers; i++)
	{
		MemberTurn *m = &q->members[i];

		if (!m->dirty)
			continue;
		ids[n] = Int32GetDatum(m->rep_id);
		lasts[n] = TimestampTzGetDatum(m->last_assigned_at);
		lastnulls[n] = !m->has_last_assigned;
		turnsv[n] = Int64GetDatum(m->last_turn);
		weights[n++] = Int64GetDatum(m->current_weight);
		m->dirty = false;
	}
	dims[0] = n;
	args[0] = CStringGetTextDatum(q->name);
	args[1] = PointerGetDatum(construct_array(ids, n, INT4OID, sizeof(int32), true, TYPALIGN_INT));
	args[2] = PointerGetDatum(construct_md_array(lasts, lastnulls, 1, dims, lbs, TIMESTAMPTZOID,
												 sizeof(TimestampTz), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	args[3] = PointerGetDatum(construct_array(turnsv, n, INT8OID, sizeof(int64),
											  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	args[4] = PointerGetDatum(construct_array(weights, n, INT8OID, sizeof(int64),
											  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	/*
	 * An UPDATE first: the rows are there but for a member's first turn,
	 * and an upsert that meets its conflict locks the row before updating
	 * it -- one more WAL record per row written, every turn.
	 */
	if (SPI_execute_plan(leadflow_plan(&update_plan,
									   "UPDATE leadflow.member_state AS s"
									   " SET last_assigned_at = u.last_at, last_turn = u.turn,"
									   "  current_weight = u.w"
									   " FROM unnest($2, $3, $4, $5) AS u(rep_id, last_at, turn, w)"
									   " WHERE s.queue = $1 AND s.rep_id = u.rep_id",
									   5, argtypes),
						 args, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "leadflow: could not record the queue's turns");
	if (SPI_processed < (uint64) n &&
		SPI_execute_plan(leadflow_plan(&commit_plan,
									   "INSERT INTO leadflow.member_state AS s"
									   " (queue, rep_id, last_assigned_at, last_turn, current_weight)"
									   " SELECT $1, u.rep_id, u.last_at, u.turn, u.w"
									   " FROM unnest($2, $3, $4, $5) AS u(rep_id, last_at, turn, w)"
									   " ON CONFLICT (queue, rep_id) DO UPDATE"
									   " SET last_assigned_at = EXCLUDED.last_assigned_at,"
									   "  last_turn = EXCLUDED.last_turn,"
									   "  current_weight = EXCLUDED.current_weight",
									   5, argtypes),
						 args, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "leadflow: could not record the queue's turns");
	q->dirty = false;
}

/* Forget the in-memory rotation state: the table was reset (TRUNCATE). */
void
strategy_reset(void)
{
	if (turns != NULL)
		hash_destroy(turns);
	turns = NULL;
	turns_generation++;
}

/* Write every queue's changed rotation state.  The caller is connected to SPI. */
void
strategy_flush(void)
{
	HASH_SEQ_STATUS status;
	QueueTurns *q;

	if (turns == NULL)
		return;
	hash_seq_init(&status, turns);
	while ((q = hash_seq_search(&status)) != NULL)
		if (q->dirty)
			flush_queue(q);
}

static void
turns_xact(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT ||
		event == XACT_EVENT_PREPARE)
	{
		turns = NULL;			/* it lived in TopTransactionContext */
		turns_generation++;
	}
}

static void
turns_subxact(SubXactEvent event, SubTransactionId mySubid,
			  SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB && turns != NULL)
	{
		hash_destroy(turns);
		turns = NULL;
		turns_generation++;
	}
}

void
strategy_init(void)
{
	RegisterXactCallback(turns_xact, NULL);
	RegisterSubXactCallback(turns_subxact, NULL);
}
