/*
 * routing.c
 *	  Deciding who gets a lead: account, rule, queue, the account owner or
 *	  the queue's strategy under the caps, a previous owner when nobody
 *	  else can take a waiting lead, or the backlog.
 *
 * The account (accounts.c) is found first, read only, because rules and
 * fit scoring match its attributes; an account for a new company domain
 * is made after the queue lock, like the account owner it may get.  The
 * account's owner, when a sticky queue passes it over, is in the
 * decision's candidates with its reason: the record says who would have
 * had the lead and why not.
 *
 * route_decide() is the whole decision, in three steps: gather reads the
 * lead's account, rule and queue, then -- under the queue lock -- the
 * members' counters and turns and the account's owner into a snapshot;
 * rank (rank.c) judges and orders the candidates in pure C; claim takes
 * the pick's seat (asking rank again when a concurrent transaction took
 * it), the queue's turn and the account's ownership.  explain() runs the
 * same gather and rank and claims nothing, so it says what routing does.
 * route_decide writes neither the lead nor the ledger: its callers (the INSERT trigger in lead_triggers.c,
 * leadflow.route() / route_pending() in routing_api.c, and the sweep) do,
 * through route_record() here, so that one decision is written the same
 * way whichever path made it.
 *
 * Concurrency.  Routing into a queue takes a transaction-level advisory
 * lock on the queue before it reads the queue's rotation state, the rep
 * counters and the account owner, so concurrent routers take turns and
 * see each other's committed choices: round robin stays exact and a
 * sticky account gets one owner.  The lock is let go at pre-commit,
 * before the commit's WAL flush, so that a queue's routers group-commit,
 * when all that the next router must see is in shared memory: the
 * transaction's turns are (strategy_turns_shared: round robin, leadflow
 * preloaded), it took no seat through a load_balanced or weighted queue
 * and did not lock all queues at once (routing_keep_queue_locks).
 * Otherwise it is held to commit, as the next router reads rows.  An
 * account's new owner is a row: a router of an ownerless account locks
 * it (gather_account_owner), so it waits for a committing owner-setter.  A seat is claimed under the lock of the
 * rep's counter row, checked against the locked count and counted in
 * memory until the statement ends (caps.c), which holds even for writers
 * that do not take the queue lock (manual moves, another queue sharing the
 * rep).
 *
 * Lock order (docs/routing.md, "Concurrency"): lead rows, then queue locks (several
 * only all at once, never waiting while holding some: see
 * routing_lock_all_queues), then contact keys (duplicates.c), then the
 * account, then rep counters.  A new
 * lead that holds its contact lock takes the queue lock without waiting
 * (queue_lock_nowait): when another holds it, the caller lets the contact
 * go and waits for the queue alone (lead_triggers.c).  One transaction
 * that routes many leads into different queues (or in several
 * statements) can still deadlock with another such transaction;
 * PostgreSQL then cancels one of them, and nothing of it is kept.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/lock.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/tuplestore.h"

#include "routing.h"
#include "accounts.h"
#include "business_time.h"
#include "caps.h"
#include "config_cache.h"
#include "constants.h"
#include "ledger.h"
#include "matching.h"
#include "rank.h"
#include "spi_plans.h"
#include "strategy.h"
#include "util.h"

static SPIPlanPtr previous_owners_plan = NULL;

/* ----- accounts ----- */

/*
 * Undo what routing did to an account for a lead that was then not
 * inserted: an account it created goes, an owner it set is unset (unless
 * someone changed the owner since).  The caller is connected to SPI.
 */
void
route_undo_account(const AccountChange *change, int32 new_owner)
{
	static SPIPlanPtr delete_plan = NULL;
	static SPIPlanPtr restore_plan = NULL;
	static const Oid delete_types[] = {INT8OID};
	static const Oid restore_types[] = {INT8OID, INT4OID, TIMESTAMPTZOID, INT4OID};
	Datum		args[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};

	if (change->id == 0)
		return;
	args[0] = Int64GetDatum(change->id);
	if (change->created)
	{
		if (SPI_execute_plan(leadflow_plan(&delete_plan,
										   "DELETE FROM leadflow.account WHERE id = $1",
										   1, delete_types),
							 args, NULL, false, 0) != SPI_OK_DELETE)
			elog(ERROR, "leadflow: could not remove an account");
		return;
	}
	if (!change->owner_set)
		return;
	args[1] = Int32GetDatum(change->prev_owner);
	nulls[1] = change->prev_owner == 0 ? 'n' : ' ';
	args[2] = TimestampTzGetDatum(change->prev_until);
	nulls[2] = change->prev_has_until ? ' ' : 'n';
	args[3] = Int32GetDatum(new_owner);
	if (SPI_execute_plan(leadflow_plan(&restore_plan,
									   "UPDATE leadflow.account SET owner_id = $2, owned_until = $3"
									   " WHERE id = $1 AND owner_id = $4",
									   4, restore_types),
						 args, nulls, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "leadflow: could not restore an account's owner");
}

/* ----- rules ----- */

/*
 * The first rule that fits the lead.  A hand-off by the rules (skip_queue
 * set) passes over the rules into the queue the lead leaves, and suppress
 * rules: the lead was accepted already.
 */
RuleConfig *
route_first_rule(RoutingConfig *config, const RoutingDoc *doc, int32 score,
				 const char *skip_queue)
{
	int			i;

	for (i = 0; i < config->nrules; i++)
	{
		RuleConfig *r = &config->rules[i];

		if (skip_queue != NULL &&
			(r->suppress || strcmp(r->queue->name, skip_queue) == 0))
			continue;
		if (r->has_min_score && score < r->min_score)
			continue;
		if (r->has_max_score && score > r->max_score)
			continue;
		if (routing_doc_matches(doc, &r->match->root))
			return r;
	}
	return NULL;
}

/*
 * The lead's rule (NULL: none, or the queue was forced) and its queue:
 * the rule's, else the one the caller names for leads no rule matches,
 * else the default queue.
 */
RuleConfig *
route_rule_and_queue(RoutingConfig *config, const LeadInput *lead, const RoutingDoc *doc,
					 QueueConfig **queue)
{
	RuleConfig *rule = lead->force_queue ? NULL
		: route_first_rule(config, doc, lead->score, lead->rules_skip_queue);

	*queue = rule && rule->queue ? rule->queue : config->default_queue;
	if (rule == NULL && lead->no_rule_queue != NULL)
		*queue = config_find_queue(config, lead->no_rule_queue);
	if (lead->force_queue)
		*queue = config_find_queue(config, lead->force_queue);
	if (*queue == NULL)
		*queue = config->default_queue;
	return rule;
}

/* ----- queue locks ----- */

static void
queue_lock_tag(LOCKTAG *tag, const QueueConfig *queue)
{
	uint32		key = DatumGetUInt32(hash_any((const unsigned char *) queue->name,
											  strlen(queue->name)));

	SET_LOCKTAG_ADVISORY(*tag, MyDatabaseId, LEADFLOW_LOCK_SPACE_QUEUE, key, 2);
}

/*
 * The queue locks this transaction took (their tags), to let them go at
 * pre-commit, and whether it must keep them to commit instead.
 */
static LOCKTAG *held_locks = NULL;
static int	nheld = 0;
static int	maxheld = 0;
static bool keep_locks = false;

static void
remember_lock(const LOCKTAG *tag)
{
	int			i;

	for (i = 0; i < nheld; i++)
		if (memcmp(&held_locks[i], tag, sizeof(LOCKTAG)) == 0)
			return;
	if (nheld == maxheld)
	{
		maxheld = Max(8, maxheld * 2);
		held_locks = held_locks ? repalloc(held_locks, sizeof(LOCKTAG) * maxheld)
			: MemoryContextAlloc(TopTransactionContext, sizeof(LOCKTAG) * maxheld);
	}
	held_locks[nheld++] = *tag;
}

/*
 * This transaction keeps its queue locks to commit: what it did must not
 * be seen by the next router before it commits (the file's comment).
 */
void
routing_keep_queue_locks(void)
{
	keep_locks = true;
}

/*
 * The resource owner a queue lock is taken for, and let go by.  Outside a
 * subtransaction the transaction's own, not the current one: a statement
 * of the extended protocol runs in a portal whose resource owner keeps
 * its locks until the transaction's cleanup, after pre-commit, where
 * LockRelease could not let them go.  In a subtransaction its owner, so
 * that its abort lets them go as before.
 */
static ResourceOwner
queue_lock_owner(void)
{
	return GetCurrentTransactionNestLevel() == 1 ? TopTransactionResourceOwner
		: CurrentResourceOwner;
}

/* LockRelease of a queue lock, for queue_lock_owner(). */
static bool
unlock_queue_tag(const LOCKTAG *tag)
{
	ResourceOwner save = CurrentResourceOwner;
	bool		released;

	CurrentResourceOwner = queue_lock_owner();
	released = LockRelease(tag, ExclusiveLock, false);
	CurrentResourceOwner = save;
	return released;
}

static void
queue_locks_xact(XactEvent event, void *arg)
{
	int			i;

	/* not before a PREPARE: a prepared transaction keeps its locks */
	if (event == XACT_EVENT_PRE_COMMIT && nheld > 0 && !keep_locks && strategy_turns_shared())
	{
		/* taken once per lead: let go of every hold */
		for (i = 0; i < nheld; i++)
			while (LockHeldByMe(&held_locks[i], ExclusiveLock) &&
				   unlock_queue_tag(&held_locks[i]))
				;
	}
	if (xact_event_ends_transaction(event))
	{
		held_locks = NULL;		/* it lived in TopTransactionContext */
		nheld = maxheld = 0;
		keep_locks = false;
	}
}

/*
 * Registered before the other callbacks of leadflow, so called after them
 * (PostgreSQL calls the last registered first): the locks go last.
 */
void
routing_init(void)
{
	RegisterXactCallback(queue_locks_xact, NULL);
}

/* Take the queue's routing lock; with nowait, false when another holds it. */
static LockAcquireResult
lock_queue(const QueueConfig *queue, bool nowait)
{
	LOCKTAG		tag;
	ResourceOwner save = CurrentResourceOwner;
	volatile LockAcquireResult r = LOCKACQUIRE_NOT_AVAIL;

	queue_lock_tag(&tag, queue);
	CurrentResourceOwner = queue_lock_owner();
	PG_TRY();
	{
		r = LockAcquire(&tag, ExclusiveLock, false, nowait);
	}
	PG_FINALLY();
	{
		CurrentResourceOwner = save;
	}
	PG_END_TRY();
	if (r != LOCKACQUIRE_NOT_AVAIL)
		remember_lock(&tag);
	return r;
}

/* Wait for the queue's routing lock (and keep it). */
void
routing_wait_queue(const QueueConfig *queue)
{
	(void) lock_queue(queue, false);
}

/*
 * Take every queue's routing lock before routing a batch: a batch that took
 * them one by one while holding rep counters from earlier leads could
 * deadlock with single-lead routers.  Never wait while holding some of
 * them: try each without waiting, in name order; when one is busy, let go
 * of the ones taken here and wait for the busy one alone -- then keep it
 * and try the others again.  So this cannot deadlock with a statement that
 * routes into several queues one after another.
 *
 * Keeping the lock waited for matters: when a waiter is woken the lock
 * manager has already granted it the lock, so a batch that let it go at
 * once to start over handed it straight to the next waiting batch, which
 * did the same -- several batches could pass one queue's lock between them
 * for ever (test/specs/route_pending_herd.spec).
 */
void
routing_lock_all_queues(void)
{
	RoutingConfig *config = routing_config();
	bool	   *taken = palloc0(sizeof(bool) * Max(config->nqueues, 1));
	int			waited = -1;	/* the queue waited for and kept, or -1 */

	/* a batch's turns, seats and owners: simplest kept whole to commit */
	routing_keep_queue_locks();
	for (;;)
	{
		int			busy = -1;
		int			i;
		LOCKTAG		tag;

		if (waited >= 0)
		{
			(void) lock_queue(&config->queues[waited], false);
			taken[waited] = true;
		}
		/* config->queues is ordered by name */
		for (i = 0; i < config->nqueues && busy < 0; i++)
		{
			LockAcquireResult r;

			if (i == waited)
				continue;
			r = lock_queue(&config->queues[i], true);
			if (r == LOCKACQUIRE_NOT_AVAIL)
				busy = i;
			else
				taken[i] = r == LOCKACQUIRE_OK;
		}
		if (busy < 0)
			break;
		/* locks this transaction held before the call are not let go */
		for (i = 0; i < config->nqueues; i++)
			if (taken[i])
			{
				queue_lock_tag(&tag, &config->queues[i]);
				unlock_queue_tag(&tag);
				taken[i] = false;
			}
		waited = busy;
	}
	pfree(taken);
}

/*
 * Fill in what follows from an assignment: the cadence's first step due
 * now in the owner's working time, and the first-touch SLA clock.
 */
void
route_set_follow_up(const LeadInput *lead, RouteResult *res, TimestampTz now)
{
	const BtSchedule *s = &res->owner->sched;
	const Interval *sla = &res->queue->first_touch_sla;
	const Cadence *plan = lead->cadence ? lead->cadence : res->queue->cadence;

	res->next_touch_at = bt_next_touch(s, &plan->steps[0], now, NULL);
	res->sla_due_at = bt_add(s, now, sla->day, sla->time);
}

/* ----- gather: the snapshot rank works from ----- */

/*
 * A candidate with its configuration; counters and turns are filled in
 * after (from the database here, from a replay's memory in backtest.c).
 */
void
route_init_candidate(Candidate *c, RepConfig *rep, int32 weight, const QueueConfig *queue,
					 TimestampTz now)
{
	memset(c, 0, sizeof(*c));
	c->rep = rep;
	c->weight = weight;
	/* the schedule is computed here, so that rank needs no time zones */
	if (queue->require_available)
		c->in_hours = bt_is_open(&rep->sched, now);
}

/*
 * The current owner of the lead's account in a sticky queue, as a
 * candidate judged like a member (it need not be one), or NULL.  Read
 * again under the queue lock: a concurrent router may have set it.  An
 * account without a current owner is locked first, when routing (locked):
 * the router that set its owner may have let the queue lock go at
 * pre-commit and not yet committed; this one then waits for it and sees
 * the owner.  An account made by this transaction is its own.
 */
static Candidate *
gather_account_owner(RoutingConfig *config, QueueConfig *queue, AccountInfo *acct,
					 TimestampTz now, bool locked)
{
	RepConfig  *owner;
	Candidate  *c;

	if (!queue->sticky_account || !acct->found)
		return NULL;
	account_reread(config, acct);
	if (locked && !acct->created && !account_owner_current(acct, now))
		account_lock_owner(acct);
	if (!account_owner_current(acct, now))
		return NULL;
	owner = config_find_rep(config, acct->owner_id);
	if (owner == NULL)
		return NULL;

	c = palloc(sizeof(Candidate));
	route_init_candidate(c, owner, 1, queue, now);
	caps_load(c, 1, now);
	c->account_owner = true;
	return c;
}

/*
 * The snapshot's skeleton: the lead's rule, queue and owners, and the
 * queue's members with their configuration, counters and turns still
 * zero.  gather_snapshot fills them from the database; a backtest
 * (backtest.c) from the state it replays in memory.
 */
void
route_snapshot_init(RankSnapshot *snap, const LeadInput *lead, RuleConfig *rule,
					QueueConfig *queue, TimestampTz now)
{
	int			n = queue->nmembers;
	int			i;

	memset(snap, 0, sizeof(*snap));
	snap->rule = rule;
	snap->queue = queue;
	snap->current_owner = lead->current_owner;
	snap->excluded = lead->excluded;
	snap->nexcluded = lead->nexcluded;
	snap->members = palloc(sizeof(Candidate) * Max(n, 1));
	snap->nmembers = n;
	for (i = 0; i < n; i++)
		route_init_candidate(&snap->members[i], queue->members[i].rep,
							 queue->members[i].weight, queue, now);
}

/*
 * Read what rank needs into *snap: the account's owner, the queue's
 * members with their counters and turns, the lead's owners.  Called under
 * the queue lock (locked; but for explain), so the counters and turns read
 * are the ones the claims then work against.
 */
static void
gather_snapshot(RoutingConfig *config, const LeadInput *lead, RuleConfig *rule,
				QueueConfig *queue, AccountInfo *acct, TimestampTz now, bool locked,
				RankSnapshot *snap)
{
	route_snapshot_init(snap, lead, rule, queue, now);
	snap->account_owner = gather_account_owner(config, queue, acct, now, locked);
	if (snap->nmembers > 0)
	{
		caps_load(snap->members, snap->nmembers, now);
		strategy_load_state(queue, snap->members, snap->nmembers, locked, config->version);
	}
}

/* ----- claim: seats, turns, the account's owner ----- */

/*
 * Claim the seat of rank's pick, asking rank again while a concurrent
 * transaction took the seat; false when nobody is left.  Explain claims
 * nothing, so its first pick stands.
 */
static bool
claim_pick(RankSnapshot *snap, RouteMode mode, TimestampTz now, RankPick *pick)
{
	while (rank_pick(snap, pick))
	{
		int32		open_before;

		if (mode == ROUTE_EXPLAIN)
			return true;

		/*
		 * The count the claim saw under the row lock: the decision's and
		 * the cap_reached alert's (route_record), exact though the read
		 * that ranked may be a seat behind a router still committing.
		 */
		if (caps_claim_counted(pick->cand->rep, now, true, &open_before))
		{
			pick->cand->open_count = open_before;
			return true;
		}
		rank_refused(pick);

		/*
		 * The account owner's counter row is locked now: the members are
		 * judged again from what it says (the owner may be one of them),
		 * as when they were read only after the owner's claim.
		 */
		if (pick->via == RANK_VIA_ACCOUNT_OWNER && snap->nmembers > 0)
		{
			caps_load(snap->members, snap->nmembers, now);
			rank_judge(snap, now);
		}
	}
	return false;
}

/* A sticky queue's account without a current owner gets the one chosen. */
static void
claim_account(AccountInfo *acct, TimestampTz now, RouteResult *res)
{
	TimestampTz until = 0;

	if (res->queue->has_hold_for)
		until = DatumGetTimestampTz(DirectFunctionCall2(timestamptz_pl_interval,
														TimestampTzGetDatum(now),
														IntervalPGetDatum(&res->queue->hold_for)));
	/* what it was before, for undoing it (pending.c) */
	res->account.owner_set = account_take_ownership(acct, res->owner->id,
													res->queue->has_hold_for, until, now);
	res->account.prev_owner = acct->owner_id;
	res->account.prev_has_until = acct->has_owned_until;
	res->account.prev_until = acct->owned_until;
	res->account.id = acct->id;
}

/* The decision's reason for rank's pick: how it was made, or the strategy. */
const char *
route_pick_reason(const RankPick *pick, const QueueConfig *queue)
{
	switch (pick->via)
	{
		case RANK_VIA_ACCOUNT_OWNER:
			return "account_owner";
		case RANK_VIA_PREVIOUS_OWNER:
			return "previous_owner";
		case RANK_VIA_STRATEGY:
			break;
	}
	return strategy_names[queue->strategy];
}

/*
 * A suppressed account, or a suppress rule, rejects the lead: true when
 * one did, with the outcome and reasons set in *res.
 */
bool
route_suppressed(const AccountInfo *acct, const RuleConfig *rule, RouteResult *res)
{
	if (acct->found && acct->suppressed)
	{
		res->outcome = ROUTE_SUPPRESSED;
		res->reject_reason = psprintf("account suppressed: %s",
									  acct->suppress_reason ? acct->suppress_reason : "no reason given");
		res->reason = "account_suppressed";
		return true;
	}
	if (rule != NULL && rule->suppress)
	{
		res->outcome = ROUTE_SUPPRESSED;
		res->reject_reason = psprintf("suppressed by rule \"%s\"", rule->name);
		res->reason = "rule_suppress";
		return true;
	}
	return false;
}

/* ----- the decision ----- */

/*
 * Decide the lead's fate: gather (the account, the rule, the queue; under
 * the queue's lock its members, counters and turns), rank (rank.c: pure),
 * claim (the seat, the queue's turn, the account's owner).  In
 * ROUTE_EXPLAIN mode nothing is claimed, locked or written: the result
 * says what routing would do now, from the same gather and rank.
 */
void
route_decide(const LeadInput *lead, RouteMode mode, TimestampTz now,
			 RouteResult *res)
{
	RoutingConfig *config = routing_config();
	RoutingDoc	built;
	const RoutingDoc *doc = lead->doc;
	AccountInfo found;
	AccountInfo *acct = lead->account;
	RuleConfig *rule;
	RankSnapshot snap;
	RankPick	pick;
	bool		claimed;

	memset(res, 0, sizeof(*res));
	res->chosen = -1;
	/* The account is read first: rules may match its attributes. */
	if (acct == NULL)
	{
		if (doc == NULL)
			routing_doc_build(&built, lead->attrs, lead->source, lead->campaign,
							  lead->company, lead->country, lead->email);
		else
			built = *doc;
		account_find(config, lead->account_id, &built, &found);
		routing_doc_set_account(&built, found.doc);
		doc = &built;
		acct = &found;
	}

	/* The rule needs nothing but the lead, so it comes before any lock. */
	rule = route_rule_and_queue(config, lead, doc, &res->queue);
	res->rule = rule;
	if (mode != ROUTE_EXPLAIN && !(rule && rule->suppress) &&
		lock_queue(res->queue, lead->queue_lock_nowait) == LOCKACQUIRE_NOT_AVAIL)
	{
		res->queue_busy = true;
		return;
	}

	/* a new company domain's account is made under the queue lock */
	if (mode != ROUTE_EXPLAIN)
		account_create_pending(config, acct);
	res->account_id = acct->found ? acct->id : 0;
	res->account_match = acct->found ? acct->match : ACCOUNT_NONE;
	if (acct->created)
	{
		res->account.id = acct->id;
		res->account.created = true;
	}
	if (route_suppressed(acct, rule, res))
		return;

	gather_snapshot(config, lead, rule, res->queue, acct, now, mode != ROUTE_EXPLAIN, &snap);
	rank_judge(&snap, now);
	claimed = claim_pick(&snap, mode, now, &pick);
	rank_finish(&snap, claimed ? &pick : NULL, &res->cands, &res->ncands);
	if (!claimed)
	{
		res->outcome = ROUTE_BACKLOG;
		res->reason = "no_eligible_member";
		return;
	}

	res->outcome = ROUTE_ASSIGNED;
	res->owner = pick.cand->rep;
	res->reason = route_pick_reason(&pick, res->queue);
	/*
	 * load_balanced orders members by their counters, which the next
	 * router reads from rows: it must see this seat taken (and the
	 * weighted strategies' turns are in the table only anyway).
	 */
	if (mode != ROUTE_EXPLAIN && res->queue->strategy != STRATEGY_ROUND_ROBIN)
		routing_keep_queue_locks();
	if (mode != ROUTE_EXPLAIN && pick.via != RANK_VIA_ACCOUNT_OWNER)
	{
		strategy_commit(res->queue, snap.members, snap.nmembers, pick.index, now,
						config->version, &res->turn);
		res->chosen = pick.index;
	}
	route_set_follow_up(lead, res, now);
	if (mode != ROUTE_EXPLAIN && res->queue->sticky_account && acct->found &&
		!account_owner_current(acct, now))
		claim_account(acct, now, res);
}

/*
 * Raise an alert about a lead, for the manager of about_rep (0: none) or
 * whoever config_alert_recipient finds instead: never for nobody.
 */
void
route_alert(const char *kind, int64 lead_id, int32 about_rep, const QueueConfig *queue,
			Jsonb *detail, TimestampTz now)
{
	int32		recipient = config_alert_recipient(routing_config(), about_rep, queue);

	if (recipient != 0)			/* 0: there is no rep at all to tell */
		ledger_alert(kind, lead_id, recipient, detail, now);
}

/* Write the ledger row (and alert) that records a decision. */
void
route_record(const LeadInput *lead, const RouteResult *res, bool first_attempt,
			 TimestampTz now)
{
	DecisionRow row;

	/* A retried lead that is still without an owner was recorded already. */
	if (res->outcome == ROUTE_BACKLOG && !first_attempt)
		return;

	memset(&row, 0, sizeof(row));
	row.lead_id = lead->id;
	row.at = now;
	row.from_rep = lead->current_owner;
	row.rule_id = res->rule ? res->rule->id : 0;
	if (res->outcome != ROUTE_SUPPRESSED && res->queue != NULL)
	{
		row.queue = res->queue->name;
		if (res->outcome != ROUTE_DUPLICATE)
			row.strategy = strategy_names[res->queue->strategy];
	}
	row.reason = res->outcome == ROUTE_SUPPRESSED ? res->reject_reason : res->reason;
	row.cands = res->cands;
	row.ncands = res->ncands;
	row.account_id = res->account_id;
	row.account_match = account_match_label(res->account_match);
	switch (res->outcome)
	{
		case ROUTE_ASSIGNED:
			row.kind = lead->decision_kind ? lead->decision_kind : "assign";
			row.to_rep = res->owner->id;
			break;
		case ROUTE_BACKLOG:
			row.kind = "backlog";
			break;
		case ROUTE_SUPPRESSED:
			row.kind = "suppress";
			break;
		case ROUTE_DUPLICATE:
			row.kind = "duplicate";
			row.to_rep = res->owner ? res->owner->id : 0;
			row.reason = res->reject_reason;
			break;
	}
	ledger_decision(&row);

	if (res->outcome == ROUTE_BACKLOG)
	{
		const char *keys[] = {"queue", "reason"};
		const char *values[] = {res->queue->name, "no member of the queue can take the lead now"};

		route_alert("backlog", lead->id, 0, res->queue, ledger_detail(2, keys, values), now);
	}
	else if (res->outcome == ROUTE_ASSIGNED)
	{
		int			i;

		/* The seat just taken was the rep's last: tell the manager. */
		for (i = 0; i < res->ncands; i++)
			if (res->cands[i].chosen &&
				res->cands[i].open_count + 1 == res->owner->max_open)
			{
				const char *keys[] = {"cap", "rep"};
				const char *values[] = {"max_open", res->owner->name};

				route_alert("cap_reached", lead->id, res->owner->id, res->queue,
							ledger_detail(2, keys, values), now);
			}
	}
}

/*
 * The owners a batch of leads have had, from the ledger (written and
 * still in memory): a reassignment skips them.
 */
typedef struct OwnerHistory
{
	int64		lead_id;		/* the hash key */
	int			n;
	int			capacity;
	int32	   *reps;
} OwnerHistory;

static void
history_add(int64 lead_id, int32 rep_id, void *arg)
{
	OwnerHistory *h = hash_search((HTAB *) arg, &lead_id, HASH_FIND, NULL);
	int			i;

	if (h == NULL)
		return;					/* not a lead asked about */
	for (i = 0; i < h->n; i++)
		if (h->reps[i] == rep_id)
			return;
	if (h->n == h->capacity)
	{
		h->capacity = h->capacity ? 2 * h->capacity : 4;
		h->reps = h->reps ? repalloc(h->reps, sizeof(int32) * h->capacity)
			: palloc(sizeof(int32) * h->capacity);
	}
	h->reps[h->n++] = rep_id;
}

/*
 * Read the previous owners of leads ids[0..n) with one statement, into a
 * table made in the current memory context, for route_set_previous_owners.
 * One statement per batch, not one per lead, and planned for its array
 * each time (leadflow_plan_custom): a saved per-lead look-up that settled
 * on a generic plan while the ledger was small scanned the whole ledger
 * for every lead.  The caller is connected to SPI.
 */
PreviousOwners *
route_read_previous_owners(const int64 *ids, int n)
{
	static const Oid argtypes[] = {INT8ARRAYOID};
	HASHCTL		ctl;
	HTAB	   *table;
	Datum	   *elems = palloc(sizeof(Datum) * Max(n, 1));
	Datum		arg;
	uint64		row;
	int			i;

	ctl.keysize = sizeof(int64);
	ctl.entrysize = sizeof(OwnerHistory);
	ctl.hcxt = CurrentMemoryContext;
	table = hash_create("leadflow previous owners", Max(n, 16), &ctl,
						HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	for (i = 0; i < n; i++)
	{
		bool		found;
		OwnerHistory *h = hash_search(table, &ids[i], HASH_ENTER, &found);

		if (!found)
		{
			h->n = h->capacity = 0;
			h->reps = NULL;
		}
		elems[i] = Int64GetDatum(ids[i]);
	}
	arg = PointerGetDatum(construct_array(elems, n, INT8OID, sizeof(int64),
										  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	if (SPI_execute_plan(leadflow_plan_custom(&previous_owners_plan,
											  "SELECT d.lead_id, v.r FROM leadflow.decision d,"
											  " LATERAL (VALUES (d.from_rep), (d.to_rep)) v(r)"
											  " WHERE d.lead_id = ANY ($1) AND v.r IS NOT NULL",
											  1, argtypes),
						 &arg, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "leadflow: could not read the leads' previous owners");
	for (row = 0; row < SPI_processed; row++)
	{
		HeapTuple	t = SPI_tuptable->vals[row];

		history_add(spi_col_int64(t, SPI_tuptable->tupdesc, 1),
					spi_col_int32(t, SPI_tuptable->tupdesc, 2, NULL), table);
	}
	SPI_freetuptable(SPI_tuptable);
	ledger_pending_reps(history_add, table);
	pfree(elems);
	return (PreviousOwners *) table;
}

/* Set the lead's previous owners from those read for its batch. */
void
route_set_previous_owners(LeadInput *lead, PreviousOwners *owners)
{
	OwnerHistory *h = hash_search((HTAB *) owners, &lead->id, HASH_FIND, NULL);

	lead->excluded = h ? h->reps : NULL;
	lead->nexcluded = h ? h->n : 0;
}

/* The previous owners of one lead. */
void
route_load_previous_owners(LeadInput *lead)
{
	route_set_previous_owners(lead, route_read_previous_owners(&lead->id, 1));
}
