/*
 * routing_api.c
 *	  The SQL functions of routing: route, route_pending, explain, assign.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"

#include "routing_api.h"
#include "caps.h"
#include "config_cache.h"
#include "guc.h"
#include "lead_batch.h"
#include "lead_fetch.h"
#include "lead_row.h"
#include "ledger.h"
#include "pending.h"
#include "routing.h"
#include "spi_plans.h"
#include "strategy.h"

/* While > 0, statement-end flushes wait for the batch that set it. */
int			leadflow_defer_flush = 0;

/* Set by leadflow.assign() while its UPDATE runs; the lead triggers read it. */
const char *leadflow_manual_reason = NULL;

/*
 * Write the decisions, counters and rotation state routing kept in memory
 * (see ledger.c, caps.c and strategy.c).  The caller is connected to SPI.
 */
void
routing_flush(void)
{
	/* counters first: they check the caps of manual moves, which may refuse */
	caps_flush();
	ledger_flush();
	strategy_flush();
}

PG_FUNCTION_INFO_V1(leadflow_flush_routing_state);

/* Statement trigger on leadflow.lead: the statement's routing is written. */
Datum
leadflow_flush_routing_state(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "leadflow_flush_routing_state: not called as a trigger");
	SPI_connect();
	/* the statement's last row is over; its statement mark goes */
	pending_statement_end();
	if (leadflow_defer_flush == 0)
		routing_flush();
	SPI_finish();
	return PointerGetDatum(NULL);
}

static SPIPlanPtr pending_plan = NULL;
static SPIPlanPtr move_plan = NULL;

/*
 * Fetch the lead, locked FOR NO KEY UPDATE (as an UPDATE locks it:
 * foreign-key checks need not wait) when lock is set; error when it does
 * not exist.  *desc describes the row.
 */
static HeapTuple
fetch_lead(int64 lead_id, bool lock, TupleDesc *desc)
{
	HeapTuple	row = lead_fetch(lead_id, lock ? LEAD_LOCK_NO_KEY_UPDATE : LEAD_NO_LOCK, desc);

	if (row == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("lead " INT64_FORMAT " does not exist", lead_id)));
	return row;
}

/*
 * Route one lead by id, inside the caller's SPI connection.  Returns the
 * new owner, or 0 when the lead went to the backlog (or already had an
 * owner and *already_owned is set).  owners: the previous owners read for
 * the lead's batch (route_read_previous_owners), or NULL to read them.
 */
static int32
route_lead(int64 lead_id, TimestampTz now, PreviousOwners *owners, bool *already_owned)
{
	RoutingConfig *config = routing_config();
	HeapTuple	row;
	TupleDesc	desc;
	LeadColumns cols;
	LeadInput	lead;
	RouteResult res;
	Datum		values[LEAD_RESULT_NCOLS];
	bool		nulls[LEAD_RESULT_NCOLS];
	bool		first_attempt;

	row = fetch_lead(lead_id, true, &desc);
	lead_columns_init(&cols, desc);
	lead_input_from_tuple(&lead, row, desc, &cols);

	*already_owned = lead.current_owner != 0;
	if (*already_owned)
		return lead.current_owner;
	if (!stage_is_open(config, lead.stage))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("lead " INT64_FORMAT " is closed", lead_id),
				 errdetail("Only leads in stage new or working are routed."),
				 errhint("Reopen the lead first.")));

	/* A lead that was never queued is routed for the first time. */
	first_attempt = lead.queue == NULL;
	if (owners != NULL)
		route_set_previous_owners(&lead, owners);
	else
		route_load_previous_owners(&lead);
	route_decide(&lead, first_attempt ? ROUTE_NEW : ROUTE_RETRY, now, &res);
	lead_result_values(&lead, &res, config, now, values, nulls);

	lead_write_result(config, lead.id, values, nulls, 0);
	route_record(&lead, &res, first_attempt, now);
	return res.outcome == ROUTE_ASSIGNED ? res.owner->id : 0;
}

/* The same, reading the lead's previous owners from the ledger. */
int32
route_by_id(int64 lead_id, TimestampTz now, bool *already_owned)
{
	return route_lead(lead_id, now, NULL, already_owned);
}

PG_FUNCTION_INFO_V1(leadflow_route);

/* leadflow.route(lead_id) -> the owner, or NULL when backlogged. */
Datum
leadflow_route(PG_FUNCTION_ARGS)
{
	int64		lead_id = PG_GETARG_INT64(0);
	bool		already_owned;
	int32		owner;

	SPI_connect();
	owner = route_by_id(lead_id, leadflow_now(), &already_owned);
	routing_flush();
	SPI_finish();
	if (owner == 0)
		PG_RETURN_NULL();
	PG_RETURN_INT32(owner);
}

/* route_pending's batch: its instant and its leads' previous owners. */
typedef struct PendingBatch
{
	TimestampTz now;
	PreviousOwners *owners;
} PendingBatch;

/* One lead of route_pending's batch: 0 (counted) when it got an owner. */
static int
route_pending_step(int64 lead_id, void *arg)
{
	PendingBatch *b = (PendingBatch *) arg;
	bool		already_owned;
	int32		owner;

	SPI_connect();
	owner = route_lead(lead_id, b->now, b->owners, &already_owned);
	SPI_finish();
	return owner != 0 && !already_owned ? 0 : -1;
}

/*
 * Route up to max open leads without an owner, oldest first, as of now,
 * skipping any that another transaction holds; returns how many got an
 * owner.  Every queue's routing lock and every rep's counter row are
 * taken first, in order (see routing_lock_all_queues, caps_lock_all); a
 * lead whose routing fails is skipped with an alert (lead_batch.c).  Each
 * lead is routed in a nested SPI connection so that its memory is freed
 * before the next.  The caller is connected to SPI.
 */
int32
route_pending_batch(int32 max, TimestampTz now)
{
	static const Oid argtypes[] = {INT4OID};
	Datum		arg = Int32GetDatum(max);
	int64	   *ids;
	uint64		n,
				i;
	int64		assigned = 0;
	PendingBatch b;
	LeadBatchHooks hooks = {route_pending_step, NULL, NULL, &b, "backlog_assigned"};

	/* planned each time, for the batch: see leadflow_plan_custom */
	if (SPI_execute_plan(leadflow_plan_custom(&pending_plan,
											  "SELECT id FROM leadflow.lead"
											  " WHERE owner_id IS NULL AND stage IN ('new', 'working')"
											  " ORDER BY created_at, id LIMIT $1"
											  " FOR NO KEY UPDATE SKIP LOCKED",
											  1, argtypes),
						 &arg, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "leadflow: could not find pending leads");
	n = SPI_processed;
	ids = palloc(sizeof(int64) * Max(n, 1));
	for (i = 0; i < n; i++)
	{
		bool		isnull;

		ids[i] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i],
											 SPI_tuptable->tupdesc, 1, &isnull));
	}
	if (n == 0)
		return 0;
	routing_lock_all_queues();
	caps_lock_all();
	b.now = now;
	/* one look-up of the ledger for the batch, not one per lead */
	b.owners = route_read_previous_owners(ids, (int) n);
	/* one write of the counters for the whole batch, not one per lead */
	leadflow_defer_flush++;
	PG_TRY();
	{
		lead_batch_run(ids, (int) n, &hooks, &assigned, 1, now);
	}
	PG_FINALLY();
	{
		leadflow_defer_flush--;
	}
	PG_END_TRY();
	routing_flush();
	return (int32) assigned;
}

PG_FUNCTION_INFO_V1(leadflow_route_pending);

/* leadflow.route_pending(max) -> how many leads got an owner. */
Datum
leadflow_route_pending(PG_FUNCTION_ARGS)
{
	int32		max = PG_GETARG_INT32(0);
	int32		assigned;

	if (max < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max must not be negative")));
	SPI_connect();
	assigned = route_pending_batch(max, leadflow_now());
	SPI_finish();
	PG_RETURN_INT32(assigned);
}

PG_FUNCTION_INFO_V1(leadflow_explain);

/*
 * leadflow.explain(lead_id): one row per candidate, saying what routing
 * would do with the lead now -- the same decision route_by_id makes, from
 * the same input: previous owners are passed over (and taken back when
 * nobody else can take a waiting lead) in both.  A lead with an owner is
 * explained as the sweep's reassignment (its current owner is passed over
 * too).  Since 1.2 a last column says which candidate is the account's
 * owner; a database still on 1.1 gets the eleven columns it declares.
 */
Datum
leadflow_explain(PG_FUNCTION_ARGS)
{
	int64		lead_id = PG_GETARG_INT64(0);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	HeapTuple	row;
	TupleDesc	desc;
	LeadColumns cols;
	LeadInput	lead;
	RouteResult res;
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	SPI_connect();
	row = fetch_lead(lead_id, false, &desc);
	lead_columns_init(&cols, desc);
	lead_input_from_tuple(&lead, row, desc, &cols);
	route_load_previous_owners(&lead);
	route_decide(&lead, ROUTE_EXPLAIN, leadflow_now(), &res);

	if (res.outcome == ROUTE_SUPPRESSED)
		ereport(NOTICE,
				(errmsg("lead " INT64_FORMAT " would be rejected: %s",
						lead_id, res.reject_reason)));
	for (i = 0; i < res.ncands; i++)
	{
		Candidate  *c = &res.cands[i];
		Datum		values[12];
		bool		nulls[12];

		memset(nulls, false, sizeof(nulls));
		values[0] = Int32GetDatum(c->rep->id);
		values[1] = CStringGetTextDatum(c->rep->name);
		values[2] = BoolGetDatum(c->eligible);
		values[3] = c->reason && !c->chosen ? CStringGetTextDatum(c->reason) : (Datum) 0;
		nulls[3] = c->reason == NULL || c->chosen;
		values[4] = Int32GetDatum(c->open_count);
		values[5] = Int32GetDatum(c->rep->max_open);
		values[6] = Int32GetDatum(c->new_today);
		values[7] = Int32GetDatum(c->rep->max_new_per_day);
		values[8] = TimestampTzGetDatum(c->last_assigned_at);
		nulls[8] = !c->has_last_assigned;
		values[9] = Int32GetDatum(c->weight);
		values[10] = BoolGetDatum(c->chosen);
		values[11] = BoolGetDatum(c->account_owner);
		Assert(rsinfo->setDesc->natts <= (int) lengthof(values));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	SPI_finish();
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(leadflow_assign);

/*
 * leadflow.assign(lead_id, rep_id, reason): a manual move.  It is an
 * UPDATE of owner_id, so the lead's trigger checks the caps and writes the
 * ledger exactly as for a direct UPDATE; only the reason differs.
 */
Datum
leadflow_assign(PG_FUNCTION_ARGS)
{
	static const Oid argtypes[] = {INT8OID, INT4OID};
	int64		lead_id;
	int32		rep_id;
	char	   *reason = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	Datum		args[2];
	TupleDesc	desc;

	/* not STRICT, for the reason's message: a NULL id would read as 0 */
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("a manual move needs a lead id and a rep id"),
				 errhint("Say which lead goes to which rep, e.g. leadflow.assign(42, 7, 'customer asked for Ada').")));
	lead_id = PG_GETARG_INT64(0);
	rep_id = PG_GETARG_INT32(1);
	if (reason == NULL || reason[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("a manual move needs a reason"),
				 errhint("Say why, e.g. leadflow.assign(42, 7, 'customer asked for Ada').")));

	SPI_connect();
	(void) fetch_lead(lead_id, true, &desc);
	args[0] = Int64GetDatum(lead_id);
	args[1] = Int32GetDatum(rep_id);
	leadflow_manual_reason = reason;
	PG_TRY();
	{
		if (SPI_execute_plan(lead_plan(&move_plan,
									  "UPDATE leadflow.lead SET owner_id = $2 WHERE id = $1",
									  2, argtypes),
							 args, NULL, false, 0) != SPI_OK_UPDATE)
			elog(ERROR, "leadflow: could not move lead " INT64_FORMAT, lead_id);
	}
	PG_FINALLY();
	{
		leadflow_manual_reason = NULL;
	}
	PG_END_TRY();
	SPI_finish();
	PG_RETURN_VOID();
}
