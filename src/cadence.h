/*
 * cadence.h
 *	  The leadflow.cadence type as stored on disk and used by C callers.
 */
#ifndef LEADFLOW_CADENCE_H
#define LEADFLOW_CADENCE_H

#include "postgres.h"
#include "fmgr.h"

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
#define PG_RETURN_CADENCE_P(x)	PG_RETURN_POINTER(x)

/* Build a palloc'd cadence from parsed steps. */
extern Cadence *cadence_from_steps(const CadenceStep *steps, int nsteps);

#endif							/* LEADFLOW_CADENCE_H */
