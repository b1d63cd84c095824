/*
 * caps.h
 *	  Reps' caps (max_open, max_new_per_day): counters locked and counted
 *	  in memory, written at statement end (caps.c).
 */
#ifndef LEADFLOW_CAPS_H
#define LEADFLOW_CAPS_H

#include "postgres.h"

#include "utils/date.h"
#include "utils/timestamp.h"

#include "candidates.h"

/* A seat taken, with what it changed, so that it can be given back. */
typedef struct SeatTaken
{
	int32		rep_id;
	bool		count_as_new;
	bool		unchecked;		/* taken by caps_claim_later before the lock */
	bool		had_last;		/* the rep's last assignment before it */
	TimestampTz last;
} SeatTaken;

extern DateADT rep_local_date(RepConfig *rep, TimestampTz now);
extern void caps_load(Candidate *cands, int ncands, TimestampTz now);
extern bool caps_claim(RepConfig *rep, TimestampTz now, bool count_as_new);
extern bool caps_claim_counted(RepConfig *rep, TimestampTz now, bool count_as_new,
							   int32 *open_before);
extern void caps_force(RepConfig *rep, TimestampTz now, bool count_as_new);
extern void caps_force_later(RepConfig *rep, TimestampTz now, bool count_as_new);
extern void caps_claim_later(RepConfig *rep, TimestampTz now, bool count_as_new,
							 int64 lead_id);
extern void caps_refuse(const char *rep_name, int32 rep_id, const char *cap,
						int32 limit, int32 count, int64 lead_id);
extern uint64 caps_seats_taken(void);
extern void caps_last_seat(SeatTaken *seat);
extern void caps_take_back(const SeatTaken *seat);
extern void caps_release(int32 rep_id);
extern void caps_lock(int32 rep_a, int32 rep_b);
extern void caps_lock_all(void);
extern void caps_reset(void);
extern void caps_flush(void);
extern void caps_init(void);
extern void caps_record_outcome(int32 rep_id, bool won, int sign);

#endif							/* LEADFLOW_CAPS_H */
