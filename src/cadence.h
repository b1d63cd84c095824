/*
 * cadence.h
 *	  The leadflow.cadence type as stored on disk and used by C callers.
 */
#ifndef LEADFLOW_CADENCE_H
#define LEADFLOW_CADENCE_H

#include "postgres.h"
#include "fmgr.h"
#include "datatype/timestamp.h"

#include "cadence_parse.h"

/*
 * On-disk form: a varlena holding the steps in order.  There are no
 * padding bytes anywhere, so equal cadences are equal byte for byte.
 */
typedef struct Cadence
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	int32		nsteps;			/* 1 .. CADENCE_MAX_STEPS */
	CadenceStep steps[FLEXIBLE_ARRAY_MEMBER];
} Cadence;

#define CADENCE_SIZE(n) (offsetof(Cadence, steps) + sizeof(CadenceStep) * (n))

#define DatumGetCadenceP(X)		((Cadence *) PG_DETOAST_DATUM(X))
#define PG_GETARG_CADENCE_P(n)	DatumGetCadenceP(PG_GETARG_DATUM(n))
#define PG_GETARG_CADENCE_P_COPY(n) \
	((Cadence *) PG_DETOAST_DATUM_COPY(PG_GETARG_DATUM(n)))
#define PG_RETURN_CADENCE_P(x)	PG_RETURN_POINTER(x)

/* Build a palloc'd cadence from parsed steps. */
extern Cadence *cadence_from_steps(const CadenceStep *steps, int nsteps);

/* A built-in plan ("10x30", "30x90") as a palloc'd cadence, or NULL. */
extern Cadence *cadence_by_name(const char *name);

/*
 * A step's offset as an interval: days in "day" (calendar days, to be added
 * in the owner's time zone), hours and minutes in "time", no months.
 */
extern Interval cadence_step_offset(const CadenceStep *step);

#endif							/* LEADFLOW_CADENCE_H */
