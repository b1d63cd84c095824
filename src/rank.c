/*
 * rank.c
 *	  Who may take a lead and in which order: pure C over a snapshot.
 *
 * Routing (routing.c) gathers a RankSnapshot -- the lead's rule and queue,
 * its current and previous owners, the queue's members with their
 * counters and rotation state, a sticky queue's account owner -- and asks
 * rank_pick for the rep to claim.  When the claim is refused because a
 * concurrent transaction took the seat, rank_refused marks that candidate
 * and rank_pick is asked again; rank_finish then settles every other
 * candidate's reason for the ledger.  Nothing here reads the database,
 * takes a lock, writes or reads global state: the same snapshot gives the
 * same answer, so explain() agrees with routing and a backtest can replay
 * history through it (test/rank/ drives it without a server).
 *
 * The order of preference, per strategy (ties always go to the lowest rep
 * id; the turns themselves are recorded by strategy.c):
 *
 *	round_robin    least recently assigned in this queue first (never first
 *				   of all).  "Recently" is a turn number, not a time: many
 *				   leads can be routed at the same instant (one INSERT,
 *				   one transaction, a fixed clock).
 *	weighted       smooth weighted round robin: every eligible member's
 *				   current weight grows by its weight, the largest is picked
 *				   and pays back the total.  With weights 3:1 that gives
 *				   a,a,b,a, a,a,b,a, ... -- exact shares, interleaved.
 *	load_balanced  lowest open/max_open first.
 *	performance    smooth weighted round robin whose weights are each rep's
 *				   conversion rate smoothed toward the queue's: a rep with
 *				   little history starts near the average, not at zero.
 */
#include "postgres.h"

#include "rank.h"

/* Closed leads a rep's own rate is worth as much as the queue's average. */
#define PERFORMANCE_PRIOR_LEADS 20.0
/* Scale of derived performance weights (a rate of 1.0 weighs this much). */
#define PERFORMANCE_WEIGHT_SCALE 1000

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
is_excluded(const RankSnapshot *snap, int32 rep_id)
{
	int			i;

	for (i = 0; i < snap->nexcluded; i++)
		if (snap->excluded[i] == rep_id)
			return true;
	return false;
}

/* Why the candidate cannot take the lead now, or NULL when it can. */
static const char *
passed_over(const Candidate *c, const RankSnapshot *snap, TimestampTz now)
{
	const RepConfig *r = c->rep;

	if (!r->active)
		return PASS_INACTIVE;
	if (r->has_away && r->away_until > now)
		return PASS_AWAY;
	if (snap->queue->require_available && !c->in_hours)
		return PASS_OUTSIDE_HOURS;
	if (c->open_count >= r->max_open)
		return PASS_AT_MAX_OPEN;
	if (c->new_today >= r->max_new_per_day)
		return PASS_AT_MAX_NEW;
	if (!has_skills(r, snap->rule))
		return PASS_MISSING_SKILLS;
	if (snap->current_owner == r->id)
		return PASS_CURRENT_OWNER;
	if (is_excluded(snap, r->id))
		return PASS_PREVIOUS_OWNER;
	return NULL;
}

static void
judge(Candidate *c, const RankSnapshot *snap, TimestampTz now)
{
	/* a refused claim stands, whatever the counts say */
	if (c->reason != NULL && strcmp(c->reason, PASS_LOST_RACE) == 0)
		return;
	c->reason = passed_over(c, snap, now);
	c->eligible = c->reason == NULL;
}

/*
 * Give every candidate its reason (NULL: eligible), as of now.  Judging
 * again (after the caller read counters again) keeps refused claims.
 */
void
rank_judge(RankSnapshot *snap, TimestampTz now)
{
	int			i;

	if (snap->account_owner != NULL)
		judge(snap->account_owner, snap, now);
	for (i = 0; i < snap->nmembers; i++)
		judge(&snap->members[i], snap, now);
}

/* ----- the strategies' order ----- */

/*
 * Performance weights: each rep's won/closed rate, smoothed toward the
 * rate of all the queue's members together.
 */
static void
derive_performance_weights(Candidate *cands, int ncands)
{
	double		won = 0,
				closed = 0,
				average;
	int			i;

	for (i = 0; i < ncands; i++)
	{
		won += cands[i].won;
		closed += cands[i].closed;
	}
	average = closed > 0 ? won / closed : 0.5;
	for (i = 0; i < ncands; i++)
	{
		double		rate = (cands[i].won + PERFORMANCE_PRIOR_LEADS * average) /
			(cands[i].closed + PERFORMANCE_PRIOR_LEADS);

		/* +1 so that a rep with a zero rate still gets an occasional turn */
		cands[i].weight = (int32) (rate * PERFORMANCE_WEIGHT_SCALE) + 1;
	}
}

/* The sort key context: qsort_arg passes the candidates array. */
typedef struct OrderContext
{
	Candidate  *cands;
	Strategy	strategy;
} OrderContext;

static int
compare_candidates(const void *a, const void *b, void *arg)
{
	OrderContext *ctx = (OrderContext *) arg;
	Candidate  *x = &ctx->cands[*(const int *) a];
	Candidate  *y = &ctx->cands[*(const int *) b];

	switch (ctx->strategy)
	{
		case STRATEGY_ROUND_ROBIN:
			if (x->last_turn != y->last_turn)
				return x->last_turn < y->last_turn ? -1 : 1;
			break;
		case STRATEGY_WEIGHTED:
		case STRATEGY_PERFORMANCE:
			{
				int64		xw = x->current_weight + x->weight;
				int64		yw = y->current_weight + y->weight;

				if (xw != yw)
					return xw > yw ? -1 : 1;
				break;
			}
		case STRATEGY_LOAD_BALANCED:
			{
				/* compare open/max_open without division: max_open > 0 here */
				int64		xl = (int64) x->open_count * y->rep->max_open;
				int64		yl = (int64) y->open_count * x->rep->max_open;

				if (xl != yl)
					return xl < yl ? -1 : 1;
				break;
			}
	}
	return (x->rep->id > y->rep->id) - (x->rep->id < y->rep->id);
}

/*
 * Put the candidates without a reason in the strategy's order of
 * preference into order[]; returns how many there are.  The performance
 * strategy derives every candidate's weight first.
 */
int
rank_order(Strategy strategy, Candidate *cands, int ncands, int *order)
{
	OrderContext ctx;
	int			n = 0;
	int			i;

	if (strategy == STRATEGY_PERFORMANCE)
		derive_performance_weights(cands, ncands);
	for (i = 0; i < ncands; i++)
		if (cands[i].reason == NULL)
			order[n++] = i;
	ctx.cands = cands;
	ctx.strategy = strategy;
	qsort_arg(order, n, sizeof(int), compare_candidates, &ctx);
	return n;
}

/*
 * The candidate without a reason that the strategy prefers most (the
 * first of rank_order's order), or -1 when every one has a reason.  One
 * pass, not a sort of the whole queue: the pick wants only the first, once
 * per lead.
 */
static int
rank_best(Strategy strategy, Candidate *cands, int ncands)
{
	OrderContext ctx;
	int			best = -1;
	int			i;

	if (strategy == STRATEGY_PERFORMANCE)
		derive_performance_weights(cands, ncands);
	ctx.cands = cands;
	ctx.strategy = strategy;
	for (i = 0; i < ncands; i++)
		if (cands[i].reason == NULL &&
			(best < 0 || compare_candidates(&i, &best, &ctx) < 0))
			best = i;
	return best;
}

/* ----- the pick ----- */

/*
 * Let the previous owners of a waiting lead take it again, when nobody
 * else can (a lead that has an owner -- the sweep -- stays with it
 * instead: see sweep.c); false when there are none.
 */
static bool
readmit_previous_owners(RankSnapshot *snap)
{
	int			nprevious = 0;
	int			i;

	snap->previous_owners_back = true;
	if (snap->current_owner != 0)
		return false;
	for (i = 0; i < snap->nmembers; i++)
	{
		Candidate  *c = &snap->members[i];

		if (c->reason != NULL && strcmp(c->reason, PASS_PREVIOUS_OWNER) == 0)
		{
			c->reason = NULL;
			c->eligible = true;
			nprevious++;
		}
	}
	return nprevious > 0;
}

/*
 * The candidate to claim now, after rank_judge: the account's owner when
 * it can take the lead, else the first member in the strategy's order,
 * else (once) the previous owners.  False when nobody is left.  A refused
 * claim (rank_refused) takes its candidate out, so asking again gives the
 * next one.
 */
bool
rank_pick(RankSnapshot *snap, RankPick *pick)
{
	Candidate  *owner = snap->account_owner;
	int			best;

	pick->cand = NULL;
	pick->index = -1;
	pick->via = RANK_VIA_STRATEGY;
	if (owner != NULL && owner->eligible && owner->reason == NULL)
	{
		pick->cand = owner;
		pick->via = RANK_VIA_ACCOUNT_OWNER;
		return true;
	}
	if (snap->nmembers == 0)
		return false;
	best = rank_best(snap->queue->strategy, snap->members, snap->nmembers);
	/* taken back at most once: after that none has that reason left */
	if (best < 0 && readmit_previous_owners(snap))
		best = rank_best(snap->queue->strategy, snap->members, snap->nmembers);
	if (best < 0)
		return false;
	pick->index = best;
	pick->cand = &snap->members[best];
	pick->via = snap->previous_owners_back ? RANK_VIA_PREVIOUS_OWNER : RANK_VIA_STRATEGY;
	return true;
}

/* The pick's seat was taken by a concurrent transaction: pass it over. */
void
rank_refused(const RankPick *pick)
{
	pick->cand->reason = PASS_LOST_RACE;
}

/*
 * The decision's candidates for the ledger, with chosen (the claimed
 * pick, or NULL) marked: the account's owner alone when it took the lead;
 * else the members, each one eligible but not chosen saying why
 * (previous_owner or not_picked), and the account's owner, passed over,
 * marked on its own entry when it is a member, else first.
 */
void
rank_finish(RankSnapshot *snap, const RankPick *chosen, Candidate **cands, int *ncands)
{
	Candidate  *owner = snap->account_owner;
	Candidate  *all;
	int			i;

	if (chosen != NULL)
		chosen->cand->chosen = true;
	if (chosen != NULL && chosen->via == RANK_VIA_ACCOUNT_OWNER)
	{
		*cands = owner;
		*ncands = 1;
		return;
	}
	for (i = 0; i < snap->nmembers; i++)
	{
		Candidate  *c = &snap->members[i];

		if (!c->chosen && c->reason == NULL)
			c->reason = is_excluded(snap, c->rep->id) ? PASS_PREVIOUS_OWNER : PASS_NOT_PICKED;
	}
	*cands = snap->members;
	*ncands = snap->nmembers;
	if (owner == NULL)
		return;
	for (i = 0; i < snap->nmembers; i++)
		if (snap->members[i].rep->id == owner->rep->id)
		{
			snap->members[i].account_owner = true;
			return;
		}
	all = palloc(sizeof(Candidate) * (snap->nmembers + 1));
	all[0] = *owner;
	memcpy(all + 1, snap->members, sizeof(Candidate) * snap->nmembers);
	*cands = all;
	*ncands = snap->nmembers + 1;
}
