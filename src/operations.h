/*
 * operations.h
 *	  What operators read about a running leadflow (operations.c): whether
 *	  the library was preloaded, and the record every sweep leaves for
 *	  leadflow.health() and the Prometheus metrics.
 */
#ifndef LEADFLOW_OPERATIONS_H
#define LEADFLOW_OPERATIONS_H

#include "postgres.h"

#include "utils/timestamp.h"

/* Called from _PG_init: remembers whether the library is being preloaded. */
extern void operations_init(void);

/*
 * Record a finished sweep in leadflow.sweep_stats and add its counts to
 * leadflow.sweep_action_total: nactions actions, names[i] moved counts[i]
 * leads.  as_of is the instant swept to.  The caller must be connected to
 * SPI and be the sweep (the tables are written as its owner).
 */
extern void operations_record_sweep(TimestampTz as_of, int nactions,
									const char *const *names, const int64 *counts);

#endif							/* LEADFLOW_OPERATIONS_H */
