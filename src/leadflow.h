/*
 * leadflow.h
 *	  Declarations shared by the leadflow C modules.
 */
#ifndef LEADFLOW_H
#define LEADFLOW_H

#include "postgres.h"
#include "utils/timestamp.h"

/* Settings (guc.c) */
extern bool leadflow_route_on_insert;
extern int	leadflow_sweep_batch_size;
extern bool leadflow_override_caps;
extern char *leadflow_default_country;
extern bool leadflow_detect_duplicates;
extern double leadflow_account_similarity;

extern void leadflow_define_gucs(void);

/*
 * The current time as leadflow sees it: the leadflow.clock setting when it
 * is set (tests, replays, backtests), else the transaction's start time.
 * Every time-dependent function and trigger must use this, never now().
 */
extern TimestampTz leadflow_now(void);

/*
 * Text a user gave, for quoting in an error message: itself when short,
 * else its first LEADFLOW_QUOTE_MAX bytes (whole characters) and "...".
 * A careless caller may send megabytes; a message need not repeat them.
 */
#define LEADFLOW_QUOTE_MAX 200
extern const char *leadflow_quote_clip(const char *s);

/* Module initialisation of the caches (config_cache.c, lead_triggers.c) */
extern void config_cache_init(void);
extern void lead_triggers_init(void);
extern void caps_init(void);
extern void ledger_init(void);
extern void strategy_init(void);

#endif							/* LEADFLOW_H */
