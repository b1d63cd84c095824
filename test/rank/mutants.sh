#!/usr/bin/env bash
# Break src/rank.c on purpose, one change at a time, and check that
# test_rank.c notices each: prints "mutant N killed by CASES" or "mutant N
# SURVIVED" per mutant.  Not part of make test (it builds a program per mutant); run
# it after changing rank.c or its test.
#
#   PG_CONFIG=... bash test/rank/mutants.sh
set -u
cd "$(dirname "$0")/../.." || exit 2
: "${PG_CONFIG:=pg_config}"
includes=$("$PG_CONFIG" --includedir-server) || exit 2
build=test/rank/build/mutant
mkdir -p "$build"
n=0
survived=0
# FROM|TO: the first FROM in rank.c becomes TO
while IFS='|' read -r from to; do
	n=$((n + 1))
	FROM=$from TO=$to perl -0777 -pe 'BEGIN { $f = $ENV{FROM}; $t = $ENV{TO} }
		s/\Q$f\E/$t/ or die "mutant '"$n"': not found: $f\n"' src/rank.c >"$build/rank.c" || exit 2
	if ! ${CC:-cc} -w -I"$includes" -Isrc test/rank/test_rank.c "$build/rank.c" -o "$build/t" 2>/dev/null; then
		echo "mutant $n does not build: $from"
		continue
	fi
	cases=$("$build/t" | sed -n 's/^rank \(.*\) \.\.\. FAILED$/\1/p' | tr '\n' ' ')
	if [ -n "$cases" ]; then
		echo "mutant $n killed by $cases"
	else
		echo "mutant $n SURVIVED: $from -> $to"
		survived=$((survived + 1))
	fi
done <<'MUTANTS'
return (x->rep->id > y->rep->id) - (x->rep->id < y->rep->id);|return (x->rep->id < y->rep->id) - (x->rep->id > y->rep->id);
return x->last_turn < y->last_turn ? -1 : 1;|return x->last_turn > y->last_turn ? -1 : 1;
return xw > yw ? -1 : 1;|return xw < yw ? -1 : 1;
int64		xl = (int64) x->open_count * y->rep->max_open;|int64		xl = (int64) x->open_count;
int64		yl = (int64) y->open_count * x->rep->max_open;|int64		yl = (int64) y->open_count;
#define PERFORMANCE_PRIOR_LEADS 20.0|#define PERFORMANCE_PRIOR_LEADS 10.0
average = closed > 0 ? won / closed : 0.5;|average = 0.5;
if (!r->active)|if (false)
r->away_until > now|r->away_until >= now
if (snap->queue->require_available && !c->in_hours)|if (false)
if (c->open_count >= r->max_open)|if (c->open_count > r->max_open)
if (c->new_today >= r->max_new_per_day)|if (c->new_today > r->max_new_per_day)
if (rule == NULL)|if (true)
if (snap->current_owner == r->id)|if (false)
if (is_excluded(snap, r->id))|if (false)
if (owner != NULL && owner->eligible && owner->reason == NULL)|if (owner != NULL && owner->eligible)
if (snap->current_owner != 0)|if (false)
pick->via = snap->previous_owners_back ? RANK_VIA_PREVIOUS_OWNER : RANK_VIA_STRATEGY;|pick->via = RANK_VIA_STRATEGY;
pick->cand->reason = PASS_LOST_RACE;|pick->cand->reason = PASS_NOT_PICKED;
c->reason = is_excluded(snap, c->rep->id) ? PASS_PREVIOUS_OWNER : PASS_NOT_PICKED;|c->reason = PASS_NOT_PICKED;
snap->members[i].account_owner = true;|snap->members[i].account_owner = false;
all[0] = *owner;|all[0] = snap->members[0];
*ncands = 1;|*ncands = 1 + snap->nmembers;
cands[i].weight = (int32) (rate * PERFORMANCE_WEIGHT_SCALE) + 1;|cands[i].weight = (int32) (rate * PERFORMANCE_WEIGHT_SCALE);
chosen->cand->chosen = true;|(void) 0;
if (c->reason != NULL && strcmp(c->reason, PASS_LOST_RACE) == 0)|if (false)
MUTANTS
echo "$survived of $n mutants survived"
[ "$survived" -eq 0 ]
