/*
 * ledger.h
 *	  The decision ledger, events and alerts, buffered and written in
 *	  batches (ledger.c).
 */
#ifndef LEADFLOW_LEDGER_H
#define LEADFLOW_LEDGER_H

#include "postgres.h"

#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "candidates.h"

typedef struct DecisionRow
{
	int64		lead_id;
	TimestampTz at;
	const char *kind;			/* leadflow.decision_kind label */
	int32		from_rep;		/* 0 = NULL */
	int32		to_rep;			/* 0 = NULL */
	int32		rule_id;		/* 0 = NULL */
	const char *queue;
	const char *strategy;
	const char *reason;
	Candidate  *cands;
	int			ncands;
	int64		account_id;		/* 0 = NULL */
	const char *account_match;	/* leadflow.account_match label, or NULL */
} DecisionRow;

extern void ledger_decision(const DecisionRow *row);
extern void ledger_set_config_version(int64 version);
extern void ledger_event(int64 lead_id, const char *kind, Jsonb *attrs, TimestampTz at,
						 int64 about);
extern void ledger_flush(void);
extern void ledger_hold(int64 about);
extern void ledger_release(bool drop);
extern void ledger_reset(void);
extern void ledger_pending_reps(void (*add) (int64 lead_id, int32 rep_id, void *arg),
							   void *arg);
extern void ledger_alert(const char *kind, int64 lead_id, int32 rep_id,
						 Jsonb *detail, TimestampTz at);
extern Jsonb *ledger_detail(int npairs, const char **keys, const char **values);
extern void ledger_init(void);

#endif							/* LEADFLOW_LEDGER_H */
