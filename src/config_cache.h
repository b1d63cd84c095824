/*
 * config_cache.h
 *	  The routing configuration cached in backend memory: reps, queues,
 *	  members, rules, free-mail domains, calling codes (config_cache.c).
 */
#ifndef LEADFLOW_CONFIG_CACHE_H
#define LEADFLOW_CONFIG_CACHE_H

#include "postgres.h"

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
	/* rep_local_date's last answer (caps.c), asked again for every lead */
	bool		has_local_date;
	TimestampTz local_date_of;
	DateADT		local_date;
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

extern RoutingConfig *routing_config(void);
extern RepConfig *config_find_rep(RoutingConfig *config, int32 rep_id);
extern QueueConfig *config_find_queue(RoutingConfig *config, const char *name);
extern bool config_is_freemail(RoutingConfig *config, const char *domain);
extern const CountryCode *config_find_country(RoutingConfig *config, const char *country);
extern int32 config_alert_recipient(RoutingConfig *config, int32 rep_id,
									const QueueConfig *queue);
extern void config_cache_init(void);

#endif							/* LEADFLOW_CONFIG_CACHE_H */
