/*
 * invalidation.c
 *	  One relcache invalidation callback that tells every cache of
 *	  leadflow's.
 *
 * A backend has room for ten relcache callbacks (MAX_RELCACHE_CALLBACKS in
 * utils/cache/inval.c), shared by every extension it loads, and running
 * out is a FATAL error at load time.  leadflow registers one; the caches
 * (the configuration, the lead table's columns, the scoring rules, the
 * models) listen here instead.  A listener only marks its cache stale: it
 * runs inside invalidation processing, where reading tables is not
 * allowed, and the cache is reloaded on its next use.
 */
#include "postgres.h"

#include "utils/inval.h"

#include "invalidation.h"

/* As many as leadflow has caches; raise it with a new one. */
#define MAX_LISTENERS 8

static RelcacheListener listeners[MAX_LISTENERS];
static int	nlisteners = 0;

static void
relcache_changed(Datum arg, Oid relid)
{
	int			i;

	for (i = 0; i < nlisteners; i++)
		listeners[i] (relid);
}

/* Called from the units' init functions, at load time (_PG_init). */
void
leadflow_on_relcache(RelcacheListener listener)
{
	if (nlisteners == MAX_LISTENERS)
		elog(ERROR, "leadflow: more than %d relcache listeners", MAX_LISTENERS);
	if (nlisteners == 0)
		CacheRegisterRelcacheCallback(relcache_changed, (Datum) 0);
	listeners[nlisteners++] = listener;
}
