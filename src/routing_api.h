/*
 * routing_api.h
 *	  The SQL entry points of routing (route, route_pending, assign) and
 *	  the write of what routing kept in memory (routing_api.c).
 */
#ifndef LEADFLOW_ROUTING_API_H
#define LEADFLOW_ROUTING_API_H

#include "postgres.h"

#include "utils/timestamp.h"

/* Write what routing kept in memory (caps.c, strategy.c, the ledger). */
extern void routing_flush(void);

/* While > 0, statement-end flushes wait for the batch that set it. */
extern int	leadflow_defer_flush;

extern int32 route_by_id(int64 lead_id, TimestampTz now, bool *already_owned);
extern int32 route_pending_batch(int32 max, TimestampTz now);

/* The reason leadflow.assign() gives the manual move it makes. */
extern const char *leadflow_manual_reason;

#endif							/* LEADFLOW_ROUTING_API_H */
