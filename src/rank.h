/*
 * rank.h
 *	  Ranking a lead's candidates: eligibility with reasons, the strategy's
 *	  order and the rep to claim next, in pure C over a snapshot (rank.c).
 */
#ifndef LEADFLOW_RANK_H
#define LEADFLOW_RANK_H

#include "postgres.h"

#include "utils/timestamp.h"

#include "candidates.h"
#include "config_cache.h"

/*
 * Everything one ranking reads: what the lead is (its rule, queue, current
 * and previous owners) and the candidates with their counters and turns
 * filled in (routing.c gathers them from the database; a backtest can
 * build them itself).  Rank writes only into the candidates (reason,
 * eligible, chosen, derived weights) and its own progress below.
 */
typedef struct RankSnapshot
{
	const RuleConfig *rule;		/* required skills; NULL = no rule */
	const QueueConfig *queue;	/* strategy, require_available */
	int32		current_owner;	/* 0 = none */
	const int32 *excluded;		/* previous owners, never chosen again */
	int			nexcluded;
	Candidate  *members;		/* the queue's members, in its order */
	int			nmembers;
	Candidate  *account_owner;	/* a sticky queue's account owner, or NULL */
	bool		previous_owners_back;	/* rank's progress: see rank_pick */
} RankSnapshot;

/* How a pick was made: the decision's reason. */
typedef enum RankVia
{
	RANK_VIA_ACCOUNT_OWNER,		/* the account's owner could take it */
	RANK_VIA_STRATEGY,			/* the queue's strategy picked a member */
	RANK_VIA_PREVIOUS_OWNER		/* only previous owners could take a waiting lead */
} RankVia;

typedef struct RankPick
{
	Candidate  *cand;			/* NULL when nobody can take the lead */
	int			index;			/* into members; -1 for the account owner */
	RankVia		via;
} RankPick;

extern void rank_judge(RankSnapshot *snap, TimestampTz now);
extern int	rank_order(Strategy strategy, Candidate *cands, int ncands, int *order);
extern bool rank_pick(RankSnapshot *snap, RankPick *pick);
extern void rank_refused(const RankPick *pick);
extern void rank_finish(RankSnapshot *snap, const RankPick *chosen,
						Candidate **cands, int *ncands);

#endif							/* LEADFLOW_RANK_H */
