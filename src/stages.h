/*
 * stages.h
 *	  Stage changes: which are allowed, and their record (stages.c).
 */
#ifndef LEADFLOW_STAGES_H
#define LEADFLOW_STAGES_H

#include "postgres.h"

#include "utils/timestamp.h"

#include "config_cache.h"

extern void stage_check_change(RoutingConfig *config, int64 lead_id, Oid from, Oid to);
extern void stage_record(RoutingConfig *config, int64 lead_id, Oid from, Oid to,
						 TimestampTz at);
extern char *acting_role_name(void);

#endif							/* LEADFLOW_STAGES_H */
