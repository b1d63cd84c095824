/*
 * touches.c
 *	  The trigger on leadflow.touch that makes a logged touch count: it
 *	  checks who may log it, then advances the lead -- stage, cadence
 *	  step, next touch, SLA clock, rejection reason -- and carries out
 *	  what the outcome asks (a referral becomes a new lead, another
 *	  contact of the account may be pursued).
 *
 * Which outcome leads to which stage, and on which stages a touch may be
 * logged, are stage rules: stages.c owns them.  The next touch and the
 * SLA are computed here, in the owner's working time, from the schedule
 * the configuration cache holds for the owner (config_cache.c), as the
 * lead triggers do at assignment.
 *
 * Two triggers run before it, by name, as the caller (not SECURITY
 * DEFINER): touch_authorize bounds what a rep session may log -- its own
 * leads, as its own rep, at a believable time -- reading the lead through
 * row-level security; touch_check_input refuses a touch without a lead id.
 *
 * The lead is locked (SELECT ... FOR UPDATE) before anything is decided;
 * its UPDATE goes through the lead triggers (lead_triggers.c), which check
 * the stage change, record it and keep the counters.  Everything per row
 * lives in SPI's memory, which SPI_finish frees; only the row returned is
 * made in the caller's context.  A restore keeps touches as given: the
 * dump already holds their effects.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/rel.h"

#include "touches.h"
#include "business_time.h"
#include "cadence.h"
#include "config_cache.h"
#include "guc.h"
#include "invalidation.h"
#include "lead_fetch.h"
#include "roles.h"
#include "spi_plans.h"
#include "stages.h"

/* The touch table's columns this trigger reads, looked up once per definition. */
typedef struct TouchColumns
{
	Oid			relid;
	int			lead_id;
	int			rep_id;
	int			at;
	int			channel;
	int			outcome;
	int			note;
	int			referral;
} TouchColumns;

static TouchColumns touch_columns;
static bool touch_columns_valid = false;

/* How far after leadflow.now() a rep may date a touch: a fast clock's skew. */
#define REP_TOUCH_SKEW_USECS (5 * USECS_PER_MINUTE)

/* The touch being inserted. */
typedef struct TouchInput
{
	bool		has_lead_id;
	int64		lead_id;
	int32		rep_id;			/* 0 when not given */
	bool		has_at;
	TimestampTz at;
	bool		has_channel;
	bool		has_outcome;
	TouchOutcome outcome;
	const char *outcome_label;
	text	   *note;			/* NULL when none */
	Jsonb	   *referral;		/* NULL when none */
} TouchInput;

/* The lead touched, as this trigger needs it. */
typedef struct TouchedLead
{
	int64		id;
	Oid			stage;
	int32		owner_id;		/* 0 when none */
	char	   *queue;			/* NULL when none */
	Cadence    *cadence;		/* NULL when none */
	int32		cadence_step;
	bool		has_assigned_at;
	TimestampTz assigned_at;
	bool		has_account;
	int64		account_id;
	Datum		company;
	bool		company_null;
	Datum		country;
	bool		country_null;
	Datum		campaign;
	bool		campaign_null;
} TouchedLead;

/* What the touch does to the lead. */
typedef struct TouchEffect
{
	Cadence    *cadence;		/* the lead's plan, its queue's when it had none */
	int32		cadence_step;
	Oid			stage;
	bool		has_next_touch;
	TimestampTz next_touch_at;
	bool		has_sla;		/* not without a queue */
	TimestampTz sla_due_at;
	char	   *reject_reason;	/* NULL: keep the lead's */
} TouchEffect;

static void
touch_columns_invalidate(Oid relid)
{
	if (relid == InvalidOid || relid == touch_columns.relid)
		touch_columns_valid = false;
}

void
touches_init(void)
{
	leadflow_on_relcache(touch_columns_invalidate);
}

static int
touch_column(TupleDesc desc, const char *name)
{
	int			attnum = SPI_fnumber(desc, name);

	if (attnum <= 0)
		elog(ERROR, "leadflow: leadflow.touch has no column %s", name);
	return attnum;
}

static const TouchColumns *
touch_columns_for(Relation rel)
{
	if (!touch_columns_valid || touch_columns.relid != RelationGetRelid(rel))
	{
		TupleDesc	desc = RelationGetDescr(rel);

		touch_columns.lead_id = touch_column(desc, "lead_id");
		touch_columns.rep_id = touch_column(desc, "rep_id");
		touch_columns.at = touch_column(desc, "at");
		touch_columns.channel = touch_column(desc, "channel");
		touch_columns.outcome = touch_column(desc, "outcome");
		touch_columns.note = touch_column(desc, "note");
		touch_columns.referral = touch_column(desc, "referral");
		touch_columns.relid = RelationGetRelid(rel);
		touch_columns_valid = true;
	}
	return &touch_columns;
}

static void
touch_input_from_tuple(TouchInput *touch, HeapTuple tuple, TupleDesc desc,
					   const TouchColumns *cols)
{
	bool		isnull;
	Datum		d;

	d = heap_getattr(tuple, cols->lead_id, desc, &isnull);
	touch->has_lead_id = !isnull;
	touch->lead_id = isnull ? 0 : DatumGetInt64(d);
	d = heap_getattr(tuple, cols->rep_id, desc, &isnull);
	touch->rep_id = isnull ? 0 : DatumGetInt32(d);
	d = heap_getattr(tuple, cols->at, desc, &isnull);
	touch->has_at = !isnull;
	touch->at = isnull ? 0 : DatumGetTimestampTz(d);
	(void) heap_getattr(tuple, cols->channel, desc, &isnull);
	touch->has_channel = !isnull;
	d = heap_getattr(tuple, cols->outcome, desc, &isnull);
	touch->has_outcome = !isnull;
	touch->outcome_label = isnull ? NULL
		: DatumGetCString(DirectFunctionCall1(enum_out, d));
	touch->outcome = isnull ? OUTCOME_DEAD : touch_outcome_from_label(touch->outcome_label);
	d = heap_getattr(tuple, cols->note, desc, &isnull);
	touch->note = isnull ? NULL : DatumGetTextPP(d);
	d = heap_getattr(tuple, cols->referral, desc, &isnull);
	touch->referral = isnull ? NULL : DatumGetJsonbP(d);
}

static void
check_touch_evaluates(const TouchInput *touch)
{
	if (!touch->has_outcome || !touch->has_channel)
		ereport(ERROR,
				(errcode(ERRCODE_NOT_NULL_VIOLATION),
				 errmsg("a touch needs a channel and an outcome"),
				 errdetail("Every touch evaluates the lead: not_reached, connected, qualified, nurture, dead, dead_referral, dead_other_contact or unsubscribed.")));
}

/* Datum i of the SPI result's first row; *isnull says whether it is NULL. */
static Datum
result_column(int i, bool *isnull)
{
	return SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, i, isnull);
}

/* Column name of the lead's row; *isnull says whether it is NULL. */
static Datum
lead_column(HeapTuple row, TupleDesc desc, const char *name, bool *isnull)
{
	int			attnum = SPI_fnumber(desc, name);

	if (attnum <= 0)
		elog(ERROR, "leadflow: leadflow.lead has no column \"%s\"", name);
	return heap_getattr(row, attnum, desc, isnull);
}

/* Lock the lead FOR UPDATE and read it; error when it does not exist. */
static void
lock_lead(const TouchInput *touch, TouchedLead *lead)
{
	HeapTuple	row;
	TupleDesc	desc;
	bool		isnull;
	Datum		d;

	if (!touch->has_lead_id)	/* touch_check_input refuses it first */
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("lead <NULL> does not exist")));
	row = lead_fetch(touch->lead_id, LEAD_LOCK_UPDATE, &desc);
	if (row == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("lead " INT64_FORMAT " does not exist", touch->lead_id)));
	lead->id = touch->lead_id;
	lead->stage = DatumGetObjectId(lead_column(row, desc, "stage", &isnull));
	d = lead_column(row, desc, "owner_id", &isnull);
	lead->owner_id = isnull ? 0 : DatumGetInt32(d);
	d = lead_column(row, desc, "queue", &isnull);
	lead->queue = isnull ? NULL : TextDatumGetCString(d);
	d = lead_column(row, desc, "cadence", &isnull);
	lead->cadence = isnull ? NULL : DatumGetCadenceP(d);
	lead->cadence_step = DatumGetInt32(lead_column(row, desc, "cadence_step", &isnull));
	d = lead_column(row, desc, "assigned_at", &isnull);
	lead->has_assigned_at = !isnull;
	lead->assigned_at = isnull ? 0 : DatumGetTimestampTz(d);
	d = lead_column(row, desc, "account_id", &isnull);
	lead->has_account = !isnull;
	lead->account_id = isnull ? 0 : DatumGetInt64(d);
	lead->company = lead_column(row, desc, "company", &lead->company_null);
	lead->country = lead_column(row, desc, "country", &lead->country_null);
	lead->campaign = lead_column(row, desc, "campaign", &lead->campaign_null);
}

static void
check_lead_has_owner(const TouchedLead *lead)
{
	if (lead->owner_id == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("lead " INT64_FORMAT " has no owner", lead->id),
				 errhint("Route it (leadflow.route) or assign it (leadflow.assign) first.")));
}

/* The rep id a one-row query gives, or 0 (no row, or NULL). */
static int32
query_rep_id(SPIPlanPtr *slot, const char *sql, int nargs, const Oid *argtypes,
			 Datum *args)
{
	bool		isnull;
	Datum		d;

	if (SPI_execute_plan(leadflow_plan(slot, sql, nargs, argtypes),
						 args, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "leadflow: could not look up a rep");
	if (SPI_processed == 0)
		return 0;
	d = result_column(1, &isnull);
	return isnull ? 0 : DatumGetInt32(d);
}

/* The id of the rep whose login is the acting role, or 0. */
static int32
acting_rep_id(void)
{
	static SPIPlanPtr plan = NULL;
	static const Oid argtypes[] = {TEXTOID};
	Datum		args[1];

	args[0] = CStringGetTextDatum(acting_role_name());
	return query_rep_id(&plan, "SELECT id FROM leadflow.rep WHERE login = $1",
						1, argtypes, args);
}

/*
 * Who is touching: the rep named, else the acting role's rep, else the
 * owner.  Only the owner or a manager may log a touch on a lead.
 */
static int32
touching_rep(const TouchInput *touch, const TouchedLead *lead)
{
	int32		touching = touch->rep_id;

	if (touching == 0)
		touching = acting_rep_id();
	if (touching == 0)
		touching = lead->owner_id;
	if (touching != lead->owner_id && !acting_role_is_manager())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("lead " INT64_FORMAT " belongs to rep %d, not rep %d",
						lead->id, lead->owner_id, touching),
				 errhint("Only the owner or a member of leadflow_manager may log a touch on a lead.")));
	return touching;
}

/* Error when a lead is qualified before its required criteria are met. */
static void
check_qualification(const TouchedLead *lead)
{
	static SPIPlanPtr plan = NULL;
	static const Oid argtypes[] = {INT8OID};
	Datum		args[1];
	bool		isnull;
	Datum		missing;

	args[0] = Int64GetDatum(lead->id);
	if (SPI_execute_plan(leadflow_plan(&plan,
									   "SELECT pg_catalog.string_agg(pg_catalog.format('%s (%s)', m.criterion,"
									   " CASE WHEN m.answer IS NULL OR pg_catalog.btrim(m.answer) = ''"
									   " THEN 'no answer'"
									   " ELSE pg_catalog.format('answer %L not in %s', m.answer, m.allowed) END),"
									   " ', ')"
									   " FROM leadflow.qualification_missing($1) m",
									   1, argtypes),
						 args, NULL, false, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "leadflow: could not check the qualification of lead " INT64_FORMAT,
			 lead->id);
	missing = result_column(1, &isnull);
	if (!isnull)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("lead " INT64_FORMAT " cannot be qualified yet", lead->id),
				 errdetail("Missing or not allowed: %s.", TextDatumGetCString(missing)),
				 errhint("Record the answers in the lead's attrs; leadflow.qualification_missing(lead_id) lists them.")));
}

/* Has the object a non-null value under key (what ->> would not give as NULL)? */
static bool
jsonb_has_value(Jsonb *doc, const char *key)
{
	JsonbValue *v;

	if (doc == NULL || !JB_ROOT_IS_OBJECT(doc))
		return false;
	v = getKeyJsonValueFromContainer(&doc->root, key, strlen(key), NULL);
	return v != NULL && v->type != jbvNull;
}

static void
check_referral(const TouchInput *touch)
{
	if (!jsonb_has_value(touch->referral, "email") &&
		!jsonb_has_value(touch->referral, "phone"))
		ereport(ERROR,
				(errcode(ERRCODE_NOT_NULL_VIOLATION),
				 errmsg("a dead_referral touch needs the referral's email or phone"),
				 errhint("Pass referral => '{\"name\": \"...\", \"email\": \"...\"}'.")));
}

/* The rejection reason: the outcome, and the note when there is one. */
static char *
reject_reason(const TouchInput *touch)
{
	if (touch->note == NULL)
		return pstrdup(touch->outcome_label);
	return psprintf("%s: %s", touch->outcome_label, text_to_cstring(touch->note));
}

/*
 * What the touch does to the lead.  A cadence touch is the current step;
 * the next one falls due in the owner's working time, rotated away from
 * this attempt, and the SLA runs from it.
 */
static void
decide_effect(RoutingConfig *config, const TouchInput *touch, const TouchedLead *lead,
			  const RepConfig *owner, const QueueConfig *queue, TouchEffect *effect)
{
	bool		cadence_spent = false;

	/* an imported lead may come without a plan: it takes its queue's */
	effect->cadence = lead->cadence ? lead->cadence : queue ? queue->cadence : NULL;
	effect->cadence_step = lead->cadence_step;
	effect->has_next_touch = effect->has_sla = false;
	effect->next_touch_at = effect->sla_due_at = 0;
	effect->reject_reason = NULL;

	if (touch_continues_cadence(touch->outcome))
	{
		bool		has_anchor = lead->has_assigned_at || touch->has_at;

		effect->cadence_step = lead->cadence_step + 1;
		cadence_spent = effect->cadence == NULL || !has_anchor ||
			effect->cadence_step >= effect->cadence->nsteps;
		if (!cadence_spent)
		{
			effect->has_next_touch = true;
			effect->next_touch_at =
				bt_next_touch(&owner->sched, &effect->cadence->steps[effect->cadence_step],
							  lead->has_assigned_at ? lead->assigned_at : touch->at,
							  touch->has_at ? &touch->at : NULL);
		}
	}
	else if (touch->outcome == OUTCOME_QUALIFIED)
		check_qualification(lead);
	else if (touch->outcome != OUTCOME_NURTURE)
	{
		effect->reject_reason = reject_reason(touch);
		if (touch->outcome == OUTCOME_DEAD_REFERRAL)
			check_referral(touch);
	}
	effect->stage = stage_after_touch(config, lead->stage, touch->outcome, cadence_spent);
	/* without a queue (its name no longer exists) there is no SLA to run */
	effect->has_sla = effect->has_next_touch && queue != NULL;
	if (effect->has_sla)
		effect->sla_due_at = bt_add(&owner->sched, effect->next_touch_at,
									queue->touch_sla.day, queue->touch_sla.time);
}

static void
write_effect(RoutingConfig *config, const TouchInput *touch, const TouchedLead *lead,
			 const TouchEffect *effect)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[8] = {INT8OID, InvalidOid, TIMESTAMPTZOID, InvalidOid,
	INT4OID, TIMESTAMPTZOID, TIMESTAMPTZOID, TEXTOID};
	Datum		args[8];
	char		nulls[8] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};

	argtypes[1] = config->cadence_type;
	argtypes[3] = config->stage_type;
	args[0] = Int64GetDatum(lead->id);
	args[1] = PointerGetDatum(effect->cadence);
	nulls[1] = effect->cadence ? ' ' : 'n';
	args[2] = TimestampTzGetDatum(touch->at);
	nulls[2] = touch->has_at ? ' ' : 'n';
	args[3] = ObjectIdGetDatum(effect->stage);
	args[4] = Int32GetDatum(effect->cadence_step);
	args[5] = TimestampTzGetDatum(effect->next_touch_at);
	args[6] = TimestampTzGetDatum(effect->sla_due_at);
	nulls[5] = effect->has_next_touch ? ' ' : 'n';
	nulls[6] = effect->has_sla ? ' ' : 'n';
	args[7] = effect->reject_reason ? CStringGetTextDatum(effect->reject_reason) : (Datum) 0;
	nulls[7] = effect->reject_reason ? ' ' : 'n';
	if (SPI_execute_plan(lead_plan(&plan,
								   "UPDATE leadflow.lead SET cadence = $2, touches = touches + 1,"
								   " first_touch_at = coalesce(first_touch_at, $3),"
								   " last_touch_at = greatest(last_touch_at, $3),"
								   " stage = $4, cadence_step = $5,"
								   " next_touch_at = $6, sla_due_at = $7,"
								   " reject_reason = coalesce($8, reject_reason)"
								   " WHERE id = $1",
								   8, argtypes),
						 args, nulls, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "leadflow: could not update lead " INT64_FORMAT " for a touch", lead->id);
}

/* Another contact of the account may be pursued. */
static void
pursue_other_contacts(int64 account_id)
{
	static SPIPlanPtr plan = NULL;
	static const Oid argtypes[] = {INT8OID};
	Datum		args[1];

	args[0] = Int64GetDatum(account_id);
	if (SPI_execute_plan(leadflow_plan(&plan,
									   "UPDATE leadflow.account SET pursue_other_contacts = true"
									   " WHERE id = $1",
									   1, argtypes),
						 args, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "leadflow: could not update account " INT64_FORMAT, account_id);
}

/* The referral is a new lead, routed like any other. */
static void
insert_referral(const TouchInput *touch, const TouchedLead *lead)
{
	static SPIPlanPtr plan = NULL;
	static const Oid argtypes[] = {JSONBOID, TEXTOID, TEXTOID, TEXTOID, INT8OID};
	Datum		args[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};

	args[0] = JsonbPGetDatum(touch->referral);
	args[1] = lead->company;
	nulls[1] = lead->company_null ? 'n' : ' ';
	args[2] = lead->country;
	nulls[2] = lead->country_null ? 'n' : ' ';
	args[3] = lead->campaign;
	nulls[3] = lead->campaign_null ? 'n' : ' ';
	args[4] = Int64GetDatum(lead->id);
	if (SPI_execute_plan(leadflow_plan(&plan,
									   "INSERT INTO leadflow.lead (name, email, phone, company, country,"
									   " source, campaign, attrs, referred_by)"
									   " VALUES ($1 ->> 'name', $1 ->> 'email', $1 ->> 'phone',"
									   " coalesce($1 ->> 'company', $2), coalesce($1 ->> 'country', $3),"
									   " 'referral', $4, coalesce($1 -> 'attrs', '{}'), $5)",
									   5, argtypes),
						 args, nulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "leadflow: could not insert the referral of lead " INT64_FORMAT, lead->id);
}

static TriggerData *
trigger_data(FunctionCallInfo fcinfo, const char *name)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "%s: not called as a trigger", name);
	return (TriggerData *) fcinfo->context;
}

static char *
timestamptz_text(TimestampTz ts)
{
	return DatumGetCString(DirectFunctionCall1(timestamptz_out, TimestampTzGetDatum(ts)));
}

/* The rep of the current role (leadflow.current_rep_id()), or 0. */
static int32
current_rep_id(void)
{
	static SPIPlanPtr plan = NULL;

	return query_rep_id(&plan, "SELECT leadflow.current_rep_id()", 0, NULL, NULL);
}

/*
 * When the lead became the rep's (assigned_at, else created_at), read
 * through row-level security: false when the rep cannot see the lead.
 */
static bool
lead_visible_since(int64 lead_id, TimestampTz *since, bool *has_since)
{
	static SPIPlanPtr plan = NULL;
	static const Oid argtypes[] = {INT8OID};
	Datum		args[1];
	Datum		d;
	bool		isnull;

	args[0] = Int64GetDatum(lead_id);
	if (SPI_execute_plan(lead_plan(&plan,
								   "SELECT coalesce(l.assigned_at, l.created_at)"
								   " FROM leadflow.lead l WHERE l.id = $1",
								   1, argtypes),
						 args, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "leadflow: could not read lead " INT64_FORMAT, lead_id);
	if (SPI_processed == 0)
		return false;
	d = result_column(1, &isnull);
	*has_since = !isnull;
	*since = isnull ? 0 : DatumGetTimestampTz(d);
	return true;
}

/* Error unless the touch's time is one a rep may record. */
static void
check_rep_touch_time(const TouchInput *touch, bool has_since, TimestampTz since)
{
	TimestampTz now = leadflow_now();

	if (!touch->has_at)
		return;
	if (touch->at > now + REP_TOUCH_SKEW_USECS)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_FIELD_OVERFLOW),
				 errmsg("touch time %s is in the future", timestamptz_text(touch->at)),
				 errdetail("A rep records a touch at most 5 minutes after leadflow.now() (%s), for clock skew.",
						   timestamptz_text(now)),
				 errhint("Leave \"at\" out to record the touch now; a manager may record other times.")));
	if (has_since && touch->at < since)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_FIELD_OVERFLOW),
				 errmsg("touch time %s is before lead " INT64_FORMAT " was assigned (%s)",
						timestamptz_text(touch->at), touch->lead_id, timestamptz_text(since)),
				 errdetail("A rep records the touches it made since the lead became its own."),
				 errhint("A manager may record touches from before the assignment.")));
}

PG_FUNCTION_INFO_V1(leadflow_touch_authorize);

/*
 * leadflow.touch_authorize(): BEFORE INSERT on leadflow.touch, first.  In
 * a rep session the role must be mapped to a rep, the touch must be that
 * rep's, on a lead it sees, at most 5 minutes after leadflow.now() and not
 * before the lead became its own.  Managers and CRM back ends (imports of
 * history) record any finite time.
 */
Datum
leadflow_touch_authorize(PG_FUNCTION_ARGS)
{
	TriggerData *td = trigger_data(fcinfo, "leadflow_touch_authorize");
	HeapTuple	tuple = td->tg_trigtuple;
	TouchInput	touch;
	int32		me;
	TimestampTz since = 0;
	bool		has_since = false;

	if (leadflow_restoring() || !current_role_is_rep_session())
		return PointerGetDatum(tuple);

	SPI_connect();
	touch_input_from_tuple(&touch, tuple, RelationGetDescr(td->tg_relation),
						   touch_columns_for(td->tg_relation));
	me = current_rep_id();
	if (me == 0)
	{
		char	   *role = GetUserNameFromId(GetUserId(), false);

		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("role \"%s\" is not mapped to a rep", role),
				 errdetail("A member of leadflow_rep works the leads of the rep whose login is its role name."),
				 errhint("An admin maps it: UPDATE leadflow.rep SET login = %s WHERE id = ...;",
						 quote_literal_cstr(role))));
	}
	if (touch.rep_id != 0 && touch.rep_id != me)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("rep %d cannot log a touch as rep %d", me, touch.rep_id),
				 errhint("Leave rep_id out: the touch is the acting rep's.")));
	/* without a lead id touch_check_input says what is wrong */
	if (touch.has_lead_id && !lead_visible_since(touch.lead_id, &since, &has_since))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("lead " INT64_FORMAT " is not one of rep %d's leads", touch.lead_id, me),
				 errhint("Only the owner or a member of leadflow_manager may log a touch on a lead.")));
	check_rep_touch_time(&touch, has_since, since);
	SPI_finish();
	return PointerGetDatum(tuple);
}

PG_FUNCTION_INFO_V1(leadflow_touch_check_input);

/*
 * leadflow.touch_check_input(): BEFORE INSERT on leadflow.touch, before
 * touch_evaluate (by name), which would otherwise report "lead <NULL>
 * does not exist".
 */
Datum
leadflow_touch_check_input(PG_FUNCTION_ARGS)
{
	TriggerData *td = trigger_data(fcinfo, "leadflow_touch_check_input");
	bool		isnull;

	(void) heap_getattr(td->tg_trigtuple, touch_columns_for(td->tg_relation)->lead_id,
						RelationGetDescr(td->tg_relation), &isnull);
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_NOT_NULL_VIOLATION),
				 errmsg("a touch needs a lead id"),
				 errhint("Pass the id of the lead touched, e.g. leadflow.log_touch(42, 'call', 'connected').")));
	return PointerGetDatum(td->tg_trigtuple);
}

PG_FUNCTION_INFO_V1(leadflow_touch_before_insert);

/* leadflow.touch_before_insert(): BEFORE INSERT on leadflow.touch. */
Datum
leadflow_touch_before_insert(PG_FUNCTION_ARGS)
{
	TriggerData *td = trigger_data(fcinfo, "leadflow_touch_before_insert");
	HeapTuple	tuple = td->tg_trigtuple;
	TupleDesc	desc;
	const TouchColumns *cols;
	MemoryContext caller = CurrentMemoryContext;
	RoutingConfig *config;
	TouchInput	touch;
	TouchedLead lead;
	TouchEffect effect;
	RepConfig  *owner;
	QueueConfig *queue;
	int32		touching;
	int			attnum[1];
	Datum		value[1];
	bool		isnull[1] = {false};

	/* a restore brings back touches whose effects the dump already holds */
	if (leadflow_restoring())
		return PointerGetDatum(tuple);

	desc = RelationGetDescr(td->tg_relation);
	cols = touch_columns_for(td->tg_relation);
	SPI_connect();
	touch_input_from_tuple(&touch, tuple, desc, cols);
	check_touch_evaluates(&touch);
	config = routing_config();
	lock_lead(&touch, &lead);
	stage_check_touchable(config, lead.id, lead.stage);
	check_lead_has_owner(&lead);
	touching = touching_rep(&touch, &lead);

	owner = config_find_rep(config, lead.owner_id);
	if (owner == NULL)
		elog(ERROR, "leadflow: rep %d is not in the configuration", lead.owner_id);
	queue = config_find_queue(config, lead.queue ? lead.queue : "default");
	decide_effect(config, &touch, &lead, owner, queue, &effect);
	write_effect(config, &touch, &lead, &effect);
	if (touch.outcome == OUTCOME_DEAD_OTHER_CONTACT && lead.has_account)
		pursue_other_contacts(lead.account_id);
	if (touch.outcome == OUTCOME_DEAD_REFERRAL)
		insert_referral(&touch, &lead);

	MemoryContextSwitchTo(caller);
	attnum[0] = cols->rep_id;
	value[0] = Int32GetDatum(touching);
	tuple = heap_modify_tuple_by_cols(tuple, desc, 1, attnum, value, isnull);
	SPI_finish();
	return PointerGetDatum(tuple);
}
