/*
 * stages.c
 *	  A lead's stage: which changes are allowed, and the history of each.
 *
 *	  new       -> working, qualified, converted, nurture, rejected
 *	  working   -> qualified, converted, nurture, rejected
 *	  qualified -> working, converted, nurture, rejected
 *	  nurture   -> new, working, qualified, converted, rejected
 *	  rejected  -> new, only through leadflow.reopen()
 *	  converted -> nothing: a customer is not a lead again
 *
 * Every change writes a leadflow.stage_history row (by the role acting,
 * not the extension's owner that the trigger runs as).
 *
 * Touches (touches.c) are logged on open leads (new, working) only, and
 * their outcome decides the next stage: not_reached and connected keep
 * the lead working on its cadence (nurture once the cadence is spent),
 * qualified and nurture move it there, every dead outcome rejects it.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "stages.h"
#include "lead_fetch.h"
#include "spi_plans.h"

/* Set while leadflow.reopen() moves a rejected lead back to new. */
static bool reopening = false;

static SPIPlanPtr history_plan = NULL;

typedef enum StageCode
{
	S_NEW, S_WORKING, S_QUALIFIED, S_CONVERTED, S_NURTURE, S_REJECTED, S_COUNT
} StageCode;

/* allowed[from][to] */
static const bool allowed[S_COUNT][S_COUNT] = {
	/* to:        new    working qualif  convert nurture reject */
	/* new */ {false, true, true, true, true, true},
	/* working */ {false, false, true, true, true, true},
	/* qualified */ {false, true, false, true, true, true},
	/* converted */ {false, false, false, false, false, false},
	/* nurture */ {true, true, true, true, false, true},
	/* rejected */ {false, false, false, false, false, false},
};

static StageCode
stage_code(RoutingConfig *config, Oid stage)
{
	if (stage == config->stage_new)
		return S_NEW;
	if (stage == config->stage_working)
		return S_WORKING;
	if (stage == config->stage_qualified)
		return S_QUALIFIED;
	if (stage == config->stage_converted)
		return S_CONVERTED;
	if (stage == config->stage_nurture)
		return S_NURTURE;
	if (stage == config->stage_rejected)
		return S_REJECTED;
	elog(ERROR, "leadflow: unknown stage %u", stage);
	return S_NEW;				/* keep compiler quiet */
}

static const char *
stage_name(Oid stage)
{
	return DatumGetCString(DirectFunctionCall1(enum_out, ObjectIdGetDatum(stage)));
}

bool
stage_is_open(RoutingConfig *config, Oid stage)
{
	return stage == config->stage_new || stage == config->stage_working;
}

bool
stage_is_won(RoutingConfig *config, Oid stage)
{
	return stage == config->stage_qualified || stage == config->stage_converted;
}

/* Error unless a lead may go from one stage to the other. */
void
stage_check_change(RoutingConfig *config, int64 lead_id, Oid from, Oid to)
{
	StageCode	f = stage_code(config, from);
	StageCode	t = stage_code(config, to);

	if (f == S_REJECTED && t == S_NEW && reopening)
		return;
	if (allowed[f][t])
		return;
	ereport(ERROR,
			(errcode(ERRCODE_CHECK_VIOLATION),
			 errmsg("lead " INT64_FORMAT " cannot go from stage %s to %s",
					lead_id, stage_name(from), stage_name(to)),
			 f == S_REJECTED ?
			 errhint("Reopen it with leadflow.reopen(lead_id, reason).") :
			 f == S_CONVERTED ?
			 errdetail("A converted lead is a customer; there is no way back.") :
			 errhint("From %s a lead can go to a later stage, nurture or rejected.",
					 stage_name(from))));
}

static const char *const outcome_labels[] = {
	"not_reached", "connected", "qualified", "nurture", "dead",
	"dead_referral", "dead_other_contact", "unsubscribed"
};

/* A leadflow.outcome label as its code. */
TouchOutcome
touch_outcome_from_label(const char *label)
{
	for (int i = 0; i < (int) lengthof(outcome_labels); i++)
		if (strcmp(label, outcome_labels[i]) == 0)
			return (TouchOutcome) i;
	elog(ERROR, "leadflow: unknown touch outcome \"%s\"", label);
	return OUTCOME_DEAD;		/* keep compiler quiet */
}

/* Does the touch count as a step of the lead's cadence (the lead stays worked)? */
bool
touch_continues_cadence(TouchOutcome outcome)
{
	return outcome == OUTCOME_NOT_REACHED || outcome == OUTCOME_CONNECTED;
}

/* Error unless a touch may be logged on a lead in this stage. */
void
stage_check_touchable(RoutingConfig *config, int64 lead_id, Oid stage)
{
	StageCode	s;

	if (stage_is_open(config, stage))
		return;
	s = stage_code(config, stage);
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("lead " INT64_FORMAT " is closed (stage %s)", lead_id, stage_name(stage)),
			 errdetail("Touches are logged on leads in stage new or working."),
			 (s == S_REJECTED || s == S_NURTURE) ?
			 errhint("Reopen it first: leadflow.reopen(lead_id, reason) for a rejected lead, UPDATE its stage for a nurtured one.") :
			 errhint("It needs no more touches.")));
}

/*
 * The stage a touchable lead goes to after a touch; cadence_spent says
 * that a cadence touch found no next step.
 */
Oid
stage_after_touch(RoutingConfig *config, Oid stage, TouchOutcome outcome,
				  bool cadence_spent)
{
	switch (outcome)
	{
		case OUTCOME_NOT_REACHED:
		case OUTCOME_CONNECTED:
			if (cadence_spent)
				return config->stage_nurture;
			return stage == config->stage_new ? config->stage_working : stage;
		case OUTCOME_QUALIFIED:
			return config->stage_qualified;
		case OUTCOME_NURTURE:
			return config->stage_nurture;
		case OUTCOME_DEAD:
		case OUTCOME_DEAD_REFERRAL:
		case OUTCOME_DEAD_OTHER_CONTACT:
		case OUTCOME_UNSUBSCRIBED:
			break;
	}
	return config->stage_rejected;
}

/* The role acting now: the session's (SET ROLE) role, not a definer's. */
char *
acting_role_name(void)
{
	return GetUserNameFromId(GetOuterUserId(), false);
}

/* Record one stage change. */
void
stage_record(RoutingConfig *config, int64 lead_id, Oid from, Oid to, TimestampTz at)
{
	Oid			argtypes[5] = {INT8OID, InvalidOid, InvalidOid, TIMESTAMPTZOID, TEXTOID};
	Datum		args[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};

	argtypes[1] = argtypes[2] = config->stage_type;
	args[0] = Int64GetDatum(lead_id);
	args[1] = ObjectIdGetDatum(from);
	nulls[1] = OidIsValid(from) ? ' ' : 'n';
	args[2] = ObjectIdGetDatum(to);
	args[3] = TimestampTzGetDatum(at);
	args[4] = CStringGetTextDatum(acting_role_name());
	if (SPI_execute_plan(leadflow_plan(&history_plan,
									   "INSERT INTO leadflow.stage_history"
									   " (lead_id, from_stage, to_stage, at, by_role)"
									   " VALUES ($1, $2, $3, $4, $5)",
									   5, argtypes),
						 args, nulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "leadflow: could not record a stage change");
}

PG_FUNCTION_INFO_V1(leadflow_reopen);

/*
 * leadflow.reopen(lead_id, reason): a rejected lead becomes new again, for
 * its owner (cap-checked, with a fresh follow-up clock) or, without one,
 * for routing.  The reason is kept in the lead's attrs as reopen_reason.
 */
Datum
leadflow_reopen(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr reopen_plan = NULL;
	static const Oid argtypes[] = {INT8OID, TEXTOID};
	int64		lead_id;
	Datum		args[2];

	/* not STRICT, for the reason's message: a NULL id would read as 0 */
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("reopening a lead needs its id")));
	lead_id = PG_GETARG_INT64(0);
	if (PG_ARGISNULL(1) || VARSIZE_ANY_EXHDR(PG_GETARG_TEXT_PP(1)) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("reopening a lead needs a reason"),
				 errhint("Say why, e.g. leadflow.reopen(42, 'budget approved after all').")));
	args[0] = Int64GetDatum(lead_id);
	args[1] = PG_GETARG_DATUM(1);

	SPI_connect();
	reopening = true;
	PG_TRY();
	{
		if (SPI_execute_plan(lead_plan(&reopen_plan,
									   "UPDATE leadflow.lead SET stage = 'new', reject_reason = NULL,"
									   " attrs = attrs || jsonb_build_object('reopen_reason', $2::text)"
									   " WHERE id = $1 RETURNING stage",
									   2, argtypes),
							 args, NULL, false, 0) != SPI_OK_UPDATE_RETURNING)
			elog(ERROR, "leadflow: could not reopen lead " INT64_FORMAT, lead_id);
		if (SPI_processed == 0)
			ereport(ERROR,
					(errcode(ERRCODE_NO_DATA_FOUND),
					 errmsg("lead " INT64_FORMAT " does not exist", lead_id)));
	}
	PG_FINALLY();
	{
		reopening = false;
	}
	PG_END_TRY();
	SPI_finish();
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(leadflow_acting_role);

/* leadflow.acting_role(): the role acting, even inside SECURITY DEFINER code. */
Datum
leadflow_acting_role(PG_FUNCTION_ARGS)
{
	PG_RETURN_DATUM(DirectFunctionCall1(namein, CStringGetDatum(acting_role_name())));
}
