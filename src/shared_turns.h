/*
 * shared_turns.h
 *	  Round-robin queues' turns in shared memory (shared_turns.c).
 */
#ifndef LEADFLOW_SHARED_TURNS_H
#define LEADFLOW_SHARED_TURNS_H

#include "postgres.h"

#include "utils/timestamp.h"

/* The most members (rows of leadflow.member_state) a shared queue holds. */
#define SHARED_TURNS_MAX_MEMBERS 128

/* One member's turn state, as leadflow.member_state keeps it. */
typedef struct SharedTurn
{
	int32		rep_id;
	bool		has_last_assigned;
	TimestampTz last_assigned_at;
	int64		last_turn;
	int64		current_weight;
} SharedTurn;

extern void shared_turns_init(void);
extern bool shared_turns_enabled(void);
extern int	shared_turns_read(const char *queue, Oid relid, int64 version,
							  SharedTurn *out, uint64 *generation);
extern bool shared_turns_store(const char *queue, Oid relid, int64 version,
							   const SharedTurn *members, int n, uint64 *generation);
extern bool shared_turns_set(const char *queue, const SharedTurn *turn, uint64 *generation);
extern uint64 shared_turns_undo(const char *queue, const SharedTurn *prev, int n,
								uint64 expected);
extern void shared_turns_forget(const char *queue, uint64 expected);
extern void shared_turns_forget_database(void);

#endif							/* LEADFLOW_SHARED_TURNS_H */
