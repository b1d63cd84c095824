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
 *
 * Shared turns.  A round-robin queue's turns are also kept in shared
 * memory when leadflow is preloaded (shared_turns.c): read from there
 * under the lock, changed there with every turn, so the next router sees
 * a turn before its transaction commits and routing.c may let the queue
 * lock go at pre-commit (strategy_turns_shared).  What this transaction
 * changed there is logged (undo_log) and put back when it, or a
 * subtransaction of it, aborts -- after pre-commit only if nobody took a
 * turn since.  The weighted strategies change every eligible member's
 * row each turn, and load_balanced orders by counters a committing
 * router has not yet made visible: their queues keep the table only, and
 * their routers keep the lock to commit.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "strategy.h"
#include "shared_turns.h"
#include "spi_plans.h"
#include "util.h"

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
	bool		shared;			/* kept in shared memory too (shared_turns.c) */
} QueueTurns;

static HTAB *turns = NULL;
/* Bumped whenever the in-memory copy is thrown away (a rolled-back savepoint). */
static uint64 turns_generation = 0;

/*
 * What this transaction changed in shared memory, oldest first, to put
 * back on abort: a member's state before a change, or (loaded) an entry
 * this transaction made from the table.  The tail belongs to the current
 * subtransaction.  touched: each shared queue's generation after this
 * transaction's last change of it (0: no longer ours to put back).
 */
typedef struct TurnUndo
{
	char		queue[NAMEDATALEN];
	SubTransactionId subid;
	bool		loaded;
	SharedTurn	prev;
} TurnUndo;

typedef struct SharedTouch
{
	char		queue[NAMEDATALEN];
	uint64		generation;
} SharedTouch;

static TurnUndo *undo_log = NULL;
static int	nundo = 0;
static int	maxundo = 0;
static SharedTouch *touched = NULL;
static int	ntouched = 0;
static int	maxtouched = 0;
/* a turn of this transaction is in the table only (or the table was reset) */
static bool unshared = false;

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

static void
to_shared(const MemberTurn *m, SharedTurn *t)
{
	t->rep_id = m->rep_id;
	t->has_last_assigned = m->has_last_assigned;
	t->last_assigned_at = m->last_assigned_at;
	t->last_turn = m->last_turn;
	t->current_weight = m->current_weight;
}

/* The queue's entry in touched, added when missing (create). */
static SharedTouch *
touch_of(const char *queue, bool create)
{
	int			i;

	for (i = 0; i < ntouched; i++)
		if (strcmp(touched[i].queue, queue) == 0)
			return &touched[i];
	if (!create)
		return NULL;
	if (ntouched == maxtouched)
	{
		maxtouched = Max(4, maxtouched * 2);
		touched = touched ? repalloc(touched, sizeof(SharedTouch) * maxtouched)
			: MemoryContextAlloc(TopTransactionContext, sizeof(SharedTouch) * maxtouched);
	}
	strlcpy(touched[ntouched].queue, queue, NAMEDATALEN);
	return &touched[ntouched++];
}

/* Log a change of the queue's shared entry that took it to generation. */
static void
log_shared(const char *queue, uint64 generation, bool loaded, const MemberTurn *before)
{
	TurnUndo   *u;

	if (nundo == maxundo)
	{
		maxundo = Max(16, maxundo * 2);
		undo_log = undo_log ? repalloc(undo_log, sizeof(TurnUndo) * maxundo)
			: MemoryContextAlloc(TopTransactionContext, sizeof(TurnUndo) * maxundo);
	}
	u = &undo_log[nundo++];
	memset(u, 0, sizeof(*u));
	strlcpy(u->queue, queue, NAMEDATALEN);
	u->subid = GetCurrentSubTransactionId();
	u->loaded = loaded;
	if (before != NULL)
		to_shared(before, &u->prev);
	touch_of(queue, true)->generation = generation;
}

/*
 * Put back what this transaction changed in shared memory: the log's
 * entries of subtransaction subid (InvalidSubTransactionId: all), newest
 * first, each only if the queue's generation is still the one this
 * transaction left (after pre-commit another router may have taken a
 * turn since: then the turns stay given out).  Never fails (aborting).
 */
static void
undo_shared(SubTransactionId subid)
{
	while (nundo > 0 && (subid == InvalidSubTransactionId || undo_log[nundo - 1].subid == subid))
	{
		TurnUndo   *u = &undo_log[--nundo];
		SharedTouch *t = touch_of(u->queue, false);

		if (t == NULL || t->generation == 0)
			continue;
		if (u->loaded)
		{
			shared_turns_forget(u->queue, t->generation);
			t->generation = 0;
		}
		else
			t->generation = shared_turns_undo(u->queue, &u->prev, 1, t->generation);
	}
}

/*
 * Write the member's new state to the queue's shared entry (before: what
 * it was).  When the entry is gone or full, the queue's turns stay in
 * the table only, and this transaction keeps the lock to commit.
 */
static void
share_change(QueueTurns *q, const MemberTurn *m, const MemberTurn *before)
{
	SharedTurn	t;
	uint64		generation;

	if (!q->shared)
	{
		unshared = true;
		return;
	}
	to_shared(m, &t);
	if (shared_turns_set(q->name, &t, &generation))
	{
		log_shared(q->name, generation, false, before);
		return;
	}
	shared_turns_forget(q->name, 0);
	q->shared = false;
	unshared = true;
}

/* leadflow.member_state's OID: an entry read from another one is stale. */
static Oid
member_state_relid(void)
{
	Oid			nsp = get_namespace_oid("leadflow", true);

	return OidIsValid(nsp) ? get_relname_relid("member_state", nsp) : InvalidOid;
}

/*
 * Read the queue's shared entry into q; false when it has none.  With
 * store, an entry is made from q as just read from the table.
 */
static bool
shared_load(QueueTurns *q, int64 version, bool store)
{
	SharedTurn	buf[SHARED_TURNS_MAX_MEMBERS];
	Oid			relid = member_state_relid();
	uint64		generation;
	int			n;
	int			i;

	if (!store)
	{
		n = shared_turns_read(q->name, relid, version, buf, &generation);
		for (i = 0; i < n; i++)
		{
			MemberTurn *m = member_turn(q, buf[i].rep_id);

			m->has_last_assigned = buf[i].has_last_assigned;
			m->last_assigned_at = buf[i].last_assigned_at;
			m->last_turn = buf[i].last_turn;
			m->current_weight = buf[i].current_weight;
		}
		return n >= 0;
	}
	if (q->nmembers > SHARED_TURNS_MAX_MEMBERS)
		return false;
	for (i = 0; i < q->nmembers; i++)
		to_shared(&q->members[i], &buf[i]);
	if (!shared_turns_store(q->name, relid, version, buf, q->nmembers, &generation))
		return false;
	log_shared(q->name, generation, true, NULL);
	return true;
}

/*
 * This transaction's copy of the queue's state, read on first use.  With
 * locked (the caller holds the queue's lock), a copy read without it is
 * read again: another transaction may have taken a turn since.  With
 * sharable (a round-robin queue), it is read from shared memory when
 * there, and put there when read from the table under the lock; version
 * is the routing configuration's (an entry older than it is read again).
 */
static QueueTurns *
queue_turns(const char *name, bool locked, bool sharable, int64 version)
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
	q->shared = false;

	sharable = sharable && shared_turns_enabled();
	if (sharable && shared_load(q, version, false))
	{
		q->shared = locked;
		return q;
	}

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

	/*
	 * Not after a turn of this transaction that is in the table only: the
	 * rows read may hold it, and it is not ours to publish before commit.
	 */
	if (sharable && locked && !unshared)
		q->shared = shared_load(q, version, true);
	return q;
}

/* Whether the queue's turns may live in shared memory too. */
static bool
sharable(const QueueConfig *queue)
{
	return queue->strategy == STRATEGY_ROUND_ROBIN;
}

/*
 * Read the queue's rotation state into the candidates; locked says the
 * caller holds the queue's routing lock (routing; not explain).
 * config_version is the routing configuration's version.
 */
void
strategy_load_state(QueueConfig *queue, Candidate *cands, int ncands, bool locked,
					int64 config_version)
{
	QueueTurns *q = queue_turns(queue->name, locked, sharable(queue), config_version);
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
				TimestampTz now, int64 config_version, TurnTaken *taken)
{
	QueueTurns *q = queue_turns(queue->name, true, sharable(queue), config_version);
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
		unshared = true;		/* never shared: see the file's comment */
	}
	{
		MemberTurn *m = member_turn(q, cands[chosen].rep->id);
		MemberTurn	before = *m;

		taken->rep_id = m->rep_id;
		taken->had_last = m->has_last_assigned;
		taken->last_assigned_at = m->last_assigned_at;
		taken->last_turn = m->last_turn;
		taken->generation = turns_generation;
		m->has_last_assigned = true;
		m->last_assigned_at = now;
		m->last_turn = turn + 1;
		m->dirty = true;
		share_change(q, m, &before);
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
	MemberTurn	before;
	int64		total = 0;
	int			i;

	if (turns == NULL || taken->generation != turns_generation || taken->rep_id == 0)
		return;
	/* the turn was taken in this copy, so it is there, read under the lock */
	q = queue_turns(queue_name, true, false, 0);
	for (i = 0; i < n; i++)
	{
		total += weights[i];
		m = member_turn(q, reps[i]);
		m->current_weight -= weights[i];
		m->dirty = true;
	}
	m = member_turn(q, taken->rep_id);
	before = *m;
	if (n > 0)
		m->current_weight += total;
	m->has_last_assigned = taken->had_last;
	m->last_assigned_at = taken->last_assigned_at;
	m->last_turn = taken->last_turn;
	m->dirty = true;
	if (q->shared)
		share_change(q, m, &before);
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

/*
 * Forget the in-memory rotation state: the table was reset (TRUNCATE).
 * The shared entries of the database go too, and this transaction makes
 * none: what it reads from the table is not committed.
 */
void
strategy_reset(void)
{
	if (turns != NULL)
		hash_destroy(turns);
	turns = NULL;
	turns_generation++;
	if (shared_turns_enabled())
		shared_turns_forget_database();
	unshared = true;
}

/*
 * Whether every turn this transaction took is in shared memory, so that
 * routing.c may let the queue locks go at pre-commit; false too when
 * turns are not shared at all (leadflow not preloaded, a standby).
 */
bool
strategy_turns_shared(void)
{
	return shared_turns_enabled() && !unshared;
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
	int			i;

	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		undo_shared(InvalidSubTransactionId);

	/*
	 * A prepared transaction keeps its queue locks until COMMIT or
	 * ROLLBACK PREPARED, which may come from anywhere: its queues' next
	 * routers read the table again, after it.
	 */
	if (event == XACT_EVENT_PRE_PREPARE)
		for (i = 0; i < ntouched; i++)
			shared_turns_forget(touched[i].queue, 0);
	if (xact_event_ends_transaction(event))
	{
		turns = NULL;			/* it lived in TopTransactionContext */
		turns_generation++;
		undo_log = NULL;
		touched = NULL;
		nundo = maxundo = ntouched = maxtouched = 0;
		unshared = false;
	}
}

static void
turns_subxact(SubXactEvent event, SubTransactionId mySubid,
			  SubTransactionId parentSubid, void *arg)
{
	int			i;

	if (event == SUBXACT_EVENT_COMMIT_SUB)
		for (i = nundo - 1; i >= 0 && undo_log[i].subid == mySubid; i--)
			undo_log[i].subid = parentSubid;
	if (event == SUBXACT_EVENT_ABORT_SUB)
	{
		/* its queue locks are still held: nobody took a turn since */
		undo_shared(mySubid);
		if (turns != NULL)
		{
			hash_destroy(turns);
			turns = NULL;
			turns_generation++;
		}
	}
}

void
strategy_init(void)
{
	RegisterXactCallback(turns_xact, NULL);
	RegisterSubXactCallback(turns_subxact, NULL);
}
