/*
 * pending.h
 *	  What routing did for a row being inserted, kept until the row is
 *	  known to be inserted (pending.c).
 */
#ifndef LEADFLOW_PENDING_H
#define LEADFLOW_PENDING_H

#include "postgres.h"

#include "caps.h"
#include "routing.h"
#include "strategy.h"

/*
 * The effects of one row's routing or import that are taken back when
 * the row turns out not to be inserted.  Decisions, alerts and events are
 * held by the ledger (ledger_hold) and need no field here.
 */
typedef struct PendingInsert
{
	int64		lead_id;
	Oid			relid;			/* leadflow.lead */
	bool		active;			/* recorded, not yet confirmed or undone */
	uint64		seats_before;	/* caps_seats_taken() when recording began */
	bool		took_seat;
	SeatTaken	seat;
	int32		outcome_rep;	/* a closed lead's outcome counted (0 = none) */
	bool		outcome_won;
	bool		took_turn;
	char		turn_queue[NAMEDATALEN];
	TurnTaken	turn;
	int			nturn_reps;		/* participants of a weighted turn */
	int32	   *turn_reps;
	int32	   *turn_weights;
	AccountChange account;
	int32		account_owner;	/* the owner routing gave the account */
} PendingInsert;

extern PendingInsert *pending_begin(Oid relid, int64 lead_id);
extern void pending_record_route(PendingInsert *p, const RouteResult *res);
extern void pending_record_seat(PendingInsert *p);
extern void pending_resolve_current(void);
extern void pending_statement_end(void);
extern void pending_init(void);

#endif							/* LEADFLOW_PENDING_H */
