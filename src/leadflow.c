/*
 * leadflow.c
 *	  Module entry point.
 *
 * Everything that needs doing when the shared library is loaded lives
 * here; each concern has its own file (guc.c, cadence.c, workhours.c,
 * business_time.c, ...).
 */
#include "postgres.h"

#include "fmgr.h"

#include "caps.h"
#include "config_cache.h"
#include "guc.h"
#include "index_probe.h"
#include "lead_keys.h"
#include "lead_triggers.h"
#include "ledger.h"
#include "operations.h"
#include "pending.h"
#include "predict.h"
#include "routing.h"
#include "scoring.h"
#include "shared_turns.h"
#include "standby.h"
#include "strategy.h"
#include "touches.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	leadflow_define_gucs();
	/* first, so that its pre-commit callback runs last (routing.c) */
	routing_init();
	shared_turns_init();
	standby_guard_init();
	config_cache_init();
	index_probe_init();
	lead_triggers_init();
	lead_keys_init();
	touches_init();
	caps_init();
	ledger_init();
	strategy_init();
	pending_init();
	scoring_init();
	predict_init();
	operations_init();
}
