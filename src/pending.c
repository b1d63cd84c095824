/*
 * pending.c
 *	  Routing only rows that are really inserted.
 *
 * A BEFORE INSERT trigger runs before PostgreSQL knows whether the row
 * will be inserted: INSERT ... ON CONFLICT checks for a conflict after the
 * trigger (and a later BEFORE trigger may still drop the row).  A row that
 * conflicts is not inserted -- DO NOTHING skips it, DO UPDATE updates the
 * existing row instead -- so whatever its routing did must be undone: the
 * seat it claimed, the queue's turn, the account it created or took, the
 * ledger rows, alerts and events it recorded.
 *
 * The trigger records those effects here (PendingInsert) and routes as
 * usual, so RETURNING sees the owner and later rows of the statement see
 * the seat taken.  The row is confirmed the moment it is inserted: the
 * AFTER INSERT trigger lead_inserted has a WHEN clause,
 * lead_row_inserted(NEW.id, NEW.ctid), which PostgreSQL evaluates right
 * after the row is inserted (a WHEN clause of an AFTER trigger decides
 * whether to queue the trigger); it confirms the row and returns false,
 * so nothing is queued.  A row still unconfirmed when the next thing
 * happens in its statement -- the next row's BEFORE INSERT, a BEFORE
 * UPDATE (ON CONFLICT DO UPDATE updating the existing row), the
 * statement's end -- was not inserted, and its effects are undone then,
 * before anything else reads them.
 *
 * Statements nest (a trigger may insert leads while a row is being
 * inserted), so each INSERT, UPDATE and DELETE statement on leadflow.lead
 * pushes a mark here (statement trigger lead_statement, BEFORE) and pops
 * it at its end (lead_flush, AFTER); a statement's row is pending in its
 * own mark.  A rolled-back savepoint drops its marks: what their rows did
 * is rolled back with it.
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "storage/bufmgr.h"
#include "storage/itemptr.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "pending.h"
#include "caps.h"
#include "ledger.h"
#include "routing.h"
#include "strategy.h"
#include "util.h"

typedef struct StatementMark
{
	SubTransactionId subxid;
	PendingInsert pending;
	int			turn_capacity;	/* of pending.turn_reps and turn_weights */
} StatementMark;

static StatementMark *marks = NULL;	/* in TopTransactionContext */
static int	nmarks = 0;
static int	max_marks = 0;

static StatementMark *
top_mark(void)
{
	return nmarks > 0 ? &marks[nmarks - 1] : NULL;
}

/* Undo what a row that was not inserted did.  The caller is connected to SPI. */
static void
undo(PendingInsert *p)
{
	if (p->took_seat)
		caps_take_back(&p->seat);
	if (p->outcome_rep != 0)
		caps_record_outcome(p->outcome_rep, p->outcome_won, -1);
	if (p->took_turn)
		strategy_undo(p->turn_queue, &p->turn, p->turn_reps, p->turn_weights,
					  p->nturn_reps);
	route_undo_account(&p->account, p->account_owner);
	ledger_release(true);
	p->active = false;
}

/*
 * The current statement's row is over: if it was not confirmed, it was
 * not inserted.  The caller is connected to SPI.
 */
void
pending_resolve_current(void)
{
	StatementMark *m = top_mark();

	if (m != NULL && m->pending.active)
		undo(&m->pending);
}

/*
 * Start recording a row's effects, after resolving the statement's
 * previous row.  NULL when the statement is not tracked (a database still
 * on 1.1, without the statement trigger): effects then stay, as in 1.1.
 */
PendingInsert *
pending_begin(Oid relid, int64 lead_id)
{
	StatementMark *m = top_mark();
	PendingInsert *p;

	if (m == NULL)
		return NULL;
	p = &m->pending;
	if (p->active)
		undo(p);
	p->lead_id = lead_id;
	p->relid = relid;
	p->active = true;
	p->seats_before = caps_seats_taken();
	p->took_seat = false;
	p->outcome_rep = 0;
	p->took_turn = false;
	p->nturn_reps = 0;
	memset(&p->account, 0, sizeof(p->account));
	p->account_owner = 0;
	ledger_hold(lead_id);
	return p;
}

/* The seat the row took, if it took one since pending_begin. */
void
pending_record_seat(PendingInsert *p)
{
	if (p == NULL || caps_seats_taken() == p->seats_before)
		return;
	p->took_seat = true;
	caps_last_seat(&p->seat);
}

/* The queue's turn and the account change of a routing result. */
void
pending_record_route(PendingInsert *p, const RouteResult *res)
{
	StatementMark *m;
	int			i;

	if (p == NULL)
		return;
	pending_record_seat(p);
	p->account = res->account;
	p->account_owner = res->owner ? res->owner->id : 0;
	if (res->chosen < 0)
		return;
	p->took_turn = true;
	p->turn = res->turn;
	strlcpy(p->turn_queue, res->queue->name, NAMEDATALEN);
	if (!strategy_uses_weights(res->queue->strategy))
		return;
	/* the participants of a weighted turn, whose weights it moved */
	m = (StatementMark *) ((char *) p - offsetof(StatementMark, pending));
	if (m->turn_capacity < res->ncands)
	{
		m->turn_capacity = Max(res->ncands, 2 * m->turn_capacity);
		p->turn_reps = MemoryContextAlloc(TopTransactionContext,
										  sizeof(int32) * m->turn_capacity);
		p->turn_weights = MemoryContextAlloc(TopTransactionContext,
											 sizeof(int32) * m->turn_capacity);
	}
	for (i = 0; i < res->ncands; i++)
		if (res->cands[i].eligible)
		{
			p->turn_reps[p->nturn_reps] = res->cands[i].rep->id;
			p->turn_weights[p->nturn_reps++] = res->cands[i].weight;
		}
}

/*
 * The statement ends: its last row is resolved, its mark popped.  The
 * caller is connected to SPI.
 */
void
pending_statement_end(void)
{
	if (nmarks == 0)
		return;
	pending_resolve_current();
	nmarks--;
}

PG_FUNCTION_INFO_V1(leadflow_lead_statement);

/* Statement trigger (BEFORE INSERT, UPDATE, DELETE on leadflow.lead): a new mark. */
Datum
leadflow_lead_statement(PG_FUNCTION_ARGS)
{
	StatementMark *m;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "leadflow_lead_statement: not called as a trigger");
	if (nmarks == max_marks)
	{
		int			grown = Max(8, 2 * max_marks);

		marks = marks
			? repalloc(marks, sizeof(StatementMark) * grown)
			: MemoryContextAlloc(TopTransactionContext, sizeof(StatementMark) * grown);
		max_marks = grown;
	}
	m = &marks[nmarks++];
	memset(m, 0, sizeof(*m));
	m->subxid = GetCurrentSubTransactionId();
	return PointerGetDatum(NULL);
}

/*
 * Is this really the row the statement's pending insert is about: a row of
 * leadflow.lead at tid, with that id, inserted by this transaction?  (So
 * that calling lead_row_inserted by hand cannot confirm a row that never
 * was.)
 */
static bool
really_inserted(const PendingInsert *p, ItemPointer tid)
{
	Relation	rel;
	HeapTupleData tuple;
	Buffer		buffer;
	bool		ok = false;

	if (!ItemPointerIsValid(tid))
		return false;
	rel = table_open(p->relid, NoLock);
	tuple.t_self = *tid;
	if (heap_fetch(rel, SnapshotAny, &tuple, &buffer, false))
	{
		bool		isnull;
		Datum		id = heap_getattr(&tuple, 1, RelationGetDescr(rel), &isnull);

		ok = TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetRawXmin(tuple.t_data)) &&
			!isnull && DatumGetInt64(id) == p->lead_id;
		ReleaseBuffer(buffer);
	}
	table_close(rel, NoLock);
	return ok;
}

PG_FUNCTION_INFO_V1(leadflow_lead_row_inserted);

/*
 * lead_row_inserted(id, ctid): the WHEN clause of the AFTER INSERT
 * trigger lead_inserted, evaluated as each row is inserted.  Confirms the
 * statement's pending row and returns false (nothing to queue).
 */
Datum
leadflow_lead_row_inserted(PG_FUNCTION_ARGS)
{
	StatementMark *m = top_mark();

	if (m != NULL && m->pending.active && !PG_ARGISNULL(0) && !PG_ARGISNULL(1) &&
		PG_GETARG_INT64(0) == m->pending.lead_id &&
		really_inserted(&m->pending, (ItemPointer) PG_GETARG_POINTER(1)))
	{
		m->pending.active = false;
		ledger_release(false);
	}
	PG_RETURN_BOOL(false);
}

PG_FUNCTION_INFO_V1(leadflow_lead_inserted);

/* The trigger lead_inserted's function: never queued (see above). */
Datum
leadflow_lead_inserted(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "leadflow_lead_inserted: not called as a trigger");
	return PointerGetDatum(NULL);
}

/* ----- transaction boundaries ----- */

static void
marks_subxact(SubXactEvent event, SubTransactionId mySubid,
			  SubTransactionId parentSubid, void *arg)
{
	int			i;

	if (event == SUBXACT_EVENT_ABORT_SUB)
	{
		/* its rows' effects are rolled back with it */
		while (nmarks > 0 && marks[nmarks - 1].subxid == mySubid)
			nmarks--;
	}
	else if (event == SUBXACT_EVENT_COMMIT_SUB)
	{
		for (i = 0; i < nmarks; i++)
			if (marks[i].subxid == mySubid)
				marks[i].subxid = parentSubid;
	}
}

static void
marks_xact(XactEvent event, void *arg)
{
	if (xact_event_ends_transaction(event))
	{
		/* they lived in TopTransactionContext */
		marks = NULL;
		nmarks = max_marks = 0;
	}
}

void
pending_init(void)
{
	RegisterXactCallback(marks_xact, NULL);
	RegisterSubXactCallback(marks_subxact, NULL);
}
