/*
 * routing.h
 *	  The routing engine's shared structures: the cached configuration
 *	  (reps, queues, members, rules), candidates, and the entry points of
 *	  each concern (config_cache.c, caps.c, strategy.c, ledger.c,
 *	  routing.c, lead_triggers.c).
 */
#ifndef LEADFLOW_ROUTING_H
#define LEADFLOW_ROUTING_H

#include "postgres.h"

#include "executor/spi.h"
#include "utils/date.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "business_time.h"
#include "cadence.h"
#include "hygiene.h"
#include "workhours.h"

typedef enum Strategy
{
	STRATEGY_ROUND_ROBIN,
	STRATEGY_WEIGHTED,
	STRATEGY_LOAD_BALANCED,
	STRATEGY_PERFORMANCE
} Strategy;

extern const char *const strategy_names[];

/* A rep as routing needs it; copied out of leadflow.rep. */
typedef struct RepConfig
{
	int32		id;
	char	   *name;
	bool		active;
	bool		has_away;
	TimestampTz away_until;
	int32		max_open;
	int32		max_new_per_day;
	WorkHours  *hours;
	BtSchedule	sched;			/* hours and holidays, ready for computing */
	char	  **skills;
	int			nskills;
	int32		manager_id;		/* 0 when none */
} RepConfig;

typedef struct QueueMember
{
	RepConfig  *rep;
	int32		weight;
} QueueMember;

typedef struct QueueConfig
{
	char	   *name;
	Strategy	strategy;
	Cadence    *cadence;
	Interval	first_touch_sla;
	Interval	touch_sla;
	int32		max_reassignments;
	char	   *escalate_to;	/* NULL when none */
	bool		sticky_account;
	bool		has_hold_for;
	Interval	hold_for;
	char	   *then_queue;		/* NULL when none */
	bool		handoff_by_rules;	/* at hand-off, the rules again (then_queue: none matched) */
	bool		require_available;
	int32		manager_id;		/* receives alerts nobody's manager does; 0 = none */
	int			nmembers;
	QueueMember *members;		/* ordered by rep id */
} QueueConfig;

typedef struct RuleConfig
{
	int32		id;
	char	   *name;
	Jsonb	   *match;
	bool		has_min_score;
	int32		min_score;
	bool		has_max_score;
	int32		max_score;
	char	  **require_skills;
	int			nrequire_skills;
	bool		suppress;
	QueueConfig *queue;			/* NULL for suppress rules */
} RuleConfig;

/* Everything routing reads from the configuration tables. */
typedef struct RoutingConfig
{
	int			nreps;
	RepConfig  *reps;			/* ordered by id */
	int			nqueues;
	QueueConfig *queues;
	QueueConfig *default_queue;
	int			nrules;
	RuleConfig *rules;			/* active rules, by priority then id */
	int			nfreemail;
	char	  **freemail;		/* sorted */
	int			ncountries;
	CountryCode *countries;		/* sorted by country */
	int32		head_of_sales;	/* a manager without a manager, for alerts; 0 = none */
	bool		schema_1_2;		/* the database has version 1.2's objects (accounts
								 * with names, calendars, queue managers): this
								 * library also serves 1.0 and 1.1 until they are
								 * updated */
	Oid			cadence_type;	/* leadflow.cadence */
	Oid			stage_type;		/* leadflow.stage and the OIDs of its labels */
	Oid			stage_new;
	Oid			stage_working;
	Oid			stage_qualified;
	Oid			stage_converted;
	Oid			stage_nurture;
	Oid			stage_rejected;
	int64		version;		/* latest leadflow.config_change id; 0: none */
} RoutingConfig;

/* config_cache.c */
extern RoutingConfig *routing_config(void);
extern RepConfig *config_find_rep(RoutingConfig *config, int32 rep_id);
extern QueueConfig *config_find_queue(RoutingConfig *config, const char *name);
extern bool config_is_freemail(RoutingConfig *config, const char *domain);
extern const CountryCode *config_find_country(RoutingConfig *config, const char *country);
extern int32 config_alert_recipient(RoutingConfig *config, int32 rep_id,
									const QueueConfig *queue);

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
	bool		eligible;		/* passed every eligibility test */
	const char *reason;			/* why passed over; NULL for the chosen one */
	bool		chosen;
	bool		account_owner;	/* the owner of the lead's account (sticky queues) */
} Candidate;

/* caps.c */
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

/* strategy.c */
/* The chosen rep's turn as it was before a turn was taken (strategy_undo). */
typedef struct TurnTaken
{
	int32		rep_id;
	bool		had_last;
	TimestampTz last_assigned_at;
	int64		last_turn;
	uint64		generation;		/* of the in-memory state it was taken in */
} TurnTaken;

extern void strategy_load_state(QueueConfig *queue, Candidate *cands, int ncands);
extern int	strategy_order(QueueConfig *queue, Candidate *cands, int ncands, int *order);
extern void strategy_commit(QueueConfig *queue, Candidate *cands, int ncands,
							int chosen, TimestampTz now, TurnTaken *taken);
extern void strategy_undo(const char *queue_name, const TurnTaken *taken,
						  const int32 *reps, const int32 *weights, int n);
extern bool strategy_uses_weights(Strategy strategy);
extern void strategy_reset(void);
extern void strategy_flush(void);
extern void strategy_init(void);

/* routing_api.c: write what routing kept in memory (caps.c, strategy.c) */
extern void routing_flush(void);
extern int	leadflow_defer_flush;

/* ledger.c */
typedef struct DecisionRow
{
	int64		lead_id;
	TimestampTz at;
	const char *kind;			/* leadflow.decision_kind label */
	int32		from_rep;		/* 0 = NULL */
	int32		to_rep;			/* 0 = NULL */
	int32		rule_id;		/* 0 = NULL */
	const char *queue;
	const char *strategy;
	const char *reason;
	Candidate  *cands;
	int			ncands;
	int64		account_id;		/* 0 = NULL */
	const char *account_match;	/* leadflow.account_match label, or NULL */
} DecisionRow;

extern void ledger_decision(const DecisionRow *row);
extern void ledger_set_config_version(int64 version);
extern void ledger_event(int64 lead_id, const char *kind, Jsonb *attrs, TimestampTz at,
						 int64 about);
extern void ledger_flush(void);
extern void ledger_hold(int64 about);
extern void ledger_release(bool drop);
extern void ledger_reset(void);
extern int	ledger_pending_reps(int64 lead_id, int32 *reps, int max);

/* candidates.c: the packed candidate list and jsonb building helpers */
extern Datum candidate_list_pack(const Candidate *cands, int ncands);
extern Oid	candidate_list_type_oid(void);
extern Jsonb *candidates_jsonb(const Candidate *cands, int ncands);
extern void jsonb_push_key(JsonbParseState **state, const char *key);
extern void jsonb_push_string(JsonbParseState **state, const char *key, const char *value);
extern void jsonb_push_int(JsonbParseState **state, const char *key, int64 value);
extern void jsonb_push_bool(JsonbParseState **state, const char *key, bool value);
extern void ledger_alert(const char *kind, int64 lead_id, int32 rep_id,
						 Jsonb *detail, TimestampTz at);
extern Jsonb *ledger_detail(int npairs, const char **keys, const char **values);

/* spi_plans.c: saved plans (prepared once per backend) and array parameters */
extern SPIPlanPtr leadflow_plan(SPIPlanPtr *slot, const char *sql,
								int nargs, const Oid *argtypes);
extern void leadflow_plans_reset(void);

/* Array parameters of statements that write many rows at once */
#define MAX_ARRAY_PARAMS 16
typedef struct ArrayParams
{
	int			n;
	Oid			elem_types[MAX_ARRAY_PARAMS];
	Oid			array_types[MAX_ARRAY_PARAMS];	/* for SPI_prepare */
	int16		typlen[MAX_ARRAY_PARAMS];
	bool		typbyval[MAX_ARRAY_PARAMS];
	char		typalign[MAX_ARRAY_PARAMS];
} ArrayParams;

extern void array_params_init(ArrayParams *params, int n, const Oid *elem_types);
extern Datum array_param_copy(const ArrayParams *params, int i, Datum value);
extern Datum array_param(const ArrayParams *params, int i, Datum *elems, bool *nulls, int n);

/*
 * While routing code itself updates a lead, the lead's own triggers must
 * not count the change a second time.
 */
extern bool leadflow_routing_writes;

/* The reason leadflow.assign() gives the manual move it makes (lead_triggers.c). */
extern const char *leadflow_manual_reason;

#endif							/* LEADFLOW_ROUTING_H */
