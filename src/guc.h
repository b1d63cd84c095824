/*
 * guc.h
 *	  leadflow's settings and its clock (guc.c).
 */
#ifndef LEADFLOW_GUC_H
#define LEADFLOW_GUC_H

#include "postgres.h"

#include "utils/timestamp.h"

extern bool leadflow_route_on_insert;
extern int	leadflow_sweep_batch_size;
extern bool leadflow_override_caps;
extern char *leadflow_default_country;
extern bool leadflow_detect_duplicates;
extern double leadflow_account_similarity;
extern int	leadflow_shared_queues;

extern void leadflow_define_gucs(void);

/*
 * The current time as leadflow sees it: the leadflow.clock setting when it
 * is set (tests, replays, backtests), else the transaction's start time.
 * Every time-dependent function and trigger must use this, never now().
 */
extern TimestampTz leadflow_now(void);

#endif							/* LEADFLOW_GUC_H */
