/*
 * sweep.c
 *	  leadflow.sweep(as_of): take leads away from owners who missed the
 *	  follow-up SLA, hand leads on when a queue's ownership window ends,
 *	  and route the backlog -- run by pg_cron inside the database.
 *
 * Exactly once.  A transaction-level advisory lock (taken with a try, so
 * an overlapping pg_cron run returns at once instead of queueing) keeps
 * two sweeps from working together.  Each action claims its leads with
 * FOR UPDATE SKIP LOCKED: a lead that a rep is touching right now is
 * skipped, and one touched and committed just before has a new sla_due_at
 * that the locked row's re-check sees.  Everything a sweep does is one
 * transaction: interrupted, it leaves every lead either moved with its
 * ledger row or untouched.
 *
 * Every move goes through route_decide(), like routing on INSERT, so the
 * caps, eligibility and ledger are the same.  A lead that moves keeps its
 * cadence and starts it again with the new owner.  A lead nobody else can
 * take is never stranded in a backlog: it stays with its owner (see
 * keep_with_owner).  Every alert goes to someone (config_alert_recipient).
 *
 * As of as_of: every action, the backlog's routing included, decides and
 * writes at as_of (eligibility, daily caps in the reps' local days, the
 * ledger's times), so a replay is faithful.  Before a batch it takes every
 * queue's routing lock and every rep's counter row, in order
 * (docs/routing.md, "Concurrency"); a lead whose move fails is skipped
 * with an alert (lead_batch.c).
 *
 * Per batch, not per lead: the claim returns the locked rows whole (no
 * lead is read again), the previous owners of all its leads come from one
 * look-up of the ledger, and the moves are written together.  The claims
 * and that look-up are planned for their values every time
 * (leadflow_plan_custom): once per batch, and a plan saved while the lead
 * table or the ledger was small would scan them whole.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/lock.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"

#include "accounts.h"
#include "business_time.h"
#include "caps.h"
#include "config_cache.h"
#include "constants.h"
#include "guc.h"
#include "lead_batch.h"
#include "lead_row.h"
#include "ledger.h"
#include "operations.h"
#include "routing.h"
#include "routing_api.h"
#include "spi_plans.h"
#include "strategy.h"

typedef enum SweepAction
{
	SWEEP_SLA_REASSIGNED,
	SWEEP_SLA_ESCALATED,
	SWEEP_SLA_KEPT,
	SWEEP_HANDED_OFF,
	SWEEP_HANDOFF_KEPT,
	SWEEP_BACKLOG_ASSIGNED,
	SWEEP_NACTIONS
} SweepAction;

static const char *const action_names[SWEEP_NACTIONS] = {
	"sla_reassigned", "sla_escalated", "sla_kept", "handed_off", "handoff_kept",
	"backlog_assigned"
};

static SPIPlanPtr breach_plan = NULL;
static SPIPlanPtr handoff_plan[2];	/* [1]: a 1.2 schema (queues that hand off by the rules) */

static bool
try_sweep_lock(void)
{
	LOCKTAG		tag;

	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, LEADFLOW_LOCK_SPACE_SWEEP, 0, 2);
	return LockAcquire(&tag, ExclusiveLock, false, true) != LOCKACQUIRE_NOT_AVAIL;
}

/*
 * Lock a batch of leads selected by plan and return their rows (so that
 * no lead is read again) and, in *ids, their ids.
 */
static SPITupleTable *
claim_batch(SPIPlanPtr plan, TimestampTz as_of, int64 **ids, int *n)
{
	Datum		args[2];
	SPITupleTable *rows;
	int			id_column;
	uint64		i;

	args[0] = TimestampTzGetDatum(as_of);
	args[1] = Int32GetDatum(leadflow_sweep_batch_size);
	if (SPI_execute_plan(plan, args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "leadflow: could not find leads to sweep");
	rows = SPI_tuptable;
	id_column = SPI_fnumber(rows->tupdesc, "id");
	*n = (int) SPI_processed;
	*ids = palloc(sizeof(int64) * Max(*n, 1));
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;

		(*ids)[i] = DatumGetInt64(SPI_getbinval(rows->vals[i], rows->tupdesc, id_column,
												&isnull));
	}
	return rows;
}

static SPIPlanPtr
sla_breach_plan(void)
{
	static const Oid argtypes[] = {TIMESTAMPTZOID, INT4OID};

	return leadflow_plan_custom(&breach_plan,
								"SELECT * FROM leadflow.lead"
								" WHERE stage IN ('new', 'working') AND owner_id IS NOT NULL"
								" AND sla_due_at < $1"
								" ORDER BY sla_due_at, id LIMIT $2"
								" FOR NO KEY UPDATE SKIP LOCKED",
								2, argtypes);
}

static SPIPlanPtr
ownership_window_plan(void)
{
	static const Oid argtypes[] = {TIMESTAMPTZOID, INT4OID};

#define HANDOFF_PLAN(handing_off) \
	"SELECT l.* FROM leadflow.lead l" \
	" JOIN leadflow.queue q ON q.name = l.queue" \
	" WHERE " handing_off \
	" AND l.stage IN ('new', 'working') AND l.owner_id IS NOT NULL" \
	" AND l.assigned_at + q.hold_for <= $1" \
	" ORDER BY l.assigned_at, l.id LIMIT $2" \
	" FOR NO KEY UPDATE OF l SKIP LOCKED"

	if (routing_config()->schema_1_2)
		return leadflow_plan_custom(&handoff_plan[1],
									HANDOFF_PLAN("(q.then_queue IS NOT NULL OR q.handoff_by_rules)"),
									2, argtypes);
	return leadflow_plan_custom(&handoff_plan[0], HANDOFF_PLAN("q.then_queue IS NOT NULL"),
								2, argtypes);
#undef HANDOFF_PLAN
}

/*
 * The moves of the batch being swept, written onto their leads together
 * (see lead_writes_flush).  Each lead of a batch is locked and moved once,
 * and nothing in a batch reads another lead's row, so the writes can wait
 * for the end of the batch.
 */
#define MOVES_PER_WRITE 1000
static LeadWrites *batch_moves = NULL;

/* The previous owners of the batch's leads, when its step needs them. */
static PreviousOwners *batch_previous_owners = NULL;

/* Record a move's result for the lead, releasing the old owner's seat. */
static void
apply_move(RoutingConfig *config, LeadInput *lead, RouteResult *res,
		   TimestampTz now, bool reassignment)
{
	Datum		values[LEAD_RESULT_NCOLS];
	bool		nulls[LEAD_RESULT_NCOLS];

	lead_result_values(lead, res, config, now, values, nulls);
	caps_release(lead->current_owner);
	lead_writes_add(batch_moves, config, lead->id, values, nulls, reassignment ? 1 : 0);
	route_record(lead, res, true, now);
}

static const char *
rep_label(RoutingConfig *config, int32 rep_id)
{
	RepConfig  *rep = rep_id ? config_find_rep(config, rep_id) : NULL;

	return rep ? rep->name : NULL;
}

/*
 * An alert about a lead that moved (or could not), with who had it, who
 * has it now, and its queue, for addressee (0: there is no rep to tell).
 */
static void
alert_move(RoutingConfig *config, const char *kind, int32 addressee,
		   const LeadInput *lead, const RouteResult *res, TimestampTz now)
{
	const char *keys[] = {"from_rep", "to_rep", "queue"};
	const char *values[3];

	if (addressee == 0)
		return;
	values[0] = rep_label(config, lead->current_owner);
	values[1] = res && res->outcome == ROUTE_ASSIGNED ? res->owner->name : NULL;
	values[2] = res && res->queue ? res->queue->name : lead->queue;
	ledger_alert(kind, lead->id, addressee, ledger_detail(3, keys, values), now);
}

/* Whom an alert about the owner's lead goes to: its manager, or whoever stands in. */
static int32
managers_recipient(RoutingConfig *config, const LeadInput *lead, const QueueConfig *queue)
{
	return config_alert_recipient(config, lead->current_owner, queue);
}

static int32
manager_of(RoutingConfig *config, int32 rep_id)
{
	RepConfig  *rep = config_find_rep(config, rep_id);

	return rep ? rep->manager_id : 0;
}

/*
 * Nobody else can take the lead: it stays with its owner, never stranded
 * in a backlog.  Its SLA starts again from now: the queue's touch SLA of
 * the owner's business time (the first touch is late already; an hour's
 * first-touch SLA again would breach every hour), and a "keep" decision
 * records who was passed over and why (the owner's manager has had the
 * sla_breach alert).  Counted as a reassignment, so that past
 * max_reassignments the sweep escalates.
 */
static SweepAction
keep_with_owner(RoutingConfig *config, LeadInput *lead, QueueConfig *queue,
				const RouteResult *tried, TimestampTz now)
{
	RepConfig  *owner = config_find_rep(config, lead->current_owner);
	DecisionRow row;

	if (owner != NULL)
		lead_write_sla_restart(lead->id, bt_add(&owner->sched, now, queue->touch_sla.day,
												queue->touch_sla.time));
	/* a ledger before 1.2 has no "keep": its latest decision names the owner still */
	if (!config->schema_1_2)
		return SWEEP_SLA_KEPT;
	memset(&row, 0, sizeof(row));
	row.lead_id = lead->id;
	row.at = now;
	row.kind = "keep";
	row.from_rep = lead->current_owner;
	row.to_rep = lead->current_owner;
	row.queue = lead->queue;
	if (tried->queue != NULL)
		row.strategy = strategy_names[tried->queue->strategy];
	row.reason = "kept by its owner: nobody else can take it";
	row.cands = tried->cands;
	row.ncands = tried->ncands;
	row.account_id = tried->account_id;
	row.account_match = account_match_label(tried->account_match);
	ledger_decision(&row);
	return SWEEP_SLA_KEPT;
}

/*
 * Past the queue's max_reassignments: to the queue's escalate_to queue by
 * routing; without one, straight to the owner's manager (whatever the
 * caps: an escalation must land on someone).  When that finds nobody, the
 * lead stays with its owner.
 */
static SweepAction
escalate(RoutingConfig *config, LeadInput *lead, QueueConfig *queue, TimestampTz now)
{
	RouteResult res;
	int32		manager = manager_of(config, lead->current_owner);
	RepConfig  *manager_rep = manager ? config_find_rep(config, manager) : NULL;

	lead->decision_kind = "escalate";
	memset(&res, 0, sizeof(res));
	res.outcome = ROUTE_BACKLOG;	/* nobody found, until someone is */
	res.queue = queue;
	if (queue->escalate_to != NULL)
	{
		lead->force_queue = queue->escalate_to;
		route_decide(lead, ROUTE_RETRY, now, &res);
	}
	else if (manager_rep != NULL)
	{
		res.outcome = ROUTE_ASSIGNED;
		res.queue = queue;
		res.owner = manager_rep;
		res.reason = "escalated to the owner's manager";
		caps_force(manager_rep, now, true);
		route_set_follow_up(lead, &res, now);
	}
	if (res.outcome == ROUTE_BACKLOG)
		return keep_with_owner(config, lead, queue, &res, now);
	apply_move(config, lead, &res, now, true);
	alert_move(config, "escalated", managers_recipient(config, lead, queue), lead, &res, now);
	return SWEEP_SLA_ESCALATED;
}

/*
 * One lead whose SLA passed: reassign, escalate, or -- when nobody else
 * can take it -- keep it with its owner.
 */
static SweepAction
sweep_sla_breach(RoutingConfig *config, LeadInput *lead, TimestampTz now)
{
	QueueConfig *queue = lead->queue ? config_find_queue(config, lead->queue) : NULL;
	RouteResult res;

	if (queue == NULL)
		queue = config->default_queue;
	/* the old owner's manager hears of it, whatever happens next */
	alert_move(config, "sla_breach", managers_recipient(config, lead, queue), lead, NULL, now);
	route_set_previous_owners(lead, batch_previous_owners);
	if (lead->reassignments >= queue->max_reassignments)
		return escalate(config, lead, queue, now);

	lead->decision_kind = "reassign_sla";
	route_decide(lead, ROUTE_RETRY, now, &res);
	if (res.outcome == ROUTE_BACKLOG)
		return keep_with_owner(config, lead, queue, &res, now);
	apply_move(config, lead, &res, now, true);
	if (res.outcome != ROUTE_ASSIGNED)
		return SWEEP_SLA_REASSIGNED;	/* its account was suppressed meanwhile */
	alert_move(config, "reassigned", res.owner->id, lead, &res, now);
	return SWEEP_SLA_REASSIGNED;
}

/*
 * One lead past its queue's ownership window: to then_queue, or, for a
 * queue that hands off by the rules, to the queue the rules give it now
 * (its account's territory, say).  When nobody there can take it yet it
 * stays with its owner and is tried again by the next sweep.
 */
static SweepAction
sweep_handoff(RoutingConfig *config, LeadInput *lead, TimestampTz now)
{
	QueueConfig *queue = config_find_queue(config, lead->queue);
	RouteResult res;

	lead->decision_kind = "handoff";
	if (queue != NULL && queue->handoff_by_rules)
	{
		lead->rules_skip_queue = queue->name;
		lead->no_rule_queue = queue->then_queue;
	}
	else
		lead->force_queue = queue && queue->then_queue ? queue->then_queue : NULL;
	/* only the current owner is passed over: a hand-off is not a penalty */
	route_decide(lead, ROUTE_RETRY, now, &res);
	if (res.outcome == ROUTE_BACKLOG)
		return SWEEP_HANDOFF_KEPT;
	apply_move(config, lead, &res, now, false);
	return SWEEP_HANDED_OFF;
}

typedef SweepAction (*SweepStep) (RoutingConfig *config, LeadInput *lead, TimestampTz now);

typedef struct SweepBatch
{
	SweepStep	step;
	TimestampTz as_of;
	LeadWrites	moves;
	const int64 *ids;			/* the claimed leads, in order */
	int			n;
	SPITupleTable *rows;		/* their rows, locked */
	LeadColumns cols;
	int			next;			/* where the next lead is, most likely */
} SweepBatch;

/* The claimed row of lead_id. */
static HeapTuple
claimed_row(SweepBatch *b, int64 lead_id)
{
	int			i;

	/* the leads come in order; after a rollback they start again earlier */
	if (b->next >= b->n || b->ids[b->next] != lead_id)
		for (b->next = 0; b->next < b->n && b->ids[b->next] != lead_id; b->next++)
			;
	if (b->next >= b->n)
		elog(ERROR, "leadflow: lead " INT64_FORMAT " is not in the sweep's batch", lead_id);
	i = b->next++;
	return b->rows->vals[i];
}

/* One lead of a batch (lead_batch.c): the step, if it is still due. */
static int
sweep_one(int64 lead_id, void *arg)
{
	SweepBatch *b = (SweepBatch *) arg;
	RoutingConfig *config;
	LeadInput	lead;
	int			counted = -1;

	SPI_connect();
	config = routing_config();
	/* locked by the claim, so as it was read; still open and owned by the query */
	lead_input_from_tuple(&lead, claimed_row(b, lead_id), b->rows->tupdesc, &b->cols);
	if (stage_is_open(config, lead.stage) && lead.current_owner != 0)
		counted = b->step(config, &lead, b->as_of);
	if (b->moves.n >= MOVES_PER_WRITE)
		lead_writes_flush(&b->moves, config);
	SPI_finish();
	return counted;
}

/* Write the batch's moves kept so far. */
static void
sweep_write(void *arg)
{
	SweepBatch *b = (SweepBatch *) arg;

	if (b->moves.n == 0)
		return;
	SPI_connect();
	lead_writes_flush(&b->moves, routing_config());
	SPI_finish();
}

static void
sweep_discard(void *arg)
{
	lead_writes_discard(&((SweepBatch *) arg)->moves);
}

/*
 * Claim a batch with plan and run step on each lead still due.  Every
 * queue's routing lock and every rep's counter row are taken first, in
 * order; a lead whose step fails is skipped with an alert, the others go
 * on (lead_batch.c).
 */
static void
sweep_batch(SPIPlanPtr plan, SweepStep step, const char *action, TimestampTz as_of,
			int64 *counts)
{
	int			n;
	int64	   *ids;
	SweepBatch	b;
	LeadBatchHooks hooks = {sweep_one, sweep_write, sweep_discard, &b, action};

	b.rows = claim_batch(plan, as_of, &ids, &n);
	if (n == 0)
	{
		SPI_freetuptable(b.rows);
		return;
	}
	routing_lock_all_queues();
	caps_lock_all();
	b.step = step;
	b.as_of = as_of;
	b.ids = ids;
	b.n = n;
	b.next = 0;
	lead_columns_init(&b.cols, b.rows->tupdesc);
	lead_writes_init(&b.moves, CurrentMemoryContext);
	batch_moves = &b.moves;
	/* a reassignment passes over every owner the lead has had */
	if (step == sweep_sla_breach)
		batch_previous_owners = route_read_previous_owners(ids, n);
	PG_TRY();
	{
		lead_batch_run(ids, n, &hooks, counts, SWEEP_NACTIONS, as_of);
	}
	PG_FINALLY();
	{
		batch_moves = NULL;
		batch_previous_owners = NULL;
	}
	PG_END_TRY();
	SPI_freetuptable(b.rows);
}

PG_FUNCTION_INFO_V1(leadflow_sweep);

/*
 * leadflow.sweep(as_of) -> TABLE(action text, leads int)
 */
Datum
leadflow_sweep(PG_FUNCTION_ARGS)
{
	TimestampTz as_of = PG_ARGISNULL(0) ? leadflow_now() : PG_GETARG_TIMESTAMPTZ(0);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int64		counts[SWEEP_NACTIONS];
	int			i;

	if (TIMESTAMP_NOT_FINITE(as_of))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("as_of must be a finite timestamp")));

	InitMaterializedSRF(fcinfo, 0);
	if (!try_sweep_lock())
	{
		Datum		values[2] = {CStringGetTextDatum("skipped_concurrent_sweep"), Int32GetDatum(0)};
		bool		nulls[2] = {false, false};

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		return (Datum) 0;
	}

	memset(counts, 0, sizeof(counts));
	SPI_connect();
	leadflow_defer_flush++;
	PG_TRY();
	{
		sweep_batch(sla_breach_plan(), sweep_sla_breach, "sla_reassigned", as_of, counts);
		sweep_batch(ownership_window_plan(), sweep_handoff, "handed_off", as_of, counts);
	}
	PG_FINALLY();
	{
		leadflow_defer_flush--;
	}
	PG_END_TRY();
	routing_flush();
	/* the backlog too is routed as of as_of: a replay counts its own days */
	counts[SWEEP_BACKLOG_ASSIGNED] = route_pending_batch(leadflow_sweep_batch_size, as_of);
	operations_record_sweep(as_of, SWEEP_NACTIONS, action_names, counts);
	SPI_finish();

	for (i = 0; i < SWEEP_NACTIONS; i++)
	{
		Datum		values[2];
		bool		nulls[2] = {false, false};

		values[0] = CStringGetTextDatum(action_names[i]);
		values[1] = Int32GetDatum((int32) counts[i]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
