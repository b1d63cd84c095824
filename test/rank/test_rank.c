/*
 * test_rank.c
 *	  rank.c driven directly, without a server: every strategy's order and
 *	  ties, every eligibility reason, the account owner, refused claims,
 *	  previous owners and the candidates left for the ledger.
 *
 * Built by test/rank/run.sh from src/rank.c against PostgreSQL's server
 * headers; the two backend functions rank.c calls are stubbed below.
 * Prints "rank CASE ... ok" or "rank CASE ... FAILED" (with the failed
 * checks) per case; exits 1 when a case failed.
 */
#include "postgres.h"

#include <stdio.h>
#include <stdlib.h>

#include "rank.h"

/* port.h points these at libpgport's versions; libc's do here */
#undef printf
#undef snprintf

/* ----- the backend functions rank.c uses ----- */

void *
palloc(Size size)
{
	void	   *p = malloc(size);

	if (p == NULL)
		abort();
	return p;
}

/* an insertion sort: the lists are short, and it needs nothing of libc's */
void
qsort_arg(void *base, size_t nel, size_t elsize, qsort_arg_comparator cmp, void *arg)
{
	char	   *a = base;
	char		tmp[64];
	size_t		i,
				j;

	if (elsize > sizeof(tmp))
		abort();
	for (i = 1; i < nel; i++)
		for (j = i; j > 0 && cmp(a + (j - 1) * elsize, a + j * elsize, arg) > 0; j--)
		{
			memcpy(tmp, a + j * elsize, elsize);
			memcpy(a + j * elsize, a + (j - 1) * elsize, elsize);
			memcpy(a + (j - 1) * elsize, tmp, elsize);
		}
}

/* ----- a small world: reps, a queue, a rule ----- */

#define MAX_REPS 8
#define NOW ((TimestampTz) 1000000)

static RepConfig reps[MAX_REPS];
static QueueConfig queue;
static RuleConfig rule;
static char *rule_skills[] = {"german"};
static char *rep_skills[] = {"german", "french"};
static Candidate members[MAX_REPS];
static Candidate owner;
static int	order[MAX_REPS];
static int32 excluded[MAX_REPS];
static RankSnapshot snap;

static int	case_failures;
static int	failed_cases;
static char failure_text[4096]; /* printed below the case's verdict line */

/* Reps 1..MAX_REPS, active, caps 10; the first n members, weight 1. */
static void
world(int n, Strategy strategy)
{
	int			i;

	memset(reps, 0, sizeof(reps));
	memset(&queue, 0, sizeof(queue));
	memset(&rule, 0, sizeof(rule));
	memset(members, 0, sizeof(members));
	memset(&owner, 0, sizeof(owner));
	memset(&snap, 0, sizeof(snap));
	queue.name = "q";
	queue.strategy = strategy;
	for (i = 0; i < MAX_REPS; i++)
	{
		reps[i].id = i + 1;
		reps[i].name = "rep";
		reps[i].active = true;
		reps[i].max_open = 10;
		reps[i].max_new_per_day = 10;
	}
	for (i = 0; i < n; i++)
	{
		members[i].rep = &reps[i];
		members[i].weight = 1;
	}
	snap.queue = &queue;
	snap.members = members;
	snap.nmembers = n;
	snap.excluded = excluded;
}

/* rep (1-based) as the account's owner, not a member of the queue */
static void
with_owner(int rep)
{
	owner.rep = &reps[rep - 1];
	owner.weight = 1;
	owner.account_owner = true;
	snap.account_owner = &owner;
}

static void
check(bool ok, const char *what, int line)
{
	size_t		used = strlen(failure_text);

	if (!ok)
	{
		snprintf(failure_text + used, sizeof(failure_text) - used,
				 "    line %d: %s\n", line, what);
		case_failures++;
	}
}

#define CHECK(cond) check((cond), #cond, __LINE__)
/* a check the rest of the case depends on (say, the number of candidates) */
#define REQUIRE(cond) \
	do { \
		bool		ok_ = (cond); \
		check(ok_, #cond, __LINE__); \
		if (!ok_) \
			return; \
	} while (0)

static bool
same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* The rep id rank picks now (0: nobody), after judging. */
static int32
pick_rep(RankPick *pick)
{
	rank_judge(&snap, NOW);
	if (!rank_pick(&snap, pick))
		return 0;
	return pick->cand->rep->id;
}

/* The order of the eligible members is reps a, b, c (after judging). */
static void
expect_order(int32 a, int32 b, int32 c, int line)
{
	int			n;

	rank_judge(&snap, NOW);
	n = rank_order(queue.strategy, members, snap.nmembers, order);
	check(n == 3 && members[order[0]].rep->id == a && members[order[1]].rep->id == b &&
		  members[order[2]].rep->id == c, "the order of preference", line);
}

#define EXPECT_ORDER(a, b, c) expect_order((a), (b), (c), __LINE__)

/* The three members' rotation turns. */
static void
set_turns(int64 a, int64 b, int64 c)
{
	members[0].last_turn = a;
	members[1].last_turn = b;
	members[2].last_turn = c;
}

/* The reason rank gives the first member, after judging. */
static const char *
reason_alone(void)
{
	rank_judge(&snap, NOW);
	return members[0].reason;
}

/* ----- the cases ----- */

static void
round_robin_tie(void)
{
	world(3, STRATEGY_ROUND_ROBIN);
	set_turns(4, 4, 4);
	/* members listed out of id order: ties still go to the lowest id */
	members[0].rep = &reps[2];
	members[2].rep = &reps[0];
	EXPECT_ORDER(1, 2, 3);
}

static void
weighted_shares(void)
{
	/* smooth weighted round robin, the turn applied as strategy.c does */
	static const int32 expected[] = {1, 1, 2, 1, 1, 1, 2, 1};
	int			t,
				i;

	world(2, STRATEGY_WEIGHTED);
	members[0].weight = 3;
	members[1].weight = 1;
	for (t = 0; t < (int) lengthof(expected); t++)
	{
		RankPick	pick;

		REQUIRE(pick_rep(&pick) == expected[t]);
		for (i = 0; i < 2; i++)
			members[i].current_weight += members[i].weight - (i == pick.index ? 4 : 0);
	}
}

static void
performance_no_history(void)
{
	world(3, STRATEGY_PERFORMANCE);
	/* nothing closed yet: everybody at the prior 0.5, ties by id */
	EXPECT_ORDER(1, 2, 3);
	CHECK(members[0].weight == 501 && members[1].weight == 501 && members[2].weight == 501);
	/* the current weights still move the order */
	members[0].current_weight = -1;
	EXPECT_ORDER(2, 3, 1);
}

static void
reason_inactive(void)
{
	world(1, STRATEGY_ROUND_ROBIN);
	reps[0].active = false;
	members[0].open_count = 10; /* inactive comes first */
	CHECK(same(reason_alone(), PASS_INACTIVE));
	CHECK(!members[0].eligible);
}

static void
reason_away(void)
{
	world(1, STRATEGY_ROUND_ROBIN);
	reps[0].has_away = true;
	reps[0].away_until = NOW + 1;
	CHECK(same(reason_alone(), PASS_AWAY));
	/* away until now: back */
	reps[0].away_until = NOW;
	CHECK(reason_alone() == NULL);
	CHECK(members[0].eligible);
}

static void
reason_outside_hours(void)
{
	world(1, STRATEGY_ROUND_ROBIN);
	members[0].in_hours = false;
	CHECK(reason_alone() == NULL);	/* the queue does not require it */
	queue.require_available = true;
	CHECK(same(reason_alone(), PASS_OUTSIDE_HOURS));
	members[0].in_hours = true;
	CHECK(reason_alone() == NULL);
}

/* The first member's reason with these counts. */
static const char *
reason_with_counts(int32 open, int32 new_today)
{
	members[0].open_count = open;
	members[0].new_today = new_today;
	return reason_alone();
}

static void
reason_at_max_open(void)
{
	world(1, STRATEGY_ROUND_ROBIN);
	CHECK(reason_with_counts(9, 9) == NULL);
	/* max_open comes before the daily cap */
	CHECK(same(reason_with_counts(10, 10), PASS_AT_MAX_OPEN));
}

static void
reason_at_max_new(void)
{
	world(1, STRATEGY_ROUND_ROBIN);
	CHECK(same(reason_with_counts(9, 10), PASS_AT_MAX_NEW));
}

static void
reason_missing_skills(void)
{
	world(1, STRATEGY_ROUND_ROBIN);
	rule.require_skills = rule_skills;
	rule.nrequire_skills = 1;
	snap.rule = &rule;
	CHECK(same(reason_alone(), PASS_MISSING_SKILLS));
	reps[0].skills = rep_skills + 1;	/* french only */
	reps[0].nskills = 1;
	CHECK(same(reason_alone(), PASS_MISSING_SKILLS));
	reps[0].skills = rep_skills;
	reps[0].nskills = 2;
	CHECK(reason_alone() == NULL);
	snap.rule = NULL;			/* no rule: no skills needed */
	reps[0].nskills = 0;
	CHECK(reason_alone() == NULL);
}

static void
reason_current_owner(void)
{
	world(1, STRATEGY_ROUND_ROBIN);
	snap.current_owner = 1;
	excluded[0] = 1;			/* current owner is said before previous owner */
	snap.nexcluded = 1;
	CHECK(same(reason_alone(), PASS_CURRENT_OWNER));
}

static void
reason_previous_owner(void)
{
	world(2, STRATEGY_ROUND_ROBIN);
	excluded[0] = 2;
	snap.nexcluded = 1;
	rank_judge(&snap, NOW);
	CHECK(members[0].reason == NULL);
	CHECK(same(members[1].reason, PASS_PREVIOUS_OWNER));
}

static void
account_owner_takes_it(void)
{
	RankPick	pick;
	Candidate  *cands;
	int			n;

	world(2, STRATEGY_ROUND_ROBIN);
	with_owner(3);
	REQUIRE(pick_rep(&pick) == 3);
	CHECK(pick.via == RANK_VIA_ACCOUNT_OWNER && pick.index == -1);
	rank_finish(&snap, &pick, &cands, &n);
	/* the ledger keeps the owner alone */
	CHECK(n == 1 && cands == &owner && owner.chosen && owner.account_owner);
}

static void
account_owner_passed_over(void)
{
	RankPick	pick;
	Candidate  *cands;
	int			n;

	world(2, STRATEGY_ROUND_ROBIN);
	reps[2].max_open = 1;
	with_owner(3);
	owner.open_count = 1;
	members[0].last_turn = 1;
	REQUIRE(pick_rep(&pick) == 2);
	CHECK(pick.via == RANK_VIA_STRATEGY && pick.index == 1);
	CHECK(same(owner.reason, PASS_AT_MAX_OPEN));
	rank_finish(&snap, &pick, &cands, &n);
	/* not a member: first, with its reason */
	REQUIRE(n == 3);
	CHECK(cands[0].rep->id == 3 && cands[0].account_owner && !cands[0].chosen);
	CHECK(same(cands[0].reason, PASS_AT_MAX_OPEN));
	CHECK(cands[1].rep->id == 1 && same(cands[1].reason, PASS_NOT_PICKED));
	CHECK(cands[2].rep->id == 2 && cands[2].chosen && !cands[2].account_owner);
}

static void
account_owner_member(void)
{
	RankPick	pick;
	Candidate  *cands;
	int			n;

	world(2, STRATEGY_ROUND_ROBIN);
	with_owner(2);
	reps[1].has_away = true;
	reps[1].away_until = NOW + 60;
	REQUIRE(pick_rep(&pick) == 1);
	rank_finish(&snap, &pick, &cands, &n);
	/* a member: marked on its own entry */
	REQUIRE(n == 2 && cands == members);
	CHECK(cands[1].account_owner && same(cands[1].reason, PASS_AWAY));
	CHECK(!cands[0].account_owner && cands[0].chosen);
}

static void
account_owner_refused(void)
{
	RankPick	pick;

	world(2, STRATEGY_ROUND_ROBIN);
	with_owner(2);
	REQUIRE(pick_rep(&pick) == 2 && pick.via == RANK_VIA_ACCOUNT_OWNER);
	rank_refused(&pick);
	CHECK(same(owner.reason, PASS_LOST_RACE));
	/* then the members, the owner's member entry among them */
	REQUIRE(rank_pick(&snap, &pick) && pick.cand->rep->id == 1);
	CHECK(pick.via == RANK_VIA_STRATEGY);
}

static void
refused_judged_again(void)
{
	RankPick	pick;

	world(2, STRATEGY_ROUND_ROBIN);
	with_owner(2);
	REQUIRE(pick_rep(&pick) == 2);
	rank_refused(&pick);
	/* counters read again: the refusal stays, the member entry is judged anew */
	members[1].open_count = 10;
	rank_judge(&snap, NOW);
	CHECK(same(owner.reason, PASS_LOST_RACE) && owner.eligible);
	CHECK(same(members[1].reason, PASS_AT_MAX_OPEN));
	REQUIRE(rank_pick(&snap, &pick) && pick.cand->rep->id == 1);
}

static void
refused_next_in_order(void)
{
	RankPick	pick;
	Candidate  *cands;
	int			n;

	world(3, STRATEGY_ROUND_ROBIN);
	set_turns(3, 1, 2);
	REQUIRE(pick_rep(&pick) == 2);
	rank_refused(&pick);
	REQUIRE(rank_pick(&snap, &pick) && pick.cand->rep->id == 3);
	rank_refused(&pick);
	REQUIRE(rank_pick(&snap, &pick) && pick.cand->rep->id == 1);
	rank_refused(&pick);
	CHECK(!rank_pick(&snap, &pick) && pick.cand == NULL);
	rank_finish(&snap, NULL, &cands, &n);
	REQUIRE(n == 3);
	for (n = 0; n < 3; n++)
	{
		CHECK(same(cands[n].reason, PASS_LOST_RACE));
		CHECK(cands[n].eligible && !cands[n].chosen);
	}
}

static void
previous_owners_back(void)
{
	RankPick	pick;
	Candidate  *cands;
	int			n;

	world(3, STRATEGY_ROUND_ROBIN);
	reps[0].active = false;
	excluded[0] = 3;
	excluded[1] = 2;
	snap.nexcluded = 2;
	members[1].last_turn = 2;
	members[2].last_turn = 1;
	/* nobody else: the previous owners again, in the strategy's order */
	REQUIRE(pick_rep(&pick) == 3);
	CHECK(pick.via == RANK_VIA_PREVIOUS_OWNER && pick.index == 2);
	rank_finish(&snap, &pick, &cands, &n);
	REQUIRE(n == 3);
	CHECK(same(cands[0].reason, PASS_INACTIVE));
	CHECK(cands[1].eligible && same(cands[1].reason, PASS_PREVIOUS_OWNER));
	CHECK(cands[2].chosen);
}

static void
previous_owners_refused(void)
{
	RankPick	pick;

	world(2, STRATEGY_ROUND_ROBIN);
	members[0].open_count = 10;
	excluded[0] = 2;
	snap.nexcluded = 1;
	REQUIRE(pick_rep(&pick) == 2 && pick.via == RANK_VIA_PREVIOUS_OWNER);
	rank_refused(&pick);
	/* taken back once only */
	CHECK(!rank_pick(&snap, &pick));
	CHECK(same(members[1].reason, PASS_LOST_RACE));
}

static void
previous_owners_not_for_owned(void)
{
	RankPick	pick;
	Candidate  *cands;
	int			n;

	world(2, STRATEGY_ROUND_ROBIN);
	snap.current_owner = 1;
	excluded[0] = 2;
	snap.nexcluded = 1;
	/* a lead with an owner (the sweep) stays with it instead */
	CHECK(pick_rep(&pick) == 0);
	rank_finish(&snap, NULL, &cands, &n);
	REQUIRE(n == 2);
	CHECK(same(cands[0].reason, PASS_CURRENT_OWNER));
	CHECK(same(cands[1].reason, PASS_PREVIOUS_OWNER) && !cands[1].eligible);
}

static void
nobody_eligible(void)
{
	RankPick	pick;
	Candidate  *cands;
	int			n;

	world(0, STRATEGY_LOAD_BALANCED);
	CHECK(pick_rep(&pick) == 0);
	rank_finish(&snap, NULL, &cands, &n);
	CHECK(n == 0);
	world(0, STRATEGY_WEIGHTED);
	reps[0].active = false;
	with_owner(1);
	CHECK(pick_rep(&pick) == 0);
	rank_finish(&snap, NULL, &cands, &n);
	REQUIRE(n == 1);
	CHECK(cands[0].account_owner && same(cands[0].reason, PASS_INACTIVE));
}

static void
not_picked_left(void)
{
	RankPick	pick;
	Candidate  *cands;
	int			n;

	world(3, STRATEGY_WEIGHTED);
	members[2].current_weight = 5;
	REQUIRE(pick_rep(&pick) == 3);
	rank_finish(&snap, &pick, &cands, &n);
	REQUIRE(n == 3);
	CHECK(cands[2].chosen && cands[2].reason == NULL);
	CHECK(same(cands[0].reason, PASS_NOT_PICKED) && cands[0].eligible);
	CHECK(same(cands[1].reason, PASS_NOT_PICKED) && cands[1].eligible);
}

static void
same_snapshot_same_answer(void)
{
	RankPick	a,
				b;
	int			i;

	world(5, STRATEGY_PERFORMANCE);
	for (i = 0; i < 5; i++)
	{
		members[i].won = i;
		members[i].closed = 10 - i;
		members[i].current_weight = (i * 37) % 11 - 5;
	}
	REQUIRE(pick_rep(&a) > 0);
	/* judging again (explain, then routing) gives the same pick */
	REQUIRE(pick_rep(&b) == a.cand->rep->id && a.index == b.index);
}

/*
 * The order cases: three members set up so, ordered by the strategy.  A
 * member: last_turn, weight, current_weight, open, max_open, won, closed.
 */
typedef struct MemberSpec
{
	int64		last_turn;
	int32		weight;
	int64		current_weight;
	int32		open;
	int32		max_open;
	int64		won;
	int64		closed;
} MemberSpec;

typedef struct OrderCase
{
	const char *name;
	Strategy	strategy;
	MemberSpec	members[3];
	int32		expected[3];	/* rep ids, most preferred first */
	int32		weights[3];		/* the weights after ranking (derived ones) */
} OrderCase;

static const OrderCase order_cases[] = {
	/* 0: never assigned, first */
	{"round_robin_order", STRATEGY_ROUND_ROBIN,
	{{5, 1, 0, 0, 10, 0, 0}, {0, 1, 0, 0, 10, 0, 0}, {2, 1, 0, 0, 10, 0, 0}},
	{2, 3, 1}, {1, 1, 1}},
	/* current + weight: 1, 1, 5; weights are the configured ones */
	{"weighted_order", STRATEGY_WEIGHTED,
	{{0, 1, 0, 0, 10, 0, 0}, {0, 3, -2, 0, 10, 0, 0}, {0, 2, 3, 0, 10, 0, 0}},
	{3, 1, 2}, {1, 3, 2}},
	/* open/max_open: 0.5, 0.25, 0.67 */
	{"load_balanced_order", STRATEGY_LOAD_BALANCED,
	{{0, 1, 0, 5, 10, 0, 0}, {0, 1, 0, 1, 4, 0, 0}, {0, 1, 0, 2, 3, 0, 0}},
	{2, 1, 3}, {1, 1, 1}},
	/* all 1/2, compared exactly: ties by id */
	{"load_balanced_tie", STRATEGY_LOAD_BALANCED,
	{{0, 1, 0, 2, 4, 0, 0}, {0, 1, 0, 1, 2, 0, 0}, {0, 1, 0, 3, 6, 0, 0}},
	{1, 2, 3}, {1, 1, 1}},
	/* the queue: 10 won of 40 closed, 0.25; rates 14 / 30, 6 / 40, 5 / 30 */
	{"performance_weights", STRATEGY_PERFORMANCE,
	{{0, 1, 0, 0, 10, 9, 10}, {0, 1, 0, 0, 10, 1, 20}, {0, 1, 0, 0, 10, 0, 10}},
	{1, 3, 2}, {467, 151, 167}},
};

static void
run_order_case(const OrderCase *oc)
{
	int			i;

	world(3, oc->strategy);
	for (i = 0; i < 3; i++)
	{
		const MemberSpec *m = &oc->members[i];

		members[i].last_turn = m->last_turn;
		members[i].weight = m->weight;
		members[i].current_weight = m->current_weight;
		members[i].open_count = m->open;
		reps[i].max_open = m->max_open;
		members[i].won = m->won;
		members[i].closed = m->closed;
	}
	expect_order(oc->expected[0], oc->expected[1], oc->expected[2], __LINE__);
	for (i = 0; i < 3; i++)
		CHECK(members[i].weight == oc->weights[i]);
}

typedef struct TestCase
{
	const char *name;
	void		(*run) (void);
} TestCase;

static const TestCase cases[] = {
	{"round_robin_tie", round_robin_tie},
	{"weighted_shares", weighted_shares},
	{"performance_no_history", performance_no_history},
	{"reason_inactive", reason_inactive},
	{"reason_away", reason_away},
	{"reason_outside_hours", reason_outside_hours},
	{"reason_at_max_open", reason_at_max_open},
	{"reason_at_max_new_per_day", reason_at_max_new},
	{"reason_missing_skills", reason_missing_skills},
	{"reason_current_owner", reason_current_owner},
	{"reason_previous_owner", reason_previous_owner},
	{"account_owner_takes_it", account_owner_takes_it},
	{"account_owner_passed_over", account_owner_passed_over},
	{"account_owner_member", account_owner_member},
	{"account_owner_refused", account_owner_refused},
	{"refused_judged_again", refused_judged_again},
	{"refused_next_in_order", refused_next_in_order},
	{"previous_owners_back", previous_owners_back},
	{"previous_owners_refused", previous_owners_refused},
	{"previous_owners_not_for_owned", previous_owners_not_for_owned},
	{"nobody_eligible", nobody_eligible},
	{"not_picked_left", not_picked_left},
	{"same_snapshot_same_answer", same_snapshot_same_answer},
};

static void
begin_case(void)
{
	case_failures = 0;
	failure_text[0] = '\0';
}

/* The case's verdict line, then what failed in it. */
static void
end_case(const char *name)
{
	printf("rank %s ... %s\n%s", name, case_failures == 0 ? "ok" : "FAILED", failure_text);
	failed_cases += case_failures > 0;
}

int
main(void)
{
	int			i;

	for (i = 0; i < (int) lengthof(order_cases); i++)
	{
		begin_case();
		run_order_case(&order_cases[i]);
		end_case(order_cases[i].name);
	}
	for (i = 0; i < (int) lengthof(cases); i++)
	{
		begin_case();
		cases[i].run();
		end_case(cases[i].name);
	}
	printf("%d of %d rank cases failed\n", failed_cases,
		   (int) (lengthof(order_cases) + lengthof(cases)));
	return failed_cases > 0;
}
