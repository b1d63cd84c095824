/*
 * strategy.h
 *	  The queue strategies' names and each queue's turns (strategy.c); the
 *	  order in which members are offered a lead is rank.c's.
 */
#ifndef LEADFLOW_STRATEGY_H
#define LEADFLOW_STRATEGY_H

#include "postgres.h"

#include "utils/timestamp.h"

#include "candidates.h"

/* The labels of leadflow.strategy, indexed by Strategy. */
extern const char *const strategy_names[];
extern Strategy strategy_from_name(const char *name);

/* The chosen rep's turn as it was before a turn was taken (strategy_undo). */
typedef struct TurnTaken
{
	int32		rep_id;
	bool		had_last;
	TimestampTz last_assigned_at;
	int64		last_turn;
	uint64		generation;		/* of the in-memory state it was taken in */
} TurnTaken;

extern void strategy_load_state(QueueConfig *queue, Candidate *cands, int ncands,
								bool locked, int64 config_version);
extern void strategy_commit(QueueConfig *queue, Candidate *cands, int ncands,
							int chosen, TimestampTz now, int64 config_version,
							TurnTaken *taken);
extern void strategy_undo(const char *queue_name, const TurnTaken *taken,
						  const int32 *reps, const int32 *weights, int n);
extern bool strategy_uses_weights(Strategy strategy);
extern void strategy_reset(void);
extern bool strategy_turns_shared(void);
extern void strategy_flush(void);
extern void strategy_init(void);

#endif							/* LEADFLOW_STRATEGY_H */
