/*
 * stages.h
 *	  Stage changes: which are allowed, and their record (stages.c).
 */
#ifndef LEADFLOW_STAGES_H
#define LEADFLOW_STAGES_H

#include "postgres.h"

#include "utils/timestamp.h"

#include "config_cache.h"

/* Open: new or working, with an owner's seat and a follow-up clock. */
extern bool stage_is_open(RoutingConfig *config, Oid stage);
/* Closed and won for its owner's record: qualified or converted. */
extern bool stage_is_won(RoutingConfig *config, Oid stage);
extern void stage_check_change(RoutingConfig *config, int64 lead_id, Oid from, Oid to);
extern void stage_record(RoutingConfig *config, int64 lead_id, Oid from, Oid to,
						 TimestampTz at);
extern char *acting_role_name(void);

/* What a touch says about the lead (leadflow.outcome, in its order). */
typedef enum TouchOutcome
{
	OUTCOME_NOT_REACHED,
	OUTCOME_CONNECTED,
	OUTCOME_QUALIFIED,
	OUTCOME_NURTURE,
	OUTCOME_DEAD,
	OUTCOME_DEAD_REFERRAL,
	OUTCOME_DEAD_OTHER_CONTACT,
	OUTCOME_UNSUBSCRIBED
} TouchOutcome;

extern TouchOutcome touch_outcome_from_label(const char *label);
extern bool touch_continues_cadence(TouchOutcome outcome);
extern void stage_check_touchable(RoutingConfig *config, int64 lead_id, Oid stage);
extern Oid	stage_after_touch(RoutingConfig *config, Oid stage, TouchOutcome outcome,
							  bool cadence_spent);

#endif							/* LEADFLOW_STAGES_H */
