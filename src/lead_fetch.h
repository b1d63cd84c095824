/*
 * lead_fetch.h
 *	  One lead by its id, read (and locked) by probing the lead table's
 *	  primary key instead of a saved SPI statement, and the statements
 *	  run once per lead on that table (lead_fetch.c).
 */
#ifndef LEADFLOW_LEAD_FETCH_H
#define LEADFLOW_LEAD_FETCH_H

#include "postgres.h"

#include "access/htup.h"
#include "access/tupdesc.h"
#include "executor/spi.h"

typedef enum LeadLock
{
	LEAD_NO_LOCK,
	LEAD_LOCK_NO_KEY_UPDATE,	/* FOR NO KEY UPDATE */
	LEAD_LOCK_UPDATE			/* FOR UPDATE */
} LeadLock;

/*
 * The lead's whole row, with *desc describing it, as
 * "SELECT * FROM leadflow.lead WHERE id = $1 [FOR ...]" would return it;
 * NULL when there is no such lead (or the current user may not see it).
 * The caller is connected to SPI; the row lives in the caller's context
 * or in SPI_tuptable.
 */
extern HeapTuple lead_fetch(int64 lead_id, LeadLock lock, TupleDesc *desc);

/*
 * A statement run once per lead on leadflow.lead, saved in *slot and
 * prepared again whenever the table has more than doubled since.
 */
extern SPIPlanPtr lead_plan(SPIPlanPtr *slot, const char *sql, int nargs,
							const Oid *argtypes);

#endif							/* LEADFLOW_LEAD_FETCH_H */
