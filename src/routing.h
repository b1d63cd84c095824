/*
 * routing.h
 *	  One routing decision: its input (a lead) and its result, and the
 *	  routing of a lead from rules to owner (routing.c).
 */
#ifndef LEADFLOW_ROUTING_H
#define LEADFLOW_ROUTING_H

#include "postgres.h"

#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "accounts.h"
#include "candidates.h"
#include "config_cache.h"
#include "matching.h"
#include "rank.h"
#include "strategy.h"

typedef enum RouteMode
{
	ROUTE_NEW,					/* first routing of a lead */
	ROUTE_RETRY,				/* a backlogged or pending lead, again */
	ROUTE_EXPLAIN				/* what would happen now; claims and writes nothing */
} RouteMode;

typedef enum RouteOutcome
{
	ROUTE_ASSIGNED,
	ROUTE_BACKLOG,
	ROUTE_SUPPRESSED,
	ROUTE_DUPLICATE				/* an open lead already has this contact */
} RouteOutcome;

/* What routing reads of a lead.  Text values may be short-header. */
typedef struct LeadInput
{
	int64		id;
	Jsonb	   *attrs;
	text	   *source;
	text	   *campaign;
	text	   *company;
	text	   *country;
	text	   *email;
	int32		score;
	int64		account_id;		/* 0 = none given */
	Oid			stage;
	bool		has_stage_changed_at;
	TimestampTz stage_changed_at;
	char	   *queue;			/* NULL = not yet queued */
	int32		current_owner;	/* 0 = none */
	int32	   *excluded;		/* previous owners, never chosen again */
	int			nexcluded;
	const char *decision_kind;	/* ledger kind of an assignment; NULL = assign */
	const char *force_queue;	/* route into this queue, skipping the rules */
	const char *rules_skip_queue;	/* a hand-off by the rules: pass over rules into
									 * this queue, and suppress rules */
	const char *no_rule_queue;	/* where no rule matches, instead of default */
	bool		queue_lock_nowait;	/* queue locked by another: return, don't wait */
	Cadence    *cadence;		/* the lead's own plan, kept when it moves */
	int32		reassignments;	/* SLA reassignments so far */
	const RoutingDoc *doc;		/* built by the caller already, or NULL */
	AccountInfo *account;		/* found by the caller already (doc has it), or NULL */
} LeadInput;

/* What routing did to the lead's account, so that it can be undone. */
typedef struct AccountChange
{
	int64		id;				/* 0 = nothing changed */
	bool		created;		/* routing created it (a new email domain) */
	bool		owner_set;		/* routing made the chosen rep its owner */
	int32		prev_owner;		/* before that (0 = none) */
	bool		prev_has_until;
	TimestampTz prev_until;
} AccountChange;

typedef struct RouteResult
{
	RouteOutcome outcome;
	bool		queue_busy;		/* queue_lock_nowait and another held it: nothing done */
	RuleConfig *rule;
	QueueConfig *queue;
	RepConfig  *owner;
	int64		account_id;		/* 0 = none */
	AccountMatch account_match; /* how it was found */
	const char *reason;
	char	   *reject_reason;
	TimestampTz next_touch_at;
	TimestampTz sla_due_at;
	Candidate  *cands;
	int			ncands;
	int			chosen;			/* index into cands of a strategy's pick, or -1 */
	TurnTaken	turn;			/* the queue's turn it took (chosen >= 0) */
	AccountChange account;
} RouteResult;

extern void route_decide(const LeadInput *lead, RouteMode mode, TimestampTz now,
						 RouteResult *res);
extern void route_record(const LeadInput *lead, const RouteResult *res,
						 bool first_attempt, TimestampTz now);
typedef struct PreviousOwners PreviousOwners;	/* opaque: routing.c */
extern PreviousOwners *route_read_previous_owners(const int64 *ids, int n);
extern void route_set_previous_owners(LeadInput *lead, PreviousOwners *owners);
extern void route_load_previous_owners(LeadInput *lead);
extern void route_alert(const char *kind, int64 lead_id, int32 about_rep,
						const QueueConfig *queue, Jsonb *detail, TimestampTz now);
extern void route_undo_account(const AccountChange *change, int32 new_owner);
extern void routing_lock_all_queues(void);
extern void routing_keep_queue_locks(void);
extern void routing_init(void);
extern void routing_wait_queue(const QueueConfig *queue);
extern RuleConfig *route_first_rule(RoutingConfig *config, const RoutingDoc *doc,
									int32 score, const char *skip_queue);
extern RuleConfig *route_rule_and_queue(RoutingConfig *config, const LeadInput *lead,
										const RoutingDoc *doc, QueueConfig **queue);
extern void route_init_candidate(Candidate *c, RepConfig *rep, int32 weight,
								 const QueueConfig *queue, TimestampTz now);
extern void route_snapshot_init(RankSnapshot *snap, const LeadInput *lead, RuleConfig *rule,
								QueueConfig *queue, TimestampTz now);
extern bool route_suppressed(const AccountInfo *acct, const RuleConfig *rule,
							 RouteResult *res);
extern const char *route_pick_reason(const RankPick *pick, const QueueConfig *queue);
extern void route_set_follow_up(const LeadInput *lead, RouteResult *res, TimestampTz now);

#endif							/* LEADFLOW_ROUTING_H */
