/*
 * backtest.c
 *	  "What if": the leads of a window of history replayed through the
 *	  routing core under the configuration the caller's transaction sees.
 *
 * leadflow.backtest_leads(from, upto) reads the window in a few set-based
 * statements -- its leads, every decision and stage change in it, the
 * accounts its leads belong to, and what is needed to rebuild the routing
 * state as it stood at "from" -- then replays it in memory, event by event
 * in the order they happened, with the clock at each event's real time:
 *
 *	- a lead's first routing decision: the lead is routed again, by the
 *	  same code as routing (routing.c's rule and queue choice and snapshot,
 *	  rank.c's judge and pick) from counters, turns and account owners kept
 *	  here, not read from the tables;
 *	- a backlogged lead really routed later (route_pending, the sweep's
 *	  backlog step): the leads waiting in the simulated backlog are tried
 *	  again then, oldest first;
 *	- a lead closing (or reopening): its simulated owner's seat is given
 *	  back (or taken) and the outcome counted for the performance strategy;
 *	- anything else in the ledger -- manual moves, imports, the sweep's
 *	  reassignments, escalations and hand-offs, merges, deletions -- cannot
 *	  be replayed (it did not come from routing, or came from the sweep,
 *	  whose clock and input were its own): it is applied to the simulated
 *	  state as it happened (the lead goes to the rep it really went to),
 *	  and the lead is reported with the reason.
 *
 * The state at "from":
 *	- open leads and their owners: each lead created before "from" that
 *	  was open then (its stage by the stage history), with the owner its
 *	  last decision before "from" gave it;
 *	- new leads of the day: the decisions that gave reps leads on their
 *	  local day of "from", before it;
 *	- outcomes (performance): leadflow.rep_load's won and closed counts
 *	  less the closes since "from" (counted for the leads' current owners);
 *	- round-robin turns: the order of each member's last turn before
 *	  "from" (the id of the decision that took it);
 *	- smooth weighted round-robin weights: leadflow.member_state's now,
 *	  less the change every weighted turn since "from" made (from the
 *	  candidates the ledger keeps);
 *	- an account's owner: the one its first decision in the window names
 *	  (a sticky queue's decision lists the account's current owner), with
 *	  owned_until as the account has it now; none when it names none.
 *
 * Nothing is written, locked or sent: no counters, turns, accounts,
 * ledger rows, alerts or sequences (no caps_claim, strategy_commit,
 * account or ledger call), and every statement is read only, so a hot
 * standby can run it too.  A draft is uncommitted changes of the
 * configuration in the caller's transaction: routing_config() reloads
 * them at the end of the changing statement.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"

#include "backtest.h"
#include "accounts.h"
#include "candidates.h"
#include "caps.h"
#include "config_cache.h"
#include "matching.h"
#include "rank.h"
#include "routing.h"
#include "spi_plans.h"
#include "stages.h"

/* A lead's fate, as the ledger has it and as the replay makes it. */
typedef enum BtOutcome
{
	BT_NONE,					/* not routed (yet) */
	BT_ASSIGNED,
	BT_BACKLOG,					/* waiting without an owner */
	BT_SUPPRESSED,
	BT_DUPLICATE,
	BT_IMPORTED
} BtOutcome;

static const char *const outcome_names[] = {
	NULL, "assigned", "backlog", "suppressed", "duplicate", "imported"
};

/* A rep's simulated counters. */
typedef struct BtRep
{
	int32		id;				/* hash key */
	int32		open;
	bool		has_day;
	DateADT		day;			/* the rep's local day new_count counts */
	int32		new_count;
	int64		won;
	int64		closed;
} BtRep;

/* A queue member's simulated turn. */
typedef struct BtTurnKey
{
	char		queue[NAMEDATALEN];
	int32		rep;
} BtTurnKey;

typedef struct BtTurn
{
	BtTurnKey	key;
	int64		last_turn;
	int64		current_weight;
} BtTurn;

/* A queue's latest turn number. */
typedef struct BtQueue
{
	char		name[NAMEDATALEN];
	int64		max_turn;
} BtQueue;

/* An account: its configuration (read once) and its simulated owner. */
typedef struct BtAccount
{
	int64		id;				/* hash key */
	AccountInfo info;			/* owner fields: the simulated owner */
	bool		owner_known;	/* the owner at "from" was settled */
} BtAccount;

/*
 * The latest decision before "from" that gave an account to a rep by a
 * queue's strategy: when that rep owns the account at "from", its
 * ownership began there (and lasts the queue's hold_for).
 */
typedef struct BtOwnKey
{
	int64		account;
	int32		rep;
} BtOwnKey;

typedef struct BtOwnStart
{
	BtOwnKey	key;
	TimestampTz at;
	char	   *queue;
} BtOwnStart;

/* Where a lead stands in the simulation. */
typedef struct BtLeadState
{
	int64		id;				/* hash key */
	int32		owner;			/* 0 = none */
	bool		open;
	int			window;			/* index into the window's leads, or -1 */
} BtLeadState;

/* A lead of the window: its input, what the ledger did, what the replay did. */
typedef struct BtLead
{
	LeadInput	input;
	TimestampTz created_at;
	bool		ever_open;		/* open now, or closed from open later */
	int64		account_id;
	bool		new_domain;		/* its account was made by its routing */
	/* the ledger */
	bool		has_first;
	TimestampTz first_at;
	bool		config_differs;
	BtOutcome	actual;
	int32		actual_rep;
	char	   *actual_queue;
	char	   *actual_reason;
	bool		has_actual_at;
	TimestampTz actual_at;
	bool		real_waiting;	/* backlogged in the ledger, not routed since */
	const char *not_replayed;	/* why not, or NULL */
	/* the replay */
	BtOutcome	sim;
	int32		sim_rep;
	const char *sim_queue;
	const char *sim_reason;
	bool		has_sim_at;
	TimestampTz sim_at;
	int32	   *refused;		/* reps passed over for a cap */
	int			nrefused;
	int			maxrefused;
} BtLead;

/* One thing that happened: a decision or a stage change. */
typedef struct BtEvent
{
	TimestampTz at;
	int			klass;			/* 0 decision, 1 stage change: decisions first */
	int64		seq;			/* the row's id */
	int			row;			/* into its statement's result */
} BtEvent;

typedef struct Backtest
{
	RoutingConfig *config;
	MemoryContext work;			/* lives for the whole replay */
	MemoryContext per_lead;		/* reset after each routing */
	HTAB	   *reps;
	HTAB	   *turns;
	HTAB	   *queues;
	HTAB	   *accounts;
	HTAB	   *owner_starts;
	HTAB	   *leads;
	BtLead	   *window;
	int			nwindow;
	int		   *backlog;		/* window indexes waiting, in created order */
	int			nbacklog;
	bool		retry_pending;	/* the ledger routed the backlog at retry_at */
	TimestampTz retry_at;
} Backtest;

/* Decision kinds that route through rank and so may take a queue's turn. */
#define BT_OPEN_STAGES "['new'::leadflow.stage, 'working'::leadflow.stage]"

/* ----- simulated state ----- */

static HTAB *
bt_hash(const char *name, Size keysize, Size entrysize, bool strings, MemoryContext cxt)
{
	HASHCTL		ctl;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = keysize;
	ctl.entrysize = entrysize;
	ctl.hcxt = cxt;
	return hash_create(name, 256, &ctl,
					   HASH_ELEM | HASH_CONTEXT | (strings ? HASH_STRINGS : HASH_BLOBS));
}

static BtRep *
bt_rep(Backtest *bt, int32 id)
{
	bool		found;
	BtRep	   *r = hash_search(bt->reps, &id, HASH_ENTER, &found);

	if (!found)
	{
		memset(r, 0, sizeof(*r));
		r->id = id;
	}
	return r;
}

static BtTurn *
bt_turn(Backtest *bt, const char *queue, int32 rep)
{
	BtTurnKey	key;
	bool		found;
	BtTurn	   *t;

	memset(&key, 0, sizeof(key));
	strlcpy(key.queue, queue, NAMEDATALEN);
	key.rep = rep;
	t = hash_search(bt->turns, &key, HASH_ENTER, &found);
	if (!found)
	{
		t->last_turn = 0;
		t->current_weight = 0;
	}
	return t;
}

static BtQueue *
bt_queue(Backtest *bt, const char *name)
{
	char		key[NAMEDATALEN];
	bool		found;
	BtQueue    *q;

	memset(key, 0, sizeof(key));
	strlcpy(key, name, NAMEDATALEN);
	q = hash_search(bt->queues, key, HASH_ENTER, &found);
	if (!found)
		q->max_turn = 0;
	return q;
}

static BtLeadState *
bt_lead(Backtest *bt, int64 id, bool *found)
{
	BtLeadState *s = hash_search(bt->leads, &id, HASH_ENTER, found);

	if (!*found)
	{
		s->owner = 0;
		s->open = true;
		s->window = -1;
	}
	return s;
}

/* The rep's new leads on its local day at now (0 for a rep not configured). */
static int32
bt_new_today(Backtest *bt, BtRep *r, TimestampTz now)
{
	RepConfig  *rep = config_find_rep(bt->config, r->id);

	if (rep == NULL || !r->has_day || r->day != rep_local_date(rep, now))
		return 0;
	return r->new_count;
}

/* A seat in the rep's pipeline, and one of its new leads of the day. */
static void
bt_take_seat(Backtest *bt, int32 rep_id, TimestampTz now)
{
	BtRep	   *r = bt_rep(bt, rep_id);
	RepConfig  *rep = config_find_rep(bt->config, rep_id);

	r->open++;
	if (rep == NULL)
		return;
	if (!r->has_day || r->day != rep_local_date(rep, now))
	{
		r->has_day = true;
		r->day = rep_local_date(rep, now);
		r->new_count = 0;
	}
	r->new_count++;
}

static void
bt_release(Backtest *bt, int32 rep_id)
{
	BtRep	   *r = bt_rep(bt, rep_id);

	if (r->open > 0)
		r->open--;
}

/* The queue's next turn goes to rep (round robin's order). */
static void
bt_give_turn(Backtest *bt, const char *queue, int32 rep)
{
	BtQueue    *q = bt_queue(bt, queue);

	bt_turn(bt, queue, rep)->last_turn = ++q->max_turn;
}

/*
 * The turn rank's pick takes, as strategy_commit records it: the pick's
 * turn number, and for the weighted strategies every eligible member's
 * weight added and the total paid back by the pick.
 */
static void
bt_commit_turn(Backtest *bt, const QueueConfig *queue, const Candidate *members, int n,
			   int chosen)
{
	if (queue->strategy == STRATEGY_WEIGHTED || queue->strategy == STRATEGY_PERFORMANCE)
	{
		int64		sum = 0;
		int			i;

		for (i = 0; i < n; i++)
			sum += members[i].eligible ? members[i].weight : 0;
		for (i = 0; i < n; i++)
			if (members[i].eligible)
				bt_turn(bt, queue->name, members[i].rep->id)->current_weight +=
					members[i].weight - (i == chosen ? sum : 0);
	}
	bt_give_turn(bt, queue->name, members[chosen].rep->id);
}

/*
 * A weighted turn the ledger recorded (its candidates as they were), made
 * (sign 1) or taken back (sign -1): every eligible candidate's weight
 * added, the total paid back by the chosen one.
 */
static void
bt_weighted_turn(Backtest *bt, const char *queue, Datum candidates, int sign)
{
	int			n;
	LedgerCandidate *c = candidate_list_entries(candidates, &n);
	int64		sum = 0;
	int			i;

	for (i = 0; i < n; i++)
		sum += c[i].eligible ? c[i].weight : 0;
	for (i = 0; i < n; i++)
		if (c[i].eligible)
			bt_turn(bt, queue, c[i].rep)->current_weight +=
				sign * (c[i].weight - (c[i].chosen ? sum : 0));
	pfree(c);
}

/* A candidate's counters and turn from the simulated state. */
static void
bt_fill_candidate(Backtest *bt, Candidate *c, const QueueConfig *queue, TimestampTz now)
{
	BtRep	   *r = bt_rep(bt, c->rep->id);
	BtTurn	   *t = bt_turn(bt, queue->name, c->rep->id);

	c->open_count = r->open;
	c->new_today = bt_new_today(bt, r, now);
	c->won = r->won;
	c->closed = r->closed;
	c->last_turn = t->last_turn;
	c->current_weight = t->current_weight;
}

/* ----- accounts ----- */

static BtAccount *
bt_account(Backtest *bt, int64 id)
{
	if (id == 0)
		return NULL;
	return hash_search(bt->accounts, &id, HASH_FIND, NULL);
}

/* The rep owns the account from "since" for the queue's hold_for (or for good). */
static void
bt_own(BtAccount *a, int32 rep, const QueueConfig *queue, TimestampTz since)
{
	a->info.owner_id = rep;
	a->info.has_owned_until = queue != NULL && queue->has_hold_for;
	if (a->info.has_owned_until)
		a->info.owned_until =
			DatumGetTimestampTz(DirectFunctionCall2(timestamptz_pl_interval,
													TimestampTzGetDatum(since),
													IntervalPGetDatum(&queue->hold_for)));
}

/*
 * Settle an account's owner at "from" from the first decision of the
 * window that speaks of it: the candidate marked as the account's owner,
 * if any, else none.  The ownership lasts from the decision that gave
 * the owner the account by a strategy for the queue's hold_for; without
 * such a decision, until the account's owned_until when it has the same
 * owner now, else for good.
 */
static void
bt_account_owner_from(Backtest *bt, BtAccount *a, Datum candidates, bool isnull)
{
	LedgerCandidate *cands;
	int			n = 0;
	int			i;
	int32		owner = 0;
	BtOwnKey	key;
	BtOwnStart *start;

	if (a->owner_known)
		return;
	a->owner_known = true;
	if (!isnull)
	{
		cands = candidate_list_entries(candidates, &n);
		for (i = 0; i < n && owner == 0; i++)
			if (cands[i].account_owner)
				owner = cands[i].rep;
	}
	memset(&key, 0, sizeof(key));
	key.account = a->id;
	key.rep = owner;
	start = owner != 0 ? hash_search(bt->owner_starts, &key, HASH_FIND, NULL) : NULL;
	if (start != NULL)
		bt_own(a, owner, config_find_queue(bt->config, start->queue), start->at);
	else
	{
		if (owner != a->info.owner_id)
			a->info.has_owned_until = false;
		a->info.owner_id = owner;
	}
}

/* ----- routing a lead in the simulation ----- */

static void
bt_note_refused(Backtest *bt, BtLead *w, int32 rep)
{
	int			i;

	for (i = 0; i < w->nrefused; i++)
		if (w->refused[i] == rep)
			return;
	if (w->nrefused == w->maxrefused)
	{
		w->maxrefused = Max(4, w->maxrefused * 2);
		w->refused = w->refused
			? repalloc(w->refused, sizeof(int32) * w->maxrefused)
			: MemoryContextAlloc(bt->work, sizeof(int32) * w->maxrefused);
	}
	w->refused[w->nrefused++] = rep;
}

static void
bt_backlog_add(Backtest *bt, int index)
{
	int			lo = 0,
				hi = bt->nbacklog;

	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;

		if (bt->backlog[mid] < index)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < bt->nbacklog && bt->backlog[lo] == index)
		return;
	memmove(&bt->backlog[lo + 1], &bt->backlog[lo], sizeof(int) * (bt->nbacklog - lo));
	bt->backlog[lo] = index;
	bt->nbacklog++;
}

static void
bt_backlog_remove(Backtest *bt, int index)
{
	int			i;

	for (i = 0; i < bt->nbacklog; i++)
		if (bt->backlog[i] == index)
		{
			memmove(&bt->backlog[i], &bt->backlog[i + 1], sizeof(int) * (bt->nbacklog - i - 1));
			bt->nbacklog--;
			return;
		}
}

/*
 * Route window lead index at now, as route_decide would with the
 * simulated state: the rule and queue, suppression, the snapshot (members
 * and a sticky queue's account owner with the simulated counters and
 * turns), rank's pick; then the seat, the turn and the account's owner,
 * in memory.
 */
static void
bt_route(Backtest *bt, int index, TimestampTz now, bool retry)
{
	BtLead	   *w = &bt->window[index];
	BtLeadState *s;
	BtAccount  *a = bt_account(bt, w->account_id);
	RoutingDoc	doc;
	RuleConfig *rule;
	QueueConfig *queue;
	RankSnapshot snap;
	RankPick	pick;
	RouteResult res;
	AccountInfo none;
	Candidate  *cands;
	int			ncands;
	bool		found;
	bool		claimed;
	int			i;
	MemoryContext old = MemoryContextSwitchTo(bt->per_lead);

	/* an account its own routing made was not there for its rules yet */
	bool		has_account = a != NULL && (retry || !w->new_domain);

	routing_doc_build(&doc, w->input.attrs, w->input.source, w->input.campaign,
					  w->input.company, w->input.country, w->input.email);
	routing_doc_set_account(&doc, has_account ? a->info.doc : NULL);
	rule = route_rule_and_queue(bt->config, &w->input, &doc, &queue);

	w->has_sim_at = true;
	w->sim_at = now;
	w->sim_rep = 0;
	w->sim_queue = NULL;
	memset(&res, 0, sizeof(res));
	memset(&none, 0, sizeof(none));
	if (route_suppressed(has_account ? &a->info : &none, rule, &res))
	{
		/* the ledger's reason for a rejection is its text */
		w->sim = BT_SUPPRESSED;
		w->sim_reason = MemoryContextStrdup(bt->work, res.reject_reason);
		s = bt_lead(bt, w->input.id, &found);
		s->open = false;
		MemoryContextSwitchTo(old);
		MemoryContextReset(bt->per_lead);
		return;
	}

	route_snapshot_init(&snap, &w->input, rule, queue, now);
	for (i = 0; i < snap.nmembers; i++)
		bt_fill_candidate(bt, &snap.members[i], queue, now);
	if (queue->sticky_account && a != NULL && account_owner_current(&a->info, now))
	{
		RepConfig  *owner = config_find_rep(bt->config, a->info.owner_id);

		if (owner != NULL)
		{
			snap.account_owner = palloc(sizeof(Candidate));
			route_init_candidate(snap.account_owner, owner, 1, queue, now);
			bt_fill_candidate(bt, snap.account_owner, queue, now);
			snap.account_owner->account_owner = true;
		}
	}
	rank_judge(&snap, now);
	claimed = rank_pick(&snap, &pick);
	rank_finish(&snap, claimed ? &pick : NULL, &cands, &ncands);
	/* as the ledger records them: not for a retry that leaves the lead waiting */
	for (i = 0; i < ncands && (claimed || !retry); i++)
		if (cands[i].reason != NULL &&
			(strcmp(cands[i].reason, PASS_AT_MAX_OPEN) == 0 ||
			 strcmp(cands[i].reason, PASS_AT_MAX_NEW) == 0))
			bt_note_refused(bt, w, cands[i].rep->id);

	w->sim_queue = queue->name;
	if (!claimed)
	{
		w->sim = BT_BACKLOG;
		w->sim_reason = "no_eligible_member";
		bt_backlog_add(bt, index);
	}
	else
	{
		int32		rep = pick.cand->rep->id;

		w->sim = BT_ASSIGNED;
		w->sim_rep = rep;
		w->sim_reason = route_pick_reason(&pick, queue);
		bt_take_seat(bt, rep, now);
		if (pick.via != RANK_VIA_ACCOUNT_OWNER)
			bt_commit_turn(bt, queue, snap.members, snap.nmembers, pick.index);
		if (queue->sticky_account && a != NULL && !account_owner_current(&a->info, now))
			bt_own(a, rep, queue, now);
		s = bt_lead(bt, w->input.id, &found);
		s->owner = rep;
		if (retry)
			bt_backlog_remove(bt, index);
	}
	MemoryContextSwitchTo(old);
	MemoryContextReset(bt->per_lead);
}

/* The ledger routed waiting leads at retry_at: so does the simulation. */
static void
bt_run_retry(Backtest *bt)
{
	int		   *waiting;
	int			n = bt->nbacklog;
	int			i;

	if (!bt->retry_pending)
		return;
	bt->retry_pending = false;
	if (n == 0)
		return;
	waiting = palloc(sizeof(int) * n);
	memcpy(waiting, bt->backlog, sizeof(int) * n);
	for (i = 0; i < n; i++)
		bt_route(bt, waiting[i], bt->retry_at, true);
	pfree(waiting);
}

/* ----- the ledger's events ----- */

/* The columns of the window's decisions (decisions_sql). */
enum
{
	D_ID = 1, D_LEAD, D_AT, D_KIND, D_FROM, D_TO, D_QUEUE, D_REASON,
	D_VERSION, D_ACCOUNT, D_MATCH, D_CANDIDATES, D_STRATEGY
};

/* What a decision that is not routing's is reported as. */
static const char *
bt_not_replayed_reason(const char *kind)
{
	if (strcmp(kind, "manual") == 0)
		return "manual_move";
	if (strcmp(kind, "merge") == 0)
		return "merged";
	if (strcmp(kind, "delete") == 0)
		return "deleted";
	if (strcmp(kind, "forget") == 0)
		return "erased";
	return "sweep";				/* reassign_sla, escalate, handoff, keep, backlog */
}

/*
 * Apply a decision that is not replayed to the simulated state as it
 * happened: the lead leaves its simulated owner for the rep it really
 * went to (a seat given back, one taken, and the turn a routed
 * reassignment took), or is deleted.
 */
static void
bt_mirror(Backtest *bt, BtLeadState *s, HeapTuple t, TupleDesc d, TimestampTz now)
{
	char	   *kind = spi_col_text(t, d, D_KIND);
	int32		to_rep = spi_col_int32(t, d, D_TO, NULL);
	char	   *queue = spi_col_text(t, d, D_QUEUE);
	char	   *reason = spi_col_text(t, d, D_REASON);
	char	   *strategy = spi_col_text(t, d, D_STRATEGY);
	bool		nocands;
	Datum		cands = SPI_getbinval(t, d, D_CANDIDATES, &nocands);

	if (strcmp(kind, "keep") == 0 || strcmp(kind, "suppress") == 0 ||
		strcmp(kind, "duplicate") == 0 || strcmp(kind, "merge") == 0)
		return;
	if (strcmp(kind, "delete") == 0 || strcmp(kind, "forget") == 0)
	{
		if (s->open && s->owner != 0)
			bt_release(bt, s->owner);
		s->open = false;
		return;
	}
	if (s->owner == to_rep)
		return;
	if (s->open && s->owner != 0)
		bt_release(bt, s->owner);
	if (s->open && to_rep != 0)
		bt_take_seat(bt, to_rep, now);
	s->owner = to_rep;
	if (to_rep == 0 || queue == NULL || strategy == NULL || strcmp(kind, "manual") == 0 ||
		(reason != NULL && strcmp(reason, "account_owner") == 0))
		return;
	/* a routed reassignment took the queue's turn */
	if (!nocands && (strcmp(strategy, "weighted") == 0 || strcmp(strategy, "performance") == 0))
		bt_weighted_turn(bt, queue, cands, 1);
	bt_give_turn(bt, queue, to_rep);
}

/* What the ledger did with a lead of the window (so far). */
static void
bt_actual(BtLead *w, BtOutcome outcome, int32 rep, char *queue, char *reason, TimestampTz at)
{
	w->actual = outcome;
	w->actual_rep = rep;
	w->actual_queue = queue;
	w->actual_reason = reason;
	w->has_actual_at = rep != 0;
	w->actual_at = at;
}

/* One decision of the window, in the order of the ledger. */
static void
bt_decision(Backtest *bt, HeapTuple t, TupleDesc d, int64 version)
{
	int64		lead_id = spi_col_int64(t, d, D_LEAD);
	bool		isnull;
	TimestampTz at = DatumGetTimestampTz(SPI_getbinval(t, d, D_AT, &isnull));
	char	   *kind = spi_col_text(t, d, D_KIND);
	int32		to_rep = spi_col_int32(t, d, D_TO, NULL);
	char	   *queue = spi_col_text(t, d, D_QUEUE);
	char	   *reason = spi_col_text(t, d, D_REASON);
	int64		account_id = spi_col_int64(t, d, D_ACCOUNT);
	bool		found;
	BtLeadState *s = bt_lead(bt, lead_id, &found);
	BtLead	   *w = s->window >= 0 ? &bt->window[s->window] : NULL;

	if (w != NULL && !w->has_first)
	{
		bool		vnull;
		Datum		v = SPI_getbinval(t, d, D_VERSION, &vnull);
		char	   *match = spi_col_text(t, d, D_MATCH);

		bt_run_retry(bt);
		w->has_first = true;
		w->first_at = at;
		w->config_differs = vnull || DatumGetInt64(v) != version;
		if (account_id != 0)
			w->account_id = account_id;
		w->new_domain = match != NULL && strcmp(match, "new_domain") == 0;
		s->open = true;
		if (strcmp(kind, "assign") == 0 || strcmp(kind, "backlog") == 0 ||
			strcmp(kind, "suppress") == 0)
		{
			bt_actual(w, kind[0] == 'a' ? BT_ASSIGNED : kind[0] == 'b' ? BT_BACKLOG : BT_SUPPRESSED,
					  to_rep, queue, reason, at);
			w->real_waiting = w->actual == BT_BACKLOG;
			bt_route(bt, s->window, at, false);
			return;
		}
		/* an import or a duplicate: kept as given */
		bt_actual(w, strcmp(kind, "duplicate") == 0 ? BT_DUPLICATE
				  : strcmp(kind, "manual") == 0 ? BT_IMPORTED : BT_NONE,
				  to_rep, queue, reason, at);
		w->not_replayed = w->actual == BT_DUPLICATE ? "duplicate"
			: w->actual == BT_IMPORTED ? "import" : bt_not_replayed_reason(kind);
		w->sim = w->actual;
		w->sim_rep = to_rep;
		w->sim_queue = queue;
		w->sim_reason = reason;
		w->has_sim_at = true;
		w->sim_at = at;
		s->open = w->actual == BT_IMPORTED && w->ever_open;
		if (s->open && to_rep != 0)
		{
			bt_take_seat(bt, to_rep, at);
			s->owner = to_rep;
		}
		return;
	}

	/*
	 * An assignment of a waiting lead (not a lead first seen now, routed
	 * before it was deleted): the ledger routed the backlog now.
	 */
	if (strcmp(kind, "assign") == 0 && to_rep != 0 &&
		(w != NULL ? w->real_waiting : found && s->owner == 0))
	{
		if (bt->retry_pending && bt->retry_at != at)
			bt_run_retry(bt);
		bt->retry_pending = true;
		bt->retry_at = at;
		if (w == NULL)
		{
			bt_mirror(bt, s, t, d, at);
			return;
		}
		w->real_waiting = false;
		bt_actual(w, BT_ASSIGNED, to_rep, queue, reason, at);
		/* route_pending takes the oldest first: the replay's turn now */
		bt_run_retry(bt);
		return;
	}

	bt_run_retry(bt);
	if (w != NULL)
	{
		if (w->not_replayed == NULL)
			w->not_replayed = bt_not_replayed_reason(kind);
		/* a waiting lead moved by other means leaves the simulated backlog */
		if (w->sim == BT_BACKLOG && to_rep != 0)
			bt_backlog_remove(bt, s->window);
		if (w->real_waiting && to_rep != 0)
			w->real_waiting = false;
	}
	bt_mirror(bt, s, t, d, at);
}

/* One stage change: a close gives the seat back, a reopening takes one. */
static void
bt_stage_change(Backtest *bt, HeapTuple t, TupleDesc d)
{
	int64		lead_id = spi_col_int64(t, d, 2);
	bool		isnull;
	TimestampTz at = DatumGetTimestampTz(SPI_getbinval(t, d, 3, &isnull));
	Oid			from_stage = DatumGetObjectId(SPI_getbinval(t, d, 4, &isnull));
	Oid			to_stage = DatumGetObjectId(SPI_getbinval(t, d, 5, &isnull));
	bool		was_open = stage_is_open(bt->config, from_stage);
	bool		is_open = stage_is_open(bt->config, to_stage);
	BtLeadState *s;

	if (was_open == is_open)
		return;
	bt_run_retry(bt);
	s = hash_search(bt->leads, &lead_id, HASH_FIND, NULL);
	if (s == NULL)
		return;					/* closed at "from" and unknown since */
	if (was_open && s->open)
	{
		s->open = false;
		if (s->owner != 0)
		{
			BtRep	   *r = bt_rep(bt, s->owner);

			bt_release(bt, s->owner);
			r->closed++;
			if (stage_is_won(bt->config, to_stage))
				r->won++;
		}
		if (s->window >= 0 && bt->window[s->window].sim == BT_BACKLOG)
			bt_backlog_remove(bt, s->window);
	}
	else if (is_open && !s->open)
	{
		s->open = true;
		if (s->owner != 0)
			bt_take_seat(bt, s->owner, at);
	}
}

static int
bt_event_cmp(const void *a, const void *b)
{
	const BtEvent *x = a;
	const BtEvent *y = b;

	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	if (x->klass != y->klass)
		return x->klass - y->klass;
	return (x->seq > y->seq) - (x->seq < y->seq);
}

/* ----- reading the window ----- */

static SPITupleTable *
bt_query(SPIPlanPtr *plan, const char *sql, int nargs, const Oid *types, Datum *args)
{
	if (SPI_execute_plan(leadflow_plan(plan, sql, nargs, types), args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "leadflow: could not read the window of a backtest");
	return SPI_tuptable;
}

/* The window's leads, oldest first, each with its input for routing. */
static void
bt_load_leads(Backtest *bt, Datum *window)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[] = {TIMESTAMPTZOID, TIMESTAMPTZOID};
	SPITupleTable *tt = bt_query(&plan,
								 "SELECT l.id, l.created_at, l.attrs, l.source, l.campaign, l.company,"
								 " l.country, l.email, l.score, l.account_id,"
								 " l.stage OPERATOR(pg_catalog.=) ANY (ARRAY" BT_OPEN_STAGES ")"
								 "  OR EXISTS (SELECT FROM leadflow.stage_history h"
								 "   WHERE h.lead_id OPERATOR(pg_catalog.=) l.id"
								 "     AND h.from_stage OPERATOR(pg_catalog.=) ANY (ARRAY" BT_OPEN_STAGES "))"
								 " FROM leadflow.lead l"
								 " WHERE l.created_at OPERATOR(pg_catalog.>=) $1"
								 "   AND l.created_at OPERATOR(pg_catalog.<) $2"
								 " ORDER BY l.created_at, l.id",
								 2, types, window);
	uint64		i;

	bt->nwindow = (int) tt->numvals;
	bt->window = MemoryContextAllocZero(bt->work, sizeof(BtLead) * Max(bt->nwindow, 1));
	bt->backlog = MemoryContextAlloc(bt->work, sizeof(int) * Max(bt->nwindow, 1));
	for (i = 0; i < tt->numvals; i++)
	{
		HeapTuple	t = tt->vals[i];
		TupleDesc	d = tt->tupdesc;
		BtLead	   *w = &bt->window[i];
		bool		isnull;
		Datum		v;
		bool		found;
		BtLeadState *s;

		w->input.id = DatumGetInt64(SPI_getbinval(t, d, 1, &isnull));
		w->created_at = DatumGetTimestampTz(SPI_getbinval(t, d, 2, &isnull));
		v = SPI_getbinval(t, d, 3, &isnull);
		w->input.attrs = isnull ? NULL : DatumGetJsonbP(v);
#define BT_TEXT_COL(field, col) \
		v = SPI_getbinval(t, d, col, &isnull); \
		w->input.field = isnull ? NULL : (text *) DatumGetPointer(v)
		BT_TEXT_COL(source, 4);
		BT_TEXT_COL(campaign, 5);
		BT_TEXT_COL(company, 6);
		BT_TEXT_COL(country, 7);
		BT_TEXT_COL(email, 8);
#undef BT_TEXT_COL
		w->input.score = DatumGetInt32(SPI_getbinval(t, d, 9, &isnull));
		w->account_id = spi_col_int64(t, d, 10);
		w->ever_open = DatumGetBool(SPI_getbinval(t, d, 11, &isnull));
		w->not_replayed = NULL;
		s = bt_lead(bt, w->input.id, &found);
		s->window = (int) i;
		s->open = false;		/* until its first decision */
	}
}

/*
 * The state at "from": open leads with their owners, new leads of the
 * day, outcomes, turns, weights.
 */
static void
bt_load_state(Backtest *bt, Datum *window)
{
	static SPIPlanPtr open_plan = NULL;
	static SPIPlanPtr today_plan = NULL;
	static SPIPlanPtr outcome_plan = NULL;
	static SPIPlanPtr turn_plan = NULL;
	static SPIPlanPtr weight_plan = NULL;
	static SPIPlanPtr undo_plan = NULL;
	static const Oid types[] = {TIMESTAMPTZOID};
	SPITupleTable *tt;
	uint64		i;

	/* open leads at "from" and the owner their last decision gave them */
	tt = bt_query(&open_plan,
				  "SELECT l.id, (SELECT d.to_rep FROM leadflow.decision d"
				  "   WHERE d.lead_id OPERATOR(pg_catalog.=) l.id AND d.at OPERATOR(pg_catalog.<) $1"
				  "   ORDER BY d.id DESC LIMIT 1)"
				  " FROM leadflow.lead l"
				  " WHERE l.created_at OPERATOR(pg_catalog.<) $1"
				  "   AND (l.stage OPERATOR(pg_catalog.=) ANY (ARRAY" BT_OPEN_STAGES ")"
				  "        OR l.stage_changed_at OPERATOR(pg_catalog.>=) $1)"
				  "   AND coalesce((SELECT h.to_stage FROM leadflow.stage_history h"
				  "                  WHERE h.lead_id OPERATOR(pg_catalog.=) l.id"
				  "                    AND h.at OPERATOR(pg_catalog.<) $1"
				  "                  ORDER BY h.at DESC, h.id DESC LIMIT 1),"
				  "                 (SELECT h.from_stage FROM leadflow.stage_history h"
				  "                  WHERE h.lead_id OPERATOR(pg_catalog.=) l.id"
				  "                    AND h.at OPERATOR(pg_catalog.>=) $1"
				  "                  ORDER BY h.at, h.id LIMIT 1),"
				  "                 l.stage) OPERATOR(pg_catalog.=) ANY (ARRAY" BT_OPEN_STAGES ")",
				  1, types, window);
	for (i = 0; i < tt->numvals; i++)
	{
		bool		found;
		BtLeadState *s = bt_lead(bt, spi_col_int64(tt->vals[i], tt->tupdesc, 1), &found);

		s->owner = spi_col_int32(tt->vals[i], tt->tupdesc, 2, NULL);
		s->open = true;
		if (s->owner != 0)
			bt_rep(bt, s->owner)->open++;
	}

	/* the new leads of the rep's local day of "from", before it */
	tt = bt_query(&today_plan,
				  "SELECT d.to_rep, d.at FROM leadflow.decision d"
				  " WHERE d.at OPERATOR(pg_catalog.>=) ($1 OPERATOR(pg_catalog.-) '2 days'::pg_catalog.interval)"
				  "   AND d.at OPERATOR(pg_catalog.<) $1 AND d.to_rep IS NOT NULL"
				  "   AND d.kind::pg_catalog.text OPERATOR(pg_catalog.=) ANY"
				  "       ('{assign,reassign_sla,handoff,escalate,manual}'::pg_catalog.text[])"
				  "   AND d.from_rep IS DISTINCT FROM d.to_rep",
				  1, types, window);
	for (i = 0; i < tt->numvals; i++)
	{
		int32		rep_id = spi_col_int32(tt->vals[i], tt->tupdesc, 1, NULL);
		bool		isnull;
		TimestampTz at = DatumGetTimestampTz(SPI_getbinval(tt->vals[i], tt->tupdesc, 2, &isnull));
		RepConfig  *rep = config_find_rep(bt->config, rep_id);
		BtRep	   *r;

		if (rep == NULL || rep_local_date(rep, at) != rep_local_date(rep, DatumGetTimestampTz(window[0])))
			continue;
		r = bt_rep(bt, rep_id);
		r->has_day = true;
		r->day = rep_local_date(rep, at);
		r->new_count++;
	}

	/* outcomes: the counters now, less the closes since "from" */
	tt = bt_query(&outcome_plan,
				  "SELECT r.rep_id, r.won_count OPERATOR(pg_catalog.-) coalesce(c.won, 0),"
				  "       r.closed_count OPERATOR(pg_catalog.-) coalesce(c.closed, 0)"
				  " FROM leadflow.rep_load r LEFT JOIN ("
				  "   SELECT l.owner_id,"
				  "          pg_catalog.count(*) FILTER (WHERE h.to_stage OPERATOR(pg_catalog.=) ANY"
				  "            (ARRAY['qualified'::leadflow.stage, 'converted'::leadflow.stage])) AS won,"
				  "          pg_catalog.count(*) AS closed"
				  "     FROM leadflow.stage_history h"
				  "     JOIN leadflow.lead l ON l.id OPERATOR(pg_catalog.=) h.lead_id"
				  "    WHERE h.at OPERATOR(pg_catalog.>=) $1 AND l.owner_id IS NOT NULL"
				  "      AND h.from_stage OPERATOR(pg_catalog.=) ANY (ARRAY" BT_OPEN_STAGES ")"
				  "      AND NOT h.to_stage OPERATOR(pg_catalog.=) ANY (ARRAY" BT_OPEN_STAGES ")"
				  "    GROUP BY l.owner_id) c ON c.owner_id OPERATOR(pg_catalog.=) r.rep_id",
				  1, types, window);
	for (i = 0; i < tt->numvals; i++)
	{
		BtRep	   *r = bt_rep(bt, spi_col_int32(tt->vals[i], tt->tupdesc, 1, NULL));

		r->won = Max(0, spi_col_int64(tt->vals[i], tt->tupdesc, 2));
		r->closed = Max(0, spi_col_int64(tt->vals[i], tt->tupdesc, 3));
	}

	/* round robin: the order of the members' last turns before "from" */
	tt = bt_query(&turn_plan,
				  "SELECT d.queue, d.to_rep, pg_catalog.max(d.id) FROM leadflow.decision d"
				  " WHERE d.at OPERATOR(pg_catalog.<) $1 AND d.to_rep IS NOT NULL"
				  "   AND d.queue IS NOT NULL AND d.strategy IS NOT NULL"
				  "   AND d.kind::pg_catalog.text OPERATOR(pg_catalog.=) ANY"
				  "       ('{assign,reassign_sla,handoff,escalate}'::pg_catalog.text[])"
				  "   AND d.reason IS DISTINCT FROM 'account_owner'"
				  " GROUP BY d.queue, d.to_rep",
				  1, types, window);
	for (i = 0; i < tt->numvals; i++)
	{
		char	   *queue = spi_col_text(tt->vals[i], tt->tupdesc, 1);
		int64		turn = spi_col_int64(tt->vals[i], tt->tupdesc, 3);
		BtQueue    *q = bt_queue(bt, queue);

		bt_turn(bt, queue, spi_col_int32(tt->vals[i], tt->tupdesc, 2, NULL))->last_turn = turn;
		q->max_turn = Max(q->max_turn, turn);
	}

	/* smooth weighted round robin: the weights now, less every turn since */
	tt = bt_query(&weight_plan,
				  "SELECT s.queue, s.rep_id, s.current_weight FROM leadflow.member_state s",
				  0, NULL, NULL);
	for (i = 0; i < tt->numvals; i++)
		bt_turn(bt, spi_col_text(tt->vals[i], tt->tupdesc, 1),
				spi_col_int32(tt->vals[i], tt->tupdesc, 2, NULL))->current_weight =
			spi_col_int64(tt->vals[i], tt->tupdesc, 3);
	tt = bt_query(&undo_plan,
				  "SELECT d.queue, d.candidates FROM leadflow.decision d"
				  " WHERE d.at OPERATOR(pg_catalog.>=) $1 AND d.candidates IS NOT NULL"
				  "   AND d.queue IS NOT NULL AND d.to_rep IS NOT NULL"
				  "   AND d.strategy::pg_catalog.text OPERATOR(pg_catalog.=) ANY"
				  "       ('{weighted,performance}'::pg_catalog.text[])"
				  "   AND d.kind::pg_catalog.text OPERATOR(pg_catalog.=) ANY"
				  "       ('{assign,reassign_sla,handoff,escalate}'::pg_catalog.text[])"
				  "   AND d.reason IS DISTINCT FROM 'account_owner'",
				  1, types, window);
	for (i = 0; i < tt->numvals; i++)
	{
		bool		isnull;

		bt_weighted_turn(bt, spi_col_text(tt->vals[i], tt->tupdesc, 1),
						 SPI_getbinval(tt->vals[i], tt->tupdesc, 2, &isnull), -1);
	}
}

/* The accounts of the window's leads and decisions, with their configuration. */
static void
bt_load_accounts(Backtest *bt, SPITupleTable *decisions, Datum *window)
{
	static SPIPlanPtr starts_plan = NULL;
	static SPIPlanPtr first_plan = NULL;
	static const Oid types[] = {INT8ARRAYOID, TIMESTAMPTZOID};
	static const Oid first_types[] = {INT8ARRAYOID, TIMESTAMPTZOID, TIMESTAMPTZOID};
	Datum		args[3];
	Datum		array;
	SPITupleTable *tt;
	Datum	   *ids = palloc(sizeof(Datum) * (bt->nwindow + decisions->numvals + 1));
	int			n = 0;
	AccountInfo *accts;
	int			found;
	uint64		i;

	for (i = 0; i < (uint64) bt->nwindow; i++)
		if (bt->window[i].account_id != 0)
			ids[n++] = Int64GetDatum(bt->window[i].account_id);
	for (i = 0; i < decisions->numvals; i++)
	{
		int64		id = spi_col_int64(decisions->vals[i], decisions->tupdesc, D_ACCOUNT);

		if (id != 0)
			ids[n++] = Int64GetDatum(id);
	}
	array = PointerGetDatum(construct_array(ids, n, INT8OID, sizeof(int64),
											FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	found = accounts_by_ids(array, &accts);
	for (i = 0; i < (uint64) found; i++)
	{
		BtAccount  *a = hash_search(bt->accounts, &accts[i].id, HASH_ENTER, NULL);

		a->info = accts[i];
		a->owner_known = false;
	}

	args[0] = array;
	args[1] = window[0];
	tt = bt_query(&starts_plan,
				  "SELECT DISTINCT ON (d.account_id, d.to_rep) d.account_id, d.to_rep, d.at, d.queue"
				  " FROM leadflow.decision d"
				  " WHERE d.account_id OPERATOR(pg_catalog.=) ANY ($1)"
				  "   AND d.at OPERATOR(pg_catalog.<) $2"
				  "   AND d.to_rep IS NOT NULL AND d.queue IS NOT NULL"
				  "   AND d.kind::pg_catalog.text OPERATOR(pg_catalog.=) ANY"
				  "       ('{assign,reassign_sla,handoff,escalate}'::pg_catalog.text[])"
				  "   AND d.reason IS DISTINCT FROM 'account_owner'"
				  " ORDER BY d.account_id, d.to_rep, d.id DESC",
				  2, types, args);
	for (i = 0; i < tt->numvals; i++)
	{
		BtOwnKey	key;
		BtOwnStart *start;
		bool		isnull;

		memset(&key, 0, sizeof(key));
		key.account = spi_col_int64(tt->vals[i], tt->tupdesc, 1);
		key.rep = spi_col_int32(tt->vals[i], tt->tupdesc, 2, NULL);
		start = hash_search(bt->owner_starts, &key, HASH_ENTER, NULL);
		start->at = DatumGetTimestampTz(SPI_getbinval(tt->vals[i], tt->tupdesc, 3, &isnull));
		start->queue = spi_col_text(tt->vals[i], tt->tupdesc, 4);
	}

	/* each account's owner at "from": its first decision in the window says */
	args[1] = window[0];
	args[2] = window[1];
	tt = bt_query(&first_plan,
				  "SELECT DISTINCT ON (d.account_id) d.account_id, d.candidates"
				  " FROM leadflow.decision d"
				  " WHERE d.account_id OPERATOR(pg_catalog.=) ANY ($1)"
				  "   AND d.at OPERATOR(pg_catalog.>=) $2 AND d.at OPERATOR(pg_catalog.<) $3"
				  " ORDER BY d.account_id, d.at, d.id",
				  3, first_types, args);
	for (i = 0; i < tt->numvals; i++)
	{
		int64		id = spi_col_int64(tt->vals[i], tt->tupdesc, 1);
		BtAccount  *a = bt_account(bt, id);
		bool		isnull;
		Datum		cands = SPI_getbinval(tt->vals[i], tt->tupdesc, 2, &isnull);

		if (a != NULL)
			bt_account_owner_from(bt, a, cands, isnull);
	}
}

/* ----- the SQL function ----- */

static void
bt_check_window(FunctionCallInfo fcinfo)
{
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("a backtest needs a window: from and upto must not be NULL"),
				 errdetail("%s is NULL.", PG_ARGISNULL(0) && PG_ARGISNULL(1) ? "Each bound"
						   : PG_ARGISNULL(0) ? "from" : "upto"),
				 errhint("Pass the window's bounds, e.g. backtest('2026-03-01', '2026-04-01').")));
	if (PG_GETARG_TIMESTAMPTZ(0) >= PG_GETARG_TIMESTAMPTZ(1))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the backtest window is empty: from must be before upto"),
				 errdetail("The window is [from, upto): the leads created at or after from and before upto."),
				 errhint("Swap the bounds, or widen the window.")));
}

static void
bt_emit(Backtest *bt, ReturnSetInfo *rsinfo)
{
	int			i;

	for (i = 0; i < bt->nwindow; i++)
	{
		BtLead	   *w = &bt->window[i];
		Datum		values[17];
		bool		nulls[17];

		if (!w->has_first)
			w->not_replayed = "not_routed";
		memset(nulls, false, sizeof(nulls));
		values[0] = Int64GetDatum(w->input.id);
		values[1] = TimestampTzGetDatum(w->created_at);
		values[2] = TimestampTzGetDatum(w->first_at);
		nulls[2] = !w->has_first;
#define BT_SET_TEXT(col, v) \
		do { nulls[col] = (v) == NULL; \
			 if (!nulls[col]) values[col] = CStringGetTextDatum(v); } while (0)
		BT_SET_TEXT(3, outcome_names[w->actual]);
		values[4] = Int32GetDatum(w->actual_rep);
		nulls[4] = w->actual_rep == 0;
		BT_SET_TEXT(5, w->actual_queue);
		BT_SET_TEXT(6, w->actual_reason);
		values[7] = TimestampTzGetDatum(w->actual_at);
		nulls[7] = !w->has_actual_at || w->actual_rep == 0;
		BT_SET_TEXT(8, outcome_names[w->sim]);
		values[9] = Int32GetDatum(w->sim_rep);
		nulls[9] = w->sim_rep == 0;
		BT_SET_TEXT(10, w->sim_queue);
		BT_SET_TEXT(11, w->sim_reason);
		values[12] = TimestampTzGetDatum(w->sim_at);
		nulls[12] = !w->has_sim_at || w->sim_rep == 0;
		/* "same": the routing was replayed and gave what the ledger has */
		values[13] = BoolGetDatum(w->actual == w->sim && w->actual_rep == w->sim_rep &&
								  ((w->actual_queue == NULL) == (w->sim_queue == NULL)) &&
								  (w->actual_queue == NULL ||
								   strcmp(w->actual_queue, w->sim_queue) == 0));
		nulls[13] = !w->has_first || w->actual == BT_IMPORTED || w->actual == BT_DUPLICATE;
		BT_SET_TEXT(14, w->not_replayed);
#undef BT_SET_TEXT
		values[15] = BoolGetDatum(w->config_differs);
		nulls[15] = !w->has_first;
		{
			Datum	   *reps = palloc(sizeof(Datum) * Max(w->nrefused, 1));
			int			j;

			for (j = 0; j < w->nrefused; j++)
				reps[j] = Int32GetDatum(w->refused[j]);
			values[16] = PointerGetDatum(construct_array(reps, w->nrefused, INT4OID,
														 sizeof(int32), true, TYPALIGN_INT));
		}
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
}

PG_FUNCTION_INFO_V1(leadflow_backtest_leads);

/*
 * leadflow.backtest_leads(from, upto): one row per lead created in the
 * window, oldest first: what the ledger did with it and what routing
 * under the configuration the caller sees would have done (see the top
 * of the file).
 */
Datum
leadflow_backtest_leads(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr decisions_plan = NULL;
	static SPIPlanPtr stages_plan = NULL;
	static const Oid types[] = {TIMESTAMPTZOID, TIMESTAMPTZOID};
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Datum		window[2];
	Backtest	bt;
	SPITupleTable *decisions;
	SPITupleTable *stages;
	BtEvent    *events;
	uint64		nevents = 0;
	uint64		i;

	bt_check_window(fcinfo);
	window[0] = PG_GETARG_DATUM(0);
	window[1] = PG_GETARG_DATUM(1);
	InitMaterializedSRF(fcinfo, 0);
	SPI_connect();

	memset(&bt, 0, sizeof(bt));
	bt.config = routing_config();
	bt.work = CurrentMemoryContext;
	bt.per_lead = AllocSetContextCreate(bt.work, "leadflow backtest lead", ALLOCSET_DEFAULT_SIZES);
	bt.reps = bt_hash("leadflow backtest reps", sizeof(int32), sizeof(BtRep), false, bt.work);
	bt.turns = bt_hash("leadflow backtest turns", sizeof(BtTurnKey), sizeof(BtTurn), false, bt.work);
	bt.queues = bt_hash("leadflow backtest queues", NAMEDATALEN, sizeof(BtQueue), true, bt.work);
	bt.accounts = bt_hash("leadflow backtest accounts", sizeof(int64), sizeof(BtAccount), false,
						  bt.work);
	bt.owner_starts = bt_hash("leadflow backtest account owners", sizeof(BtOwnKey),
							  sizeof(BtOwnStart), false, bt.work);
	bt.leads = bt_hash("leadflow backtest leads", sizeof(int64), sizeof(BtLeadState), false,
					   bt.work);

	bt_load_state(&bt, window);
	bt_load_leads(&bt, window);
	/*
	 * Every decision of the window; the candidates only of the weighted
	 * turns that are applied as they happened (bt_mirror): the others'
	 * are not needed, and a large queue's list is kilobytes.
	 */
	decisions = bt_query(&decisions_plan,
						 "SELECT d.id, d.lead_id, d.at, d.kind::pg_catalog.text, d.from_rep, d.to_rep,"
						 " d.queue, d.reason, d.config_version, d.account_id,"
						 " d.account_match::pg_catalog.text,"
						 " CASE WHEN d.strategy::pg_catalog.text OPERATOR(pg_catalog.=) ANY"
						 "        ('{weighted,performance}'::pg_catalog.text[])"
						 "       AND (d.kind::pg_catalog.text OPERATOR(pg_catalog.<>) 'assign'"
						 "            OR l.id IS NULL OR l.created_at OPERATOR(pg_catalog.<) $1)"
						 "      THEN d.candidates END,"
						 " d.strategy::pg_catalog.text"
						 " FROM leadflow.decision d"
						 " LEFT JOIN leadflow.lead l ON l.id OPERATOR(pg_catalog.=) d.lead_id"
						 " WHERE d.at OPERATOR(pg_catalog.>=) $1 AND d.at OPERATOR(pg_catalog.<) $2"
						 " ORDER BY d.id",
						 2, types, window);
	stages = bt_query(&stages_plan,
					  "SELECT h.id, h.lead_id, h.at, h.from_stage, h.to_stage"
					  " FROM leadflow.stage_history h"
					  " WHERE h.at OPERATOR(pg_catalog.>=) $1 AND h.at OPERATOR(pg_catalog.<) $2"
					  "   AND h.from_stage IS NOT NULL"
					  " ORDER BY h.id",
					  2, types, window);
	bt_load_accounts(&bt, decisions, window);

	events = palloc(sizeof(BtEvent) * (decisions->numvals + stages->numvals + 1));
	for (i = 0; i < decisions->numvals; i++)
	{
		BtEvent    *e = &events[nevents++];
		bool		isnull;

		e->at = DatumGetTimestampTz(SPI_getbinval(decisions->vals[i], decisions->tupdesc, D_AT, &isnull));
		e->klass = 0;
		e->seq = spi_col_int64(decisions->vals[i], decisions->tupdesc, D_ID);
		e->row = (int) i;
	}
	for (i = 0; i < stages->numvals; i++)
	{
		BtEvent    *e = &events[nevents++];
		bool		isnull;

		e->at = DatumGetTimestampTz(SPI_getbinval(stages->vals[i], stages->tupdesc, 3, &isnull));
		e->klass = 1;
		e->seq = spi_col_int64(stages->vals[i], stages->tupdesc, 1);
		e->row = (int) i;
	}
	qsort(events, nevents, sizeof(BtEvent), bt_event_cmp);
	for (i = 0; i < nevents; i++)
	{
		if (events[i].klass == 0)
			bt_decision(&bt, decisions->vals[events[i].row], decisions->tupdesc,
						bt.config->version);
		else
			bt_stage_change(&bt, stages->vals[events[i].row], stages->tupdesc);
		CHECK_FOR_INTERRUPTS();
	}
	bt_run_retry(&bt);
	bt_emit(&bt, rsinfo);
	SPI_finish();
	return (Datum) 0;
}
