/*
 * lead_triggers.c
 *	  The triggers on leadflow.lead: routing inside the INSERT, and counters
 *	  and ledger that follow every owner and stage change.
 *
 * BEFORE INSERT routes a lead that arrives without an owner in an open
 * stage, writing the result straight into the row being inserted (so
 * INSERT ... RETURNING owner_id sees it).  Both find the lead's account
 * first, before it is scored (fit rules may match the account).  A lead
 * that arrives with an owner or a closed stage is an import of history:
 * kept as given -- never refused by a cap -- linked to its account, given
 * the follow-up plan an open one lacks, and counted and recorded.
 *
 * BEFORE UPDATE keeps the counters right when a lead changes owner or
 * opens or closes, and treats an owner change made by anyone but routing
 * itself as a manual move: cap-checked (when the statement ends, see
 * caps.c), recorded, and given a fresh follow-up clock.
 *
 * INSERT ... ON CONFLICT may not insert a row the BEFORE INSERT trigger
 * routed: pending.c confirms or undoes what the trigger did.  AFTER DELETE
 * gives a deleted lead's seat back and records the deletion; AFTER
 * TRUNCATE starts leadflow over.
 *
 * Restores.  pg_dump and pg_restore run with check_function_bodies off.
 * While it is off and a superuser or the extension's owner acts
 * (leadflow_restoring(), roles.c), the triggers load rows exactly as given
 * -- the dump already holds the counters and the ledger, and a restore
 * must not route, count or alert again.  Anybody else gets the rules.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/guc.h"
#include "utils/rel.h"

#include "lead_triggers.h"
#include "accounts.h"
#include "business_time.h"
#include "caps.h"
#include "config_cache.h"
#include "duplicates.h"
#include "guc.h"
#include "hygiene.h"
#include "invalidation.h"
#include "lead_row.h"
#include "ledger.h"
#include "matching.h"
#include "pending.h"
#include "predict.h"
#include "roles.h"
#include "routing.h"
#include "routing_api.h"
#include "scoring.h"
#include "spi_plans.h"
#include "stages.h"
#include "strategy.h"

static LeadColumns lead_columns;
static bool lead_columns_valid = false;

static void
lead_columns_invalidate(Oid relid)
{
	if (relid == InvalidOid || relid == lead_columns.relid)
		lead_columns_valid = false;
}

void
lead_triggers_init(void)
{
	leadflow_on_relcache(lead_columns_invalidate);
}

/* The lead table's column numbers, looked up once per table definition. */
static const LeadColumns *
lead_columns_for(Relation rel)
{
	if (!lead_columns_valid || lead_columns.relid != RelationGetRelid(rel))
	{
		lead_columns_init(&lead_columns, RelationGetDescr(rel));
		lead_columns.relid = RelationGetRelid(rel);
		lead_columns_valid = true;
	}
	return &lead_columns;
}

static TriggerData *
trigger_data(FunctionCallInfo fcinfo, const char *name)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "%s: not called as a trigger", name);
	return (TriggerData *) fcinfo->context;
}

/* May this session exceed caps?  Managers with leadflow.override_caps on. */
static bool
may_override_caps(void)
{
	Oid			manager;

	if (!leadflow_override_caps)
		return false;
	manager = get_role_oid("leadflow_manager", true);
	/* the outer user: these triggers run as the extension's owner */
	return OidIsValid(manager) && has_privs_of_role(GetOuterUserId(), manager);
}

/*
 * Give rep a seat for a lead moved or imported by hand.  It is cap-checked
 * when the statement ends, which locks the reps' counter rows in rep id
 * order (caps_claim_later); over a cap the statement fails with 23514
 * naming the rep, the cap and the lead.  A manager who may override claims
 * at once instead: over a cap the seat is forced, which the returned note
 * records.
 */
static const char *
claim_for_manual_move(RepConfig *rep, int64 lead_id, TimestampTz now)
{
	if (!may_override_caps())
	{
		caps_claim_later(rep, now, true, lead_id);
		return NULL;
	}
	if (caps_claim(rep, now, true))
		return NULL;
	caps_force(rep, now, true);
	return "cap overridden by a manager";
}

static RepConfig *
rep_or_error(RoutingConfig *config, int32 rep_id)
{
	RepConfig  *rep = config_find_rep(config, rep_id);

	if (rep == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("rep %d does not exist", rep_id),
				 errhint("See leadflow.rep for the reps.")));
	return rep;
}

static void
record_manual(int64 lead_id, int32 from_rep, int32 to_rep, const char *queue,
			  const char *reason, TimestampTz now, const AccountInfo *acct)
{
	DecisionRow row;

	memset(&row, 0, sizeof(row));
	row.lead_id = lead_id;
	row.at = now;
	row.kind = "manual";
	row.from_rep = from_rep;
	row.to_rep = to_rep;
	row.queue = queue;
	row.reason = reason;
	if (acct != NULL && acct->found)
	{
		row.account_id = acct->id;
		row.account_match = account_match_label(acct->match);
	}
	ledger_decision(&row);
}

static const char *
manual_reason(const char *fallback, const char *override_note)
{
	const char *reason = leadflow_manual_reason ? leadflow_manual_reason : fallback;

	return override_note ? psprintf("%s (%s)", reason, override_note) : reason;
}

/*
 * An imported lead: history, kept as given.  A row that arrives with an
 * owner or a closed stage already happened, so no cap refuses it: an open
 * one takes its owner's seat regardless (so routing sees the load), and
 * counts as one of the rep's new leads of today only when its assignment
 * falls on today in the rep's local day; a closed one counts toward its
 * owner's record.  Every import is recorded (a manual decision, reason
 * "import") with the account the lead was linked to.
 */
static void
import_lead(RoutingConfig *config, const LeadInput *lead, RepConfig *owner,
			TimestampTz assigned_at, TimestampTz now, const AccountInfo *acct,
			PendingInsert *pending)
{
	if (owner != NULL && !stage_is_open(config, lead->stage))
	{
		bool		won = stage_is_won(config, lead->stage);

		caps_record_outcome(owner->id, won, 1);
		if (pending)
		{
			pending->outcome_rep = owner->id;
			pending->outcome_won = won;
		}
	}
	else if (owner != NULL)
	{
		caps_force_later(owner, now,
						 rep_local_date(owner, assigned_at) == rep_local_date(owner, now));
		pending_record_seat(pending);
	}
	/* an account made for it goes if the row is not inserted after all */
	if (pending && acct->created)
	{
		pending->account.id = acct->id;
		pending->account.created = true;
	}
	record_manual(lead->id, 0, lead->current_owner, lead->queue, "import", now, acct);
}

/* When an imported lead was assigned: as given, else when it was created. */
static TimestampTz
import_assigned_at(HeapTuple tuple, TupleDesc desc, const LeadColumns *cols,
				   TimestampTz now, bool *given)
{
	bool		isnull;
	Datum		v = heap_getattr(tuple, cols->assigned_at, desc, &isnull);

	*given = !isnull;
	if (isnull)
		v = heap_getattr(tuple, cols->created_at, desc, &isnull);
	return isnull ? now : DatumGetTimestampTz(v);
}

/*
 * The follow-up plan of an open lead imported with an owner, where the
 * row leaves it out, so that the sweep covers it like any other: assigned
 * at its creation, its queue's cadence, its cadence step due that step's
 * offset after its last touch (after its assignment when it was never
 * touched), in the owner's working time (now, if the cadence is spent),
 * and an SLA of the queue's business time from then or from now, whichever
 * is later -- history from before leadflow is not an SLA breach of today.
 * What the row gives is kept.
 */
static HeapTuple
import_follow_up(HeapTuple tuple, TupleDesc desc, const LeadColumns *cols,
				 RoutingConfig *config, const LeadInput *lead, RepConfig *owner,
				 TimestampTz assigned_at, bool assigned_given, TimestampTz now)
{
	QueueConfig *queue = lead->queue ? config_find_queue(config, lead->queue) : NULL;
	const Cadence *plan;
	bool		isnull;
	Datum		v;
	bool		touched;
	TimestampTz last_touch = 0;
	TimestampTz next_touch;
	int32		step;
	int			attnums[4];
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};
	int			n = 0;

	if (queue == NULL)
		queue = config->default_queue;
	if (!assigned_given)
	{
		attnums[n] = cols->assigned_at;
		values[n++] = TimestampTzGetDatum(assigned_at);
	}
	plan = lead->cadence ? lead->cadence : queue->cadence;
	if (lead->cadence == NULL)
	{
		attnums[n] = cols->cadence;
		values[n++] = PointerGetDatum(plan);
	}
	v = heap_getattr(tuple, cols->last_touch_at, desc, &isnull);
	touched = !isnull;
	if (touched)
		last_touch = DatumGetTimestampTz(v);
	v = heap_getattr(tuple, cols->next_touch_at, desc, &isnull);
	if (isnull)
	{
		v = heap_getattr(tuple, cols->cadence_step, desc, &isnull);
		step = isnull ? 0 : DatumGetInt32(v);
		next_touch = step < plan->nsteps
			? bt_next_touch(&owner->sched, &plan->steps[step],
							touched ? last_touch : assigned_at, touched ? &last_touch : NULL)
			: bt_next_open(&owner->sched, now);
		attnums[n] = cols->next_touch_at;
		values[n++] = TimestampTzGetDatum(next_touch);
	}
	else
		next_touch = DatumGetTimestampTz(v);
	(void) heap_getattr(tuple, cols->sla_due_at, desc, &isnull);
	if (isnull)
	{
		const Interval *sla = touched ? &queue->touch_sla : &queue->first_touch_sla;

		attnums[n] = cols->sla_due_at;
		values[n++] = TimestampTzGetDatum(bt_add(&owner->sched, Max(next_touch, now),
												 sla->day, sla->time));
	}
	if (n == 0)
		return tuple;
	return heap_modify_tuple_by_cols(tuple, desc, n, attnums, values, nulls);
}

static char *
column_text_cstring(text *t)
{
	return t ? text_to_cstring(t) : NULL;
}

static text *
tuple_phone(HeapTuple tuple, TupleDesc desc, const LeadColumns *cols)
{
	bool		isnull;
	Datum		d = heap_getattr(tuple, cols->phone, desc, &isnull);

	return isnull ? NULL : DatumGetTextPP(d);
}

/*
 * The result for a lead whose contact already has an open lead.  It
 * carries its account: its own, else the open lead's.
 */
static void
route_as_duplicate(RoutingConfig *config, const DuplicateMatch *match,
				   const AccountInfo *acct, RouteResult *res)
{
	memset(res, 0, sizeof(*res));
	res->chosen = -1;			/* no queue's turn taken */
	res->outcome = ROUTE_DUPLICATE;
	res->owner = match->owner_id ? config_find_rep(config, match->owner_id) : NULL;
	res->queue = match->queue ? config_find_queue(config, match->queue) : NULL;
	res->reject_reason = psprintf("duplicate of lead " INT64_FORMAT, match->lead_id);
	res->reason = res->reject_reason;
	if (acct->found)
	{
		res->account_id = acct->id;
		res->account_match = acct->match;
	}
	else if ((res->account_id = account_of_lead(match->lead_id)) != 0)
		res->account_match = ACCOUNT_DUPLICATE;
}

/* The row with a bigint column (duplicate_of, account_id) set. */
static HeapTuple
set_bigint_column(HeapTuple tuple, TupleDesc desc, int attnum, int64 value)
{
	Datum		datum = Int64GetDatum(value);
	bool		isnull = false;

	return heap_modify_tuple_by_cols(tuple, desc, 1, &attnum, &datum, &isnull);
}

/*
 * Score a lead as it arrives, before routing reads its score: fit points
 * when there are fit rules (else the lead keeps the score it came with),
 * and the default model's prediction when there is one and the lead
 * brought none.  *score follows what is written.
 */
static HeapTuple
score_new_lead(HeapTuple tuple, TupleDesc desc, const LeadColumns *cols,
			   const RoutingDoc *doc, int32 *score, MemoryContext tuple_context)
{
	int			attnums[2];
	Datum		values[2];
	bool		nulls[2] = {false, false};
	int			n = 0;
	double		p;
	bool		isnull;

	if (scoring_has_fit_rules())
	{
		*score = scoring_fit_points(doc);
		attnums[n] = cols->score;
		values[n++] = Int32GetDatum(*score);
	}
	(void) heap_getattr(tuple, cols->predicted, desc, &isnull);
	if (isnull && predict_default_model(doc, &p))
	{
		attnums[n] = cols->predicted;
		values[n++] = Float8GetDatum(p);
	}
	if (n == 0)
		return tuple;
	{
		MemoryContext previous = MemoryContextSwitchTo(tuple_context);
		HeapTuple	result = heap_modify_tuple_by_cols(tuple, desc, n, attnums, values, nulls);

		MemoryContextSwitchTo(previous);
		return result;
	}
}

/*
 * An UPDATE that changed what the lead's routing document is made of
 * gives it the default model's prediction of the new document (the fit
 * score follows it too: lead_score_fit); without a model, predicted stays.
 * Not when a rep session edits its lead: a rep may write any company or
 * attrs and read lead.predicted back, which would make the model -- built
 * from every rep's closed leads -- an oracle reps may not consult (they
 * may not call predict).  The next retrain, rescore() or a manager's or
 * CRM's edit brings it up to date.
 */
static HeapTuple
follow_prediction(HeapTuple old, HeapTuple tuple, TupleDesc desc, const LeadColumns *cols,
				  const LeadInput *lead, MemoryContext tuple_context)
{
	const int	doc_columns[] = {cols->attrs, cols->source, cols->campaign,
	cols->company, cols->country, cols->email};
	bool		changed = false;
	RoutingDoc	doc;
	double		p;

	for (int i = 0; i < (int) lengthof(doc_columns) && !changed; i++)
	{
		bool		old_null,
					new_null;
		Datum		before = heap_getattr(old, doc_columns[i], desc, &old_null);
		Datum		after = heap_getattr(tuple, doc_columns[i], desc, &new_null);

		changed = old_null != new_null ||
			(!old_null && !datum_image_eq(before, after, false, -1));
	}
	if (!changed || acting_role_is_rep_session())
		return tuple;
	routing_doc_build(&doc, lead->attrs, lead->source, lead->campaign, lead->company,
					  lead->country, lead->email);
	if (!predict_default_model(&doc, &p))
		return tuple;
	{
		MemoryContext previous = MemoryContextSwitchTo(tuple_context);
		int			attnum = cols->predicted;
		Datum		value = Float8GetDatum(p);
		bool		isnull = false;

		tuple = heap_modify_tuple_by_cols(tuple, desc, 1, &attnum, &value, &isnull);
		MemoryContextSwitchTo(previous);
		return tuple;
	}
}

/*
 * Route a new lead, or find that it duplicates an open one.  Lock order:
 * the contact (duplicate detection), then the queue.  The queue lock is
 * taken without waiting; when another transaction holds it, the contact
 * lock this lead took is let go, the queue is waited for, and the lead is
 * looked at again -- so a lead never waits for a queue while holding a
 * contact lock of its own, and two bulk INSERTs into one queue take turns
 * instead of deadlocking over contacts.
 */
static void
route_new_lead(RoutingConfig *config, LeadInput *lead, const char *email,
			   const char *phone, TimestampTz now, RouteResult *res,
			   DuplicateMatch *match)
{
	AccountInfo *acct = lead->account;

	for (;;)
	{
		bool		contact_taken = false;

		memset(match, 0, sizeof(*match));
		if (leadflow_detect_duplicates)
			contact_taken = duplicate_find(email, phone, match);
		if (match->found && match->open)
		{
			route_as_duplicate(config, match, acct, res);
			return;
		}
		lead->queue_lock_nowait = true;
		route_decide(lead, ROUTE_NEW, now, res);
		if (!res->queue_busy)
			return;
		if (contact_taken)
			duplicate_unlock(email, phone);
		routing_wait_queue(res->queue);
	}
}

PG_FUNCTION_INFO_V1(leadflow_lead_before_insert);

Datum
leadflow_lead_before_insert(PG_FUNCTION_ARGS)
{
	TriggerData *td = trigger_data(fcinfo, "leadflow_lead_before_insert");
	HeapTuple	tuple = td->tg_trigtuple;
	TupleDesc	desc = RelationGetDescr(td->tg_relation);
	MemoryContext caller = CurrentMemoryContext;
	MemoryContext spi;
	RoutingConfig *config;
	const LeadColumns *cols;
	LeadInput	lead;
	RoutingDoc	doc;
	AccountInfo acct;
	TimestampTz now;
	PendingInsert *pending;

	if (leadflow_restoring())
		return PointerGetDatum(tuple);

	SPI_connect();
	spi = CurrentMemoryContext;
	/* the statement's previous row is over: undone if it was not inserted */
	pending_resolve_current();
	config = routing_config();
	now = leadflow_now();
	cols = lead_columns_for(td->tg_relation);
	tuple = lead_normalize(tuple, NULL, desc, cols, config, caller);
	/* read once: scoring and routing share the lead, its account and its document */
	lead_input_from_tuple(&lead, tuple, desc, cols);
	routing_doc_build(&doc, lead.attrs, lead.source, lead.campaign, lead.company,
					  lead.country, lead.email);
	account_find(config, lead.account_id, &doc, &acct);
	routing_doc_set_account(&doc, acct.doc);
	lead.doc = &doc;
	lead.account = &acct;
	tuple = score_new_lead(tuple, desc, cols, &doc, &lead.score, caller);

	if (lead.current_owner != 0 || !stage_is_open(config, lead.stage))
	{
		RepConfig  *owner = lead.current_owner ? rep_or_error(config, lead.current_owner) : NULL;
		bool		assigned_given;
		TimestampTz assigned_at = import_assigned_at(tuple, desc, cols, now, &assigned_given);

		pending = pending_begin(RelationGetRelid(td->tg_relation), lead.id);
		account_create_pending(config, &acct);
		MemoryContextSwitchTo(caller);
		if (acct.found && lead.account_id == 0)
			tuple = set_bigint_column(tuple, desc, cols->account_id, acct.id);
		if (owner != NULL && stage_is_open(config, lead.stage))
			tuple = import_follow_up(tuple, desc, cols, config, &lead, owner, assigned_at,
									 assigned_given, now);
		MemoryContextSwitchTo(spi);
		import_lead(config, &lead, owner, assigned_at, now, &acct, pending);
	}
	else if (leadflow_route_on_insert)
	{
		RouteResult res;
		Datum		values[LEAD_RESULT_NCOLS];
		bool		nulls[LEAD_RESULT_NCOLS];
		DuplicateMatch match;

		pending = pending_begin(RelationGetRelid(td->tg_relation), lead.id);
		route_new_lead(config, &lead, column_text_cstring(lead.email),
					   column_text_cstring(tuple_phone(tuple, desc, cols)), now, &res, &match);
		lead_result_values(&lead, &res, config, now, values, nulls);
		/* the new tuple must outlive SPI_finish */
		MemoryContextSwitchTo(caller);
		tuple = lead_apply_result(tuple, desc, cols, values, nulls);
		if (match.found)
			tuple = set_bigint_column(tuple, desc, cols->duplicate_of, match.lead_id);
		MemoryContextSwitchTo(spi);
		route_record(&lead, &res, true, now);
		if (res.outcome == ROUTE_DUPLICATE)
			duplicate_note_reinquiry(match.lead_id, lead.id, now);
		pending_record_route(pending, &res);
	}
	SPI_finish();
	return PointerGetDatum(tuple);
}

/*
 * Follow-up for a lead that starts again with an owner -- given to a new
 * one by hand, or back in the pipeline from nurture or rejected: the
 * cadence restarts at its first step from now (a lead without a cadence
 * takes its queue's), and the first-touch SLA runs from now.
 */
static HeapTuple
restart_follow_up(HeapTuple tuple, TupleDesc desc, const LeadColumns *cols,
				  RoutingConfig *config, RepConfig *owner, const char *queue_name,
				  TimestampTz now)
{
	QueueConfig *queue = queue_name ? config_find_queue(config, queue_name) : NULL;
	const Interval *sla;
	bool		isnull;
	Datum		cadence = heap_getattr(tuple, cols->cadence, desc, &isnull);
	const Cadence *plan;
	int			attnums[5];
	Datum		values[5];
	bool		nulls[5] = {false, false, false, false, false};

	if (queue == NULL)
		queue = config->default_queue;
	plan = isnull ? queue->cadence : DatumGetCadenceP(cadence);
	sla = &queue->first_touch_sla;
	attnums[0] = cols->assigned_at;
	values[0] = TimestampTzGetDatum(now);
	attnums[1] = cols->cadence;
	values[1] = PointerGetDatum(plan);
	attnums[2] = cols->cadence_step;
	values[2] = Int32GetDatum(0);
	attnums[3] = cols->next_touch_at;
	values[3] = TimestampTzGetDatum(bt_next_touch(&owner->sched, &plan->steps[0], now, NULL));
	attnums[4] = cols->sla_due_at;
	values[4] = TimestampTzGetDatum(bt_add(&owner->sched, now, sla->day, sla->time));
	return heap_modify_tuple_by_cols(tuple, desc, 5, attnums, values, nulls);
}

/*
 * The column's value in the new row when it is set and differs from the
 * old row's; else NULL.
 */
static char *
changed_text(HeapTuple oldtuple, HeapTuple newtuple, TupleDesc desc, int attnum)
{
	bool		old_null,
				new_null;
	Datum		old_value = heap_getattr(oldtuple, attnum, desc, &old_null);
	Datum		new_value = heap_getattr(newtuple, attnum, desc, &new_null);
	char	   *now;

	if (new_null)
		return NULL;
	now = TextDatumGetCString(new_value);
	if (!old_null && strcmp(now, TextDatumGetCString(old_value)) == 0)
		return NULL;
	return now;
}

/*
 * A lead's new email or phone must not be that of another owner's open
 * lead, unless a manager sets it (see duplicate_refuse_contact_taken).
 */
static void
refuse_taken_contacts(HeapTuple oldtuple, HeapTuple newtuple, TupleDesc desc,
					  const LeadColumns *cols, const LeadInput *lead)
{
	char	   *email = changed_text(oldtuple, newtuple, desc, cols->email);
	char	   *phone = changed_text(oldtuple, newtuple, desc, cols->phone);

	if ((email == NULL && phone == NULL) || acting_role_is_manager())
		return;
	if (email != NULL)
		duplicate_refuse_contact_taken(lead->id, lead->current_owner, "email", email);
	if (phone != NULL)
		duplicate_refuse_contact_taken(lead->id, lead->current_owner, "phone", phone);
}

static HeapTuple
set_stage_changed_at(HeapTuple tuple, TupleDesc desc, const LeadColumns *cols,
					 TimestampTz now)
{
	int			attnum = cols->stage_changed_at;
	Datum		value = TimestampTzGetDatum(now);
	bool		isnull = false;

	return heap_modify_tuple_by_cols(tuple, desc, 1, &attnum, &value, &isnull);
}

/*
 * Was the lead put in another queue by hand?  Not when its queue was
 * renamed (ON UPDATE CASCADE: the old name is gone), which the ledger
 * does not follow.  The caller is connected to SPI.
 */
static bool
queue_moved_by_hand(const LeadInput *before, const LeadInput *after)
{
	static SPIPlanPtr plan = NULL;
	static const Oid argtypes[] = {TEXTOID};
	Datum		arg;

	if (before->queue == NULL || after->queue == NULL)
		return (before->queue == NULL) != (after->queue == NULL);
	if (strcmp(before->queue, after->queue) == 0)
		return false;
	arg = CStringGetTextDatum(before->queue);
	if (SPI_execute_plan(leadflow_plan(&plan,
									   "SELECT FROM leadflow.queue WHERE name = $1",
									   1, argtypes),
						 &arg, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "leadflow: could not read the queues");
	return SPI_processed > 0;
}

PG_FUNCTION_INFO_V1(leadflow_lead_before_update);

Datum
leadflow_lead_before_update(PG_FUNCTION_ARGS)
{
	TriggerData *td = trigger_data(fcinfo, "leadflow_lead_before_update");
	HeapTuple	newtuple = td->tg_newtuple;
	TupleDesc	desc = RelationGetDescr(td->tg_relation);
	const LeadColumns *cols;
	MemoryContext caller = CurrentMemoryContext;
	MemoryContext spi;
	RoutingConfig *config;
	LeadInput	before,
				after;
	bool		was_open,
				is_open,
				owner_changed;
	TimestampTz now;

	if (leadflow_restoring() || leadflow_routing_writes)
		return PointerGetDatum(newtuple);

	SPI_connect();
	spi = CurrentMemoryContext;
	/* ON CONFLICT DO UPDATE: the row whose insert conflicted was not inserted */
	pending_resolve_current();
	config = routing_config();
	cols = lead_columns_for(td->tg_relation);
	newtuple = lead_normalize(newtuple, td->tg_trigtuple, desc, cols, config, caller);
	lead_input_from_tuple(&before, td->tg_trigtuple, desc, cols);
	lead_input_from_tuple(&after, newtuple, desc, cols);
	newtuple = follow_prediction(td->tg_trigtuple, newtuple, desc, cols, &after, caller);
	now = leadflow_now();
	refuse_taken_contacts(td->tg_trigtuple, newtuple, desc, cols, &after);

	/* the column is NOT NULL, but this trigger reads it before that check */
	if (!OidIsValid(after.stage))
		ereport(ERROR,
				(errcode(ERRCODE_NOT_NULL_VIOLATION),
				 errmsg("the stage of lead " INT64_FORMAT " cannot be NULL", after.id),
				 errhint("Set one of new, working, qualified, converted, nurture or rejected.")));

	/* the ledger, touches, events and history know a lead by its id (a NULL
	 * id is left to the NOT NULL constraint) */
	if (after.id != 0 && before.id != after.id)
		ereport(ERROR,
				(errcode(ERRCODE_RESTRICT_VIOLATION),
				 errmsg("the id of lead " INT64_FORMAT " cannot change", before.id),
				 errdetail("The decision ledger and the lead's history refer to it."),
				 errhint("Insert a new lead and merge the old one into it (leadflow.merge).")));

	was_open = before.current_owner != 0 && stage_is_open(config, before.stage);
	is_open = after.current_owner != 0 && stage_is_open(config, after.stage);
	owner_changed = before.current_owner != after.current_owner;

	if (before.stage != after.stage)
		stage_check_change(config, after.id, before.stage, after.stage);
	if (owner_changed && after.current_owner != 0)
		(void) rep_or_error(config, after.current_owner);
	/* a manager's override claims at once: lock both reps in id order first */
	if (owner_changed && before.current_owner != 0 && after.current_owner != 0 &&
		may_override_caps())
		caps_lock(before.current_owner, after.current_owner);

	/* Seats: give back the old one, take the new one. */
	if (was_open && (owner_changed || !is_open))
		caps_release(before.current_owner);
	if (is_open && (owner_changed || !was_open))
	{
		RepConfig  *owner = rep_or_error(config, after.current_owner);
		const char *note = claim_for_manual_move(owner, after.id, now);

		if (owner_changed)
			record_manual(after.id, before.current_owner, owner->id, after.queue,
						  manual_reason("direct update of owner_id", note), now, NULL);
		/* a new owner, or a lead back in the pipeline: touch it now */
		MemoryContextSwitchTo(caller);
		newtuple = restart_follow_up(newtuple, desc, cols, config, owner,
									 after.queue, now);
		MemoryContextSwitchTo(spi);
	}
	else if (owner_changed)
		record_manual(after.id, before.current_owner, after.current_owner, after.queue,
					  manual_reason("direct update of owner_id", NULL), now, NULL);
	else if (queue_moved_by_hand(&before, &after) && stage_is_open(config, after.stage))
		record_manual(after.id, after.current_owner, after.current_owner, after.queue,
					  manual_reason("direct update of queue", NULL), now, NULL);

	/* A closed lead counts toward its owner's record. */
	if (after.current_owner != 0 && was_open && !stage_is_open(config, after.stage))
		caps_record_outcome(after.current_owner, stage_is_won(config, after.stage), 1);

	if (before.stage != after.stage)
	{
		stage_record(config, after.id, before.stage, after.stage, now);
		MemoryContextSwitchTo(caller);
		newtuple = set_stage_changed_at(newtuple, desc, cols, now);
		MemoryContextSwitchTo(spi);
	}
	SPI_finish();
	return PointerGetDatum(newtuple);
}

PG_FUNCTION_INFO_V1(leadflow_lead_after_delete);

/*
 * AFTER DELETE of a lead (fired only for rows really deleted).  An open
 * lead gives its owner's seat back.  The ledger keeps its decisions (they
 * hold no personal data) and gains a "delete" decision saying who deleted
 * it; its touches, events and stage history go with it (the foreign keys
 * cascade), and so do its alerts.  A closed lead's outcome stays counted
 * in its owner's record: the outcome happened.
 */
Datum
leadflow_lead_after_delete(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr alerts_plan = NULL;
	static const Oid argtypes[] = {INT8OID};
	TriggerData *td = trigger_data(fcinfo, "leadflow_lead_after_delete");
	RoutingConfig *config;
	LeadInput	lead;
	DecisionRow row;
	Datum		arg;

	if (leadflow_restoring())
		return PointerGetDatum(NULL);
	SPI_connect();
	config = routing_config();
	lead_input_from_tuple(&lead, td->tg_trigtuple, RelationGetDescr(td->tg_relation),
						  lead_columns_for(td->tg_relation));
	if (lead.current_owner != 0 && stage_is_open(config, lead.stage))
		caps_release(lead.current_owner);

	memset(&row, 0, sizeof(row));
	row.lead_id = lead.id;
	row.at = leadflow_now();
	row.kind = "delete";
	row.from_rep = lead.current_owner;
	row.queue = lead.queue;
	row.reason = psprintf("deleted by %s", acting_role_name());
	ledger_decision(&row);

	arg = Int64GetDatum(lead.id);
	if (SPI_execute_plan(leadflow_plan(&alerts_plan,
									   "DELETE FROM leadflow.alert WHERE lead_id = $1",
									   1, argtypes),
						 &arg, NULL, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "leadflow: could not remove the alerts of lead " INT64_FORMAT, lead.id);
	SPI_finish();
	return PointerGetDatum(NULL);
}

PG_FUNCTION_INFO_V1(leadflow_lead_truncated);

/*
 * AFTER TRUNCATE of leadflow.lead: leadflow starts over.  With the leads
 * go the ledger and the alerts about them (a lead id may be given again,
 * after RESTART IDENTITY, and must not inherit another lead's history),
 * every rep's counters are zero again and the queues' rotation starts
 * afresh.  Accounts and their owners stay.
 */
Datum
leadflow_lead_truncated(PG_FUNCTION_ARGS)
{
	static const char *const resets[] = {
		"DELETE FROM leadflow.decision",
		"DELETE FROM leadflow.alert",
		"UPDATE leadflow.rep_load SET open_count = 0, new_day = NULL, new_count = 0,"
		" last_assigned_at = NULL, won_count = 0, closed_count = 0",
		"DELETE FROM leadflow.member_state",
	};
	int			i;

	(void) trigger_data(fcinfo, "leadflow_lead_truncated");
	if (leadflow_restoring())
		return PointerGetDatum(NULL);
	SPI_connect();
	caps_reset();
	strategy_reset();
	ledger_reset();
	for (i = 0; i < (int) lengthof(resets); i++)
		if (SPI_execute(resets[i], false, 0) < 0)
			elog(ERROR, "leadflow: could not reset after TRUNCATE: %s", resets[i]);
	SPI_finish();
	return PointerGetDatum(NULL);
}
