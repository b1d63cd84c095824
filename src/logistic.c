/*
 * logistic.c
 *	  L2-regularised logistic regression, on one-hot slots (the logistic
 *	  model kind) or on a few real-valued inputs (the calibration of naive
 *	  Bayes).
 *
 * Why L-BFGS and not IRLS: IRLS solves a d x d system per iteration, d
 * being every slot of every feature.  A feature with many values (a city,
 * a company: thousands of slots) makes that a dense Cholesky of millions
 * of entries, cubic in d.  L-BFGS needs only the gradient, one pass over
 * the rows per evaluation (each row touches its nfeatures slots), and ten
 * vector pairs of memory.  The objective is smooth and strictly convex
 * (l2 > 0), so a backtracking (Armijo) line search is enough and every
 * accepted step keeps the curvature pairs positive.
 *
 * The objective, over rows r standing for n_r = pos_r + neg_r leads, with
 * z_r = intercept + the sum of r's weights (each times its value, 1 for a
 * one-hot slot):
 *	f = sum_r [ n_r * log(1 + exp(z_r)) - pos_r * z_r ] + l2 / 2 * |w|^2
 *	df/dw_j = sum over rows with j of (n_r * sigma(z_r) - pos_r) * value + l2 * w_j
 * The intercept is not penalised, so at the optimum the predictions of
 * the training leads sum to their positives (the model is calibrated in
 * the mean on what it learnt from).
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "miscadmin.h"

#include "logistic.h"

/* Curvature pairs L-BFGS keeps. */
#define LBFGS_MEMORY 10
/* A bound for pathological data; typical fits take 20 to 200. */
#define LBFGS_MAX_ITERATIONS 2000
/* Stop when no gradient entry exceeds this per lead of the training set. */
#define LBFGS_GRADIENT_PER_LEAD 1e-8
#define ARMIJO_FRACTION 1e-4
#define LINE_SEARCH_HALVINGS 60

double
logistic_of(double z)
{
	if (z >= 0)
		return 1.0 / (1.0 + exp(-z));
	else
	{
		double		e = exp(z);

		return e / (1.0 + e);
	}
}

/* log(1 + exp(z)) without overflow */
static double
softplus(double z)
{
	return z > 0 ? z + log1p(exp(-z)) : log1p(exp(z));
}

double
logistic_log_loss(double z, bool positive)
{
	return softplus(z) - (positive ? z : 0.0);
}

/* x[0] is the intercept, x[1 + j] weight j; fills grad, returns f. */
static double
objective(const SlotDesign *d, double l2, const double *x, double *grad)
{
	int			nx = d->nweights + 1;
	double		f = 0;

	memset(grad, 0, sizeof(double) * nx);
	for (int64 r = 0; r < d->nrows; r++)
	{
		const int32 *slots = &d->slots[r * d->nfeatures];
		const double *values = d->values ? &d->values[r * d->nfeatures] : NULL;
		double		z = x[0];
		double		n = d->positives[r] + d->negatives[r];
		double		residual;

		for (int k = 0; k < d->nfeatures; k++)
			z += values ? x[1 + slots[k]] * values[k] : x[1 + slots[k]];
		f += n * softplus(z) - d->positives[r] * z;
		residual = n * logistic_of(z) - d->positives[r];
		grad[0] += residual;
		for (int k = 0; k < d->nfeatures; k++)
			grad[1 + slots[k]] += values ? residual * values[k] : residual;
	}
	for (int j = 1; j < nx; j++)
	{
		f += 0.5 * l2 * x[j] * x[j];
		grad[j] += l2 * x[j];
	}
	return f;
}

static double
dot(const double *a, const double *b, int n)
{
	double		s = 0;

	for (int i = 0; i < n; i++)
		s += a[i] * b[i];
	return s;
}

static double
max_abs(const double *a, int n)
{
	double		m = 0;

	for (int i = 0; i < n; i++)
		m = Max(m, fabs(a[i]));
	return m;
}

/* The L-BFGS direction -H g from the stored pairs (two-loop recursion). */
static void
lbfgs_direction(const double *g, double **s, double **y, const double *rho,
				int stored, int newest, int nx, double *dir)
{
	double		alpha[LBFGS_MEMORY];
	double		gamma;

	memcpy(dir, g, sizeof(double) * nx);
	for (int i = 0; i < stored; i++)
	{
		int			k = (newest - i + LBFGS_MEMORY) % LBFGS_MEMORY;

		alpha[k] = rho[k] * dot(s[k], dir, nx);
		for (int j = 0; j < nx; j++)
			dir[j] -= alpha[k] * y[k][j];
	}
	/* the initial Hessian: s'y / y'y of the newest pair, or a unit step */
	gamma = stored > 0 ? dot(s[newest], y[newest], nx) / dot(y[newest], y[newest], nx)
		: 1.0 / Max(sqrt(dot(g, g, nx)), 1.0);
	for (int j = 0; j < nx; j++)
		dir[j] *= gamma;
	for (int i = stored - 1; i >= 0; i--)
	{
		int			k = (newest - i + LBFGS_MEMORY) % LBFGS_MEMORY;
		double		beta = rho[k] * dot(y[k], dir, nx);

		for (int j = 0; j < nx; j++)
			dir[j] += s[k][j] * (alpha[k] - beta);
	}
	for (int j = 0; j < nx; j++)
		dir[j] = -dir[j];
}

typedef struct Minimum
{
	double		f;
	int			iterations;
	bool		converged;
} Minimum;

/*
 * Minimise the objective from x (overwritten with the minimum) by L-BFGS
 * with a backtracking line search, until no gradient entry exceeds
 * tolerance.
 */
static Minimum
lbfgs_minimize(const SlotDesign *d, double l2, double *x, double tolerance)
{
	int			nx = d->nweights + 1;
	double	   *g = palloc(sizeof(double) * nx);
	double	   *x_new = palloc(sizeof(double) * nx);
	double	   *g_new = palloc(sizeof(double) * nx);
	double	   *dir = palloc(sizeof(double) * nx);
	double	   *s[LBFGS_MEMORY];
	double	   *y[LBFGS_MEMORY];
	double		rho[LBFGS_MEMORY];
	int			stored = 0;
	int			newest = -1;
	Minimum		result = {0, 0, false};
	double		f;
	int			iteration;

	for (int i = 0; i < LBFGS_MEMORY; i++)
	{
		s[i] = palloc(sizeof(double) * nx);
		y[i] = palloc(sizeof(double) * nx);
	}
	f = objective(d, l2, x, g);
	for (iteration = 0; iteration < LBFGS_MAX_ITERATIONS; iteration++)
	{
		double		slope;
		double		step = 1.0;
		double		f_new = f;
		bool		accepted = false;
		int			k;

		CHECK_FOR_INTERRUPTS();
		if (max_abs(g, nx) <= tolerance)
		{
			result.converged = true;
			break;
		}
		lbfgs_direction(g, s, y, rho, stored, newest, nx, dir);
		slope = dot(dir, g, nx);
		if (slope >= 0)
		{
			/* not a descent direction (rounding): forget the pairs */
			stored = 0;
			lbfgs_direction(g, s, y, rho, 0, newest, nx, dir);
			slope = dot(dir, g, nx);
		}
		for (int h = 0; h < LINE_SEARCH_HALVINGS; h++, step *= 0.5)
		{
			for (int j = 0; j < nx; j++)
				x_new[j] = x[j] + step * dir[j];
			f_new = objective(d, l2, x_new, g_new);
			if (f_new <= f + ARMIJO_FRACTION * step * slope)
			{
				accepted = true;
				break;
			}
		}
		if (!accepted)
			break;				/* no decrease left at double precision */

		k = (newest + 1) % LBFGS_MEMORY;
		for (int j = 0; j < nx; j++)
		{
			s[k][j] = x_new[j] - x[j];
			y[k][j] = g_new[j] - g[j];
		}
		if (dot(s[k], y[k], nx) > 0)
		{
			rho[k] = 1.0 / dot(s[k], y[k], nx);
			newest = k;
			stored = Min(stored + 1, LBFGS_MEMORY);
		}
		memcpy(x, x_new, sizeof(double) * nx);
		memcpy(g, g_new, sizeof(double) * nx);
		if (f - f_new <= DBL_EPSILON * fabs(f))
		{
			/* the objective no longer moves: as good as it gets */
			f = f_new;
			result.converged = max_abs(g, nx) <= 1e3 * tolerance;
			iteration++;
			break;
		}
		f = f_new;
	}
	result.f = f;
	result.iterations = iteration;
	for (int i = 0; i < LBFGS_MEMORY; i++)
	{
		pfree(s[i]);
		pfree(y[i]);
	}
	pfree(g);
	pfree(x_new);
	pfree(g_new);
	pfree(dir);
	return result;
}

void
logistic_fit(const SlotDesign *d, double l2, LogisticFit *fit)
{
	int			nx = d->nweights + 1;
	double	   *x = palloc0(sizeof(double) * nx);
	double		leads = 0,
				positives = 0;
	Minimum		m;

	Assert(l2 > 0);
	for (int64 r = 0; r < d->nrows; r++)
	{
		leads += d->positives[r] + d->negatives[r];
		positives += d->positives[r];
	}
	/* start at the base rate: every weight 0 */
	x[0] = log(positives / (leads - positives));
	m = lbfgs_minimize(d, l2, x, LBFGS_GRADIENT_PER_LEAD * Max(leads, 1.0));
	fit->intercept = x[0];
	fit->weights = palloc(sizeof(double) * Max(d->nweights, 1));
	memcpy(fit->weights, x + 1, sizeof(double) * d->nweights);
	fit->iterations = m.iterations;
	fit->converged = m.converged;
	fit->objective = m.f;
	pfree(x);
}
