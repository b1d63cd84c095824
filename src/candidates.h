/*
 * candidates.h
 *	  The members considered for a lead, why each was passed over, and
 *	  their packed form in the ledger (leadflow.candidate_list), with the
 *	  jsonb building helpers (candidates.c).
 */
#ifndef LEADFLOW_CANDIDATES_H
#define LEADFLOW_CANDIDATES_H

#include "postgres.h"

#include "utils/jsonb.h"

#include "config_cache.h"

/* Why a member was passed over (NULL reason = eligible). */
#define PASS_INACTIVE			"inactive"
#define PASS_AWAY				"away"
#define PASS_OUTSIDE_HOURS		"outside_hours"
#define PASS_MISSING_SKILLS		"missing_skills"
#define PASS_PREVIOUS_OWNER		"previous_owner"
#define PASS_CURRENT_OWNER		"current_owner"
#define PASS_AT_MAX_OPEN		"at_max_open"
#define PASS_AT_MAX_NEW			"at_max_new_per_day"
#define PASS_LOST_RACE			"cap_taken_concurrently"
#define PASS_NOT_PICKED			"not_picked"

/* One member considered for a lead. */
typedef struct Candidate
{
	RepConfig  *rep;
	int32		weight;			/* configured weight (performance: derived) */
	int32		open_count;
	int32		new_today;
	bool		has_last_assigned;
	TimestampTz last_assigned_at;
	int64		last_turn;		/* round robin: 0 = never, larger = more recent */
	int64		current_weight; /* smooth weighted round robin state */
	int64		won;			/* performance: qualified or converted */
	int64		closed;			/* performance: won or rejected */
	bool		in_hours;		/* in working hours now (gathered only when the
								 * queue requires it) */
	bool		eligible;		/* passed every eligibility test */
	const char *reason;			/* why passed over; NULL for the chosen one */
	bool		chosen;
	bool		account_owner;	/* the owner of the lead's account (sticky queues) */
} Candidate;

/* One candidate as the ledger keeps it, read back (candidate_list_entries). */
typedef struct LedgerCandidate
{
	int32		rep;
	int32		weight;
	bool		eligible;
	bool		chosen;
	bool		account_owner;
} LedgerCandidate;

extern LedgerCandidate *candidate_list_entries(Datum list, int *n);
extern Datum candidate_list_pack(const Candidate *cands, int ncands);
extern Oid	candidate_list_type_oid(void);
extern Jsonb *candidates_jsonb(const Candidate *cands, int ncands);
extern void jsonb_push_key(JsonbParseState **state, const char *key);
extern void jsonb_push_string(JsonbParseState **state, const char *key, const char *value);
extern void jsonb_push_int(JsonbParseState **state, const char *key, int64 value);
extern void jsonb_push_bool(JsonbParseState **state, const char *key, bool value);

#endif							/* LEADFLOW_CANDIDATES_H */
