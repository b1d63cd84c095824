/*
 * logistic.h
 *	  L2-regularised logistic regression, fitted by Newton's method or
 *	  L-BFGS, over one-hot slots or a few real-valued inputs (logistic.c).
 *	  Pure arithmetic on arrays the caller owns: no SQL, no catalog.
 */
#ifndef LEADFLOW_LOGISTIC_H
#define LEADFLOW_LOGISTIC_H

#include "postgres.h"

/*
 * Training rows in slot form: each row has nfeatures entries, each a
 * weight index in [0, nweights), increasing along the row, and its value
 * (values NULL: every value is 1, one-hot slots; else nrows x nfeatures
 * of them).  Rows with the same entries may be merged: a row stands for
 * positives[r] + negatives[r] leads.
 */
typedef struct SlotDesign
{
	int			nfeatures;
	int			nweights;
	int64		nrows;
	const int32 *slots;			/* nrows x nfeatures */
	const double *values;		/* nrows x nfeatures, or NULL for all 1 */
	const double *positives;	/* per row */
	const double *negatives;
} SlotDesign;

typedef struct LogisticFit
{
	double		intercept;
	double	   *weights;		/* nweights, allocated by logistic_fit */
	int			iterations;
	bool		converged;
	double		objective;		/* penalised log loss at the solution */
} LogisticFit;

/*
 * Minimise  sum over leads of log loss  +  l2 / 2 * sum of squared weights
 * (the intercept is not penalised); l2 > 0.  Starts from the base rate.
 */
extern void logistic_fit(const SlotDesign *design, double l2, LogisticFit *fit);

/* 1 / (1 + exp(-z)) without overflow. */
extern double logistic_of(double z);

/* The log loss of log-odds z for a lead of that outcome, without overflow. */
extern double logistic_log_loss(double z, bool positive);

#endif							/* LEADFLOW_LOGISTIC_H */
