/*
 * invalidation.h
 *	  One relcache invalidation callback for all of leadflow's caches
 *	  (invalidation.c).
 */
#ifndef LEADFLOW_INVALIDATION_H
#define LEADFLOW_INVALIDATION_H

#include "postgres.h"

/*
 * Called with the relation whose relcache entry was invalidated, or
 * InvalidOid when every entry was (after a cache reset).
 */
typedef void (*RelcacheListener) (Oid relid);

extern void leadflow_on_relcache(RelcacheListener listener);

#endif							/* LEADFLOW_INVALIDATION_H */
