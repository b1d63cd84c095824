/*
 * workhours.h
 *	  The leadflow.workhours type as stored on disk and used by C callers.
 */
#ifndef LEADFLOW_WORKHOURS_H
#define LEADFLOW_WORKHOURS_H

#include "postgres.h"
#include "fmgr.h"
#include "pgtime.h"

#include "workhours_parse.h"

/*
 * On-disk form: a varlena with the canonical blocks (sorted by day and
 * start, merged, see workhours_parse.h) followed by the canonical spelling
 * of the zone name, NUL-terminated.  Built with palloc0 and without padding,
 * so that equal schedules are equal byte for byte.  The type is stored
 * "plain" (never compressed or given a short header): values are small and
 * the business-time functions read them on hot paths without copying.
 */
typedef struct WorkHours
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	int32		nblocks;		/* 1 .. WORKHOURS_MAX_BLOCKS */
	WorkBlock	blocks[FLEXIBLE_ARRAY_MEMBER];
	/* char zone[] follows the blocks */
} WorkHours;

#define WORKHOURS_ZONE(wh)	((const char *) &(wh)->blocks[(wh)->nblocks])

#define DatumGetWorkHoursP(X)		((WorkHours *) PG_DETOAST_DATUM(X))
#define PG_GETARG_WORKHOURS_P(n)	DatumGetWorkHoursP(PG_GETARG_DATUM(n))
#define PG_RETURN_WORKHOURS_P(x)	PG_RETURN_POINTER(x)

/* Build a palloc'd value from canonical blocks and a canonical zone name. */
extern WorkHours *workhours_build(const WorkBlock *blocks, int nblocks, const char *zone);

/*
 * The schedule's zone (pg_tzset caches, so this is cheap).  Errors out if
 * the zone has disappeared from the server's tz database since the value
 * was stored.
 */
extern pg_tz *workhours_tz(const WorkHours *wh);

#endif							/* LEADFLOW_WORKHOURS_H */
