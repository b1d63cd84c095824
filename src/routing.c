/*
 * routing.c
 *	  Deciding who gets a lead: account, rule, queue, the account owner or
 *	  the queue's strategy under the caps, or the backlog.
 *
 * route_decide() is the whole decision; it claims the chosen rep's seat
 * and records the queue's turn, but writes neither the lead nor the
 * ledger: its callers (the INSERT trigger in lead_triggers.c, and
 * leadflow.route() / route_pending() here) do, so that one decision is
 * written the same way whichever path made it.
 *
 * Concurrency.  Routing into a queue takes a transaction-level advisory
 * lock on the queue before it reads the queue's rotation state, the rep
 * counters and the account owner, so concurrent routers take turns and
 * see each other's committed choices: round robin stays exact and a
 * sticky account gets one owner.  Seats are claimed with a conditional
 * UPDATE (caps.c), which holds even for writers that do not take the queue
 * lock (manual moves, another queue sharing the rep).
 *
 * Lock order (README "Concurrency"): lead rows, then queue locks (several
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
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "common/hashfn.h"
#include "storage/lock.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/tuplestore.h"

#include "leadflow.h"
#include "matching.h"
#include "routing_decide.h"

/* Advisory lock space of queue routing locks ("LFQ"). */
#define QUEUE_LOCK_SPACE 0x4C4651

static SPIPlanPtr account_by_id_plan = NULL;
static SPIPlanPtr account_by_domain_plan = NULL;
static SPIPlanPtr account_create_plan = NULL;
static SPIPlanPtr account_owner_plan = NULL;
static SPIPlanPtr previous_owners_plan = NULL;

/* ----- accounts ----- */

typedef struct AccountInfo
{
	bool		found;
	bool		created;		/* by this call */
	int64		id;
	int32		owner_id;		/* 0 = none */
	bool		has_owned_until;
	TimestampTz owned_until;
	bool		suppressed;
	char	   *suppress_reason;
} AccountInfo;

#define ACCOUNT_COLUMNS "id, owner_id, owned_until, status = 'suppressed', suppress_reason"

static void
account_from_result(AccountInfo *acct)
{
	HeapTuple	t;
	TupleDesc	d;
	bool		isnull;
	Datum		v;

	acct->found = SPI_processed > 0;
	if (!acct->found)
		return;
	t = SPI_tuptable->vals[0];
	d = SPI_tuptable->tupdesc;
	acct->id = DatumGetInt64(SPI_getbinval(t, d, 1, &isnull));
	v = SPI_getbinval(t, d, 2, &isnull);
	acct->owner_id = isnull ? 0 : DatumGetInt32(v);
	v = SPI_getbinval(t, d, 3, &isnull);
	acct->has_owned_until = !isnull;
	acct->owned_until = isnull ? 0 : DatumGetTimestampTz(v);
	acct->suppressed = DatumGetBool(SPI_getbinval(t, d, 4, &isnull));
	v = SPI_getbinval(t, d, 5, &isnull);
	acct->suppress_reason = isnull ? NULL : TextDatumGetCString(v);
}

/* Run one account statement (one parameter) and read its row, if any. */
static void
account_statement(SPIPlanPtr plan, Datum arg, int expected, AccountInfo *acct)
{
	if (SPI_execute_plan(plan, &arg, NULL, false, 1) != expected)
		elog(ERROR, "leadflow: could not read or create an account");
	account_from_result(acct);
}

static void
account_by_id(int64 id, AccountInfo *acct)
{
	static const Oid argtypes[] = {INT8OID};

	account_statement(leadflow_plan(&account_by_id_plan,
									"SELECT " ACCOUNT_COLUMNS
									" FROM leadflow.account WHERE id = $1",
									1, argtypes),
					  Int64GetDatum(id), SPI_OK_SELECT, acct);
}

/*
 * The account of an email domain, created on first sight.  A concurrent
 * creator makes our INSERT do nothing; the SELECT after it (a new snapshot)
 * then sees the committed row.
 */
static void
account_by_domain(const char *domain, bool create, AccountInfo *acct)
{
	static const Oid argtypes[] = {TEXTOID};
	Datum		arg = CStringGetTextDatum(domain);

	account_statement(leadflow_plan(&account_by_domain_plan,
									"SELECT " ACCOUNT_COLUMNS
									" FROM leadflow.account WHERE domain = $1",
									1, argtypes),
					  arg, SPI_OK_SELECT, acct);
	if (acct->found || !create)
		return;
	account_statement(leadflow_plan(&account_create_plan,
									"INSERT INTO leadflow.account (domain) VALUES ($1)"
									" ON CONFLICT (domain) DO NOTHING"
									" RETURNING " ACCOUNT_COLUMNS,
									1, argtypes),
					  arg, SPI_OK_INSERT_RETURNING, acct);
	acct->created = acct->found;
	if (!acct->found)
		account_by_domain(domain, false, acct);
}

/*
 * Resolve the lead's account: its account_id, else its email domain unless
 * that is a free-mail domain (created unless only explaining).
 */
static void
resolve_account(RoutingConfig *config, const LeadInput *lead,
				const RoutingDoc *doc, bool create, AccountInfo *acct)
{
	char	   *domain;

	memset(acct, 0, sizeof(*acct));
	if (lead->account_id != 0)
	{
		account_by_id(lead->account_id, acct);
		return;
	}
	if (doc->field[ROUTING_DOMAIN] == NULL || doc->field_len[ROUTING_DOMAIN] == 0)
		return;
	domain = pnstrdup(doc->field[ROUTING_DOMAIN], doc->field_len[ROUTING_DOMAIN]);
	if (!config_is_freemail(config, domain))
		account_by_domain(domain, create, acct);
}

/*
 * The first rep becomes a sticky account's owner, for hold_for or for good;
 * *change records what it was before.
 */
static void
take_account_ownership(AccountInfo *acct, QueueConfig *queue, int32 rep_id,
					   TimestampTz now, AccountChange *change)
{
	static const Oid argtypes[] = {INT8OID, INT4OID, TIMESTAMPTZOID, TIMESTAMPTZOID};
	Datum		args[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};

	args[0] = Int64GetDatum(acct->id);
	args[1] = Int32GetDatum(rep_id);
	if (queue->has_hold_for)
		args[2] = DirectFunctionCall2(timestamptz_pl_interval,
									  TimestampTzGetDatum(now),
									  IntervalPGetDatum(&queue->hold_for));
	else
		nulls[2] = 'n';
	args[3] = TimestampTzGetDatum(now);
	if (SPI_execute_plan(leadflow_plan(&account_owner_plan,
									   "UPDATE leadflow.account SET owner_id = $2, owned_until = $3"
									   " WHERE id = $1 AND (owner_id IS NULL OR owned_until <= $4)",
									   4, argtypes),
						 args, nulls, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "leadflow: could not set the account owner");
	change->owner_set = SPI_processed > 0;
	change->prev_owner = acct->owner_id;
	change->prev_has_until = acct->has_owned_until;
	change->prev_until = acct->owned_until;
}

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

static bool
account_owner_current(const AccountInfo *acct, TimestampTz now)
{
	return acct->found && acct->owner_id != 0 &&
		(!acct->has_owned_until || acct->owned_until > now);
}

/* ----- rules ----- */

static RuleConfig *
first_matching_rule(RoutingConfig *config, const RoutingDoc *doc, int32 score)
{
	int			i;

	for (i = 0; i < config->nrules; i++)
	{
		RuleConfig *r = &config->rules[i];

		if (r->has_min_score && score < r->min_score)
			continue;
		if (r->has_max_score && score > r->max_score)
			continue;
		if (routing_doc_matches(doc, &r->match->root))
			return r;
	}
	return NULL;
}

/* ----- eligibility ----- */

static bool
has_skills(const RepConfig *rep, const RuleConfig *rule)
{
	int			i,
				j;

	if (rule == NULL)
		return true;
	for (i = 0; i < rule->nrequire_skills; i++)
	{
		bool		found = false;

		for (j = 0; j < rep->nskills && !found; j++)
			found = strcmp(rule->require_skills[i], rep->skills[j]) == 0;
		if (!found)
			return false;
	}
	return true;
}

static bool
is_excluded(const LeadInput *lead, int32 rep_id)
{
	int			i;

	for (i = 0; i < lead->nexcluded; i++)
		if (lead->excluded[i] == rep_id)
			return true;
	return false;
}

/* Why the candidate cannot take the lead now, or NULL when it can. */
static const char *
passed_over(const Candidate *c, const RuleConfig *rule, const QueueConfig *queue,
			const LeadInput *lead, TimestampTz now)
{
	const RepConfig *r = c->rep;

	if (!r->active)
		return PASS_INACTIVE;
	if (r->has_away && r->away_until > now)
		return PASS_AWAY;
	if (queue->require_available && !bt_is_open(&r->sched, now))
		return PASS_OUTSIDE_HOURS;
	if (c->open_count >= r->max_open)
		return PASS_AT_MAX_OPEN;
	if (c->new_today >= r->max_new_per_day)
		return PASS_AT_MAX_NEW;
	if (!has_skills(r, rule))
		return PASS_MISSING_SKILLS;
	if (lead->current_owner == r->id)
		return PASS_CURRENT_OWNER;
	if (is_excluded(lead, r->id))
		return PASS_PREVIOUS_OWNER;
	return NULL;
}

static void
init_candidate(Candidate *c, RepConfig *rep, int32 weight)
{
	memset(c, 0, sizeof(*c));
	c->rep = rep;
	c->weight = weight;
}

/* ----- the decision ----- */

static void
queue_lock_tag(LOCKTAG *tag, const QueueConfig *queue)
{
	uint32		key = DatumGetUInt32(hash_any((const unsigned char *) queue->name,
											  strlen(queue->name)));

	SET_LOCKTAG_ADVISORY(*tag, MyDatabaseId, QUEUE_LOCK_SPACE, key, 2);
}

/* Take the queue's routing lock; with nowait, false when another holds it. */
static LockAcquireResult
lock_queue(const QueueConfig *queue, bool nowait)
{
	LOCKTAG		tag;

	queue_lock_tag(&tag, queue);
	return LockAcquire(&tag, ExclusiveLock, false, nowait);
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
				LockRelease(&tag, ExclusiveLock, false);
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

/*
 * Try the account owner of a sticky queue.  The owner need not be a member
 * of the queue, but must be eligible like one.
 */
static bool
try_account_owner(RoutingConfig *config, const LeadInput *lead, RuleConfig *rule,
				  QueueConfig *queue, AccountInfo *acct, RouteMode mode,
				  TimestampTz now, RouteResult *res)
{
	RepConfig  *owner;
	Candidate  *c;

	if (!queue->sticky_account || !acct->found)
		return false;
	/* Re-read under the queue lock: a concurrent router may have set it. */
	account_by_id(acct->id, acct);
	if (!account_owner_current(acct, now))
		return false;
	owner = config_find_rep(config, acct->owner_id);
	if (owner == NULL)
		return false;

	c = palloc(sizeof(Candidate));
	init_candidate(c, owner, 1);
	caps_load(c, 1, now);
	c->reason = passed_over(c, rule, queue, lead, now);
	c->eligible = c->reason == NULL;
	if (!c->eligible)
		return false;
	if (mode != ROUTE_EXPLAIN && !caps_claim(owner, now, true))
		return false;
	c->chosen = true;
	res->cands = c;
	res->ncands = 1;
	res->owner = owner;
	res->reason = "account_owner";
	return true;
}

/* Pick a member by the queue's strategy and claim its seat. */
static bool
try_members(const LeadInput *lead, RuleConfig *rule, QueueConfig *queue,
			RouteMode mode, TimestampTz now, RouteResult *res)
{
	Candidate  *cands = palloc(sizeof(Candidate) * Max(queue->nmembers, 1));
	int		   *order = palloc(sizeof(int) * Max(queue->nmembers, 1));
	int			n,
				i;

	for (i = 0; i < queue->nmembers; i++)
		init_candidate(&cands[i], queue->members[i].rep, queue->members[i].weight);
	res->cands = cands;
	res->ncands = queue->nmembers;
	if (queue->nmembers == 0)
		return false;

	caps_load(cands, queue->nmembers, now);
	strategy_load_state(queue, cands, queue->nmembers);
	for (i = 0; i < queue->nmembers; i++)
	{
		cands[i].reason = passed_over(&cands[i], rule, queue, lead, now);
		cands[i].eligible = cands[i].reason == NULL;
	}

	n = strategy_order(queue, cands, queue->nmembers, order);
	for (i = 0; i < n; i++)
	{
		Candidate  *c = &cands[order[i]];

		if (mode != ROUTE_EXPLAIN && !caps_claim(c->rep, now, true))
		{
			c->reason = PASS_LOST_RACE;
			continue;
		}
		c->chosen = true;
		res->owner = c->rep;
		res->reason = strategy_names[queue->strategy];
		if (mode != ROUTE_EXPLAIN)
		{
			strategy_commit(queue, cands, queue->nmembers, order[i], now, &res->turn);
			res->chosen = order[i];
		}
		break;
	}
	for (i = 0; i < queue->nmembers; i++)
		if (!cands[i].chosen && cands[i].reason == NULL)
			cands[i].reason = PASS_NOT_PICKED;
	return res->owner != NULL;
}

/*
 * Decide the lead's fate.  In ROUTE_EXPLAIN mode nothing is claimed, locked
 * or written: the result says what routing would do now.
 */
void
route_decide(const LeadInput *lead, RouteMode mode, TimestampTz now,
			 RouteResult *res)
{
	RoutingConfig *config = routing_config();
	RoutingDoc	built;
	const RoutingDoc *doc = lead->doc;
	AccountInfo acct;
	RuleConfig *rule;

	memset(res, 0, sizeof(*res));
	res->chosen = -1;
	if (doc == NULL)
	{
		routing_doc_build(&built, lead->attrs, lead->source, lead->campaign,
						  lead->company, lead->country, lead->email);
		doc = &built;
	}

	/* The rule needs nothing but the lead, so it comes before any lock. */
	rule = lead->force_queue ? NULL : first_matching_rule(config, doc, lead->score);
	res->rule = rule;
	res->queue = rule && rule->queue ? rule->queue : config->default_queue;
	if (lead->force_queue)
	{
		res->queue = config_find_queue(config, lead->force_queue);
		if (res->queue == NULL)
			res->queue = config->default_queue;
	}
	if (mode != ROUTE_EXPLAIN && !(rule && rule->suppress) &&
		lock_queue(res->queue, lead->queue_lock_nowait) == LOCKACQUIRE_NOT_AVAIL)
	{
		res->queue_busy = true;
		return;
	}

	resolve_account(config, lead, doc, mode != ROUTE_EXPLAIN, &acct);
	res->account_id = acct.found ? acct.id : 0;
	if (acct.created)
	{
		res->account.id = acct.id;
		res->account.created = true;
	}
	if (acct.found && acct.suppressed)
	{
		res->outcome = ROUTE_SUPPRESSED;
		res->reject_reason = psprintf("account suppressed: %s",
									  acct.suppress_reason ? acct.suppress_reason : "no reason given");
		res->reason = "account_suppressed";
		return;
	}
	if (rule != NULL && rule->suppress)
	{
		res->outcome = ROUTE_SUPPRESSED;
		res->reject_reason = psprintf("suppressed by rule \"%s\"", rule->name);
		res->reason = "rule_suppress";
		return;
	}

	if (try_account_owner(config, lead, rule, res->queue, &acct, mode, now, res) ||
		try_members(lead, rule, res->queue, mode, now, res))
	{
		res->outcome = ROUTE_ASSIGNED;
		route_set_follow_up(lead, res, now);
		if (mode != ROUTE_EXPLAIN && res->queue->sticky_account && acct.found &&
			!account_owner_current(&acct, now))
		{
			take_account_ownership(&acct, res->queue, res->owner->id, now, &res->account);
			res->account.id = acct.id;
		}
		return;
	}
	res->outcome = ROUTE_BACKLOG;
	res->reason = "no_eligible_member";
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

		ledger_alert("backlog", lead->id, 0, ledger_detail(2, keys, values), now);
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

				ledger_alert("cap_reached", lead->id, res->owner->manager_id,
							 ledger_detail(2, keys, values), now);
			}
	}
}

/*
 * Owners the lead has had (from the ledger, written and still in memory):
 * a reassignment skips them.
 */
void
route_load_previous_owners(LeadInput *lead)
{
	static const Oid argtypes[] = {INT8OID};
	Datum		arg = Int64GetDatum(lead->id);
	uint64		i;
	int			npending;

	if (SPI_execute_plan(leadflow_plan(&previous_owners_plan,
									   "SELECT DISTINCT r FROM leadflow.decision d,"
									   " LATERAL (VALUES (d.from_rep), (d.to_rep)) v(r)"
									   " WHERE d.lead_id = $1 AND r IS NOT NULL",
									   1, argtypes),
						 &arg, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "leadflow: could not read the lead's previous owners");
	npending = ledger_pending_reps(lead->id, NULL, 0);
	lead->excluded = palloc(sizeof(int32) * (SPI_processed + npending + 1));
	lead->nexcluded = (int) SPI_processed;
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;

		lead->excluded[i] = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[i],
														SPI_tuptable->tupdesc, 1, &isnull));
	}
	/* a rep listed twice is harmless: exclusion only asks "is it there" */
	lead->nexcluded += ledger_pending_reps(lead->id, lead->excluded + lead->nexcluded, npending);
}
