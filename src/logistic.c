/*
 * logistic.c
 *	  L2-regularised logistic regression, on one-hot slots (the logistic
 *	  model kind) or on a few real-valued inputs (the calibration of naive
 *	  Bayes).
 *
 * The objective, over rows r standing for n_r = pos_r + neg_r leads, with
 * z_r = intercept + the sum of r's weights (each times its value, 1 for a
 * one-hot slot):
 *	f = sum_r [ n_r * log(1 + exp(z_r)) - pos_r * z_r ] + l2 / 2 * |w|^2
 *	df/dw_j = sum over rows with j of (n_r * sigma(z_r) - pos_r) * value + l2 * w_j
 * The intercept is not penalised, so at the optimum the predictions of
 * the training leads sum to their positives (the model is calibrated in
 * the mean on what it learnt from).  Smooth and strictly convex (l2 > 0).
 *
 * Two methods, by size.  One-hot slots are badly conditioned: slots that
 * always occur together (a lead source that implies its origin), or a
 * feature's level against the intercept, have no curvature but l2's, so
 * with many leads against l2 = 1 the condition number grows with the
 * leads.  Newton's method with the exact Hessian does not care: a few
 * iterations, each a Cholesky solve of (weights + 1)^2 / 2 entries -- the
 * method for up to NEWTON_MAX_WEIGHTS weights (IRLS is the same
 * iteration).  Beyond that the dense system does not fit (a feature such
 * as a city or a company has thousands of slots), and L-BFGS takes over:
 * one pass over the rows per evaluation, ten vector pairs, the Hessian's
 * diagonal as its start.  Both use a backtracking (Armijo) line search.
 * (L-BFGS alone took 700 iterations on the 6,467 X Education training
 * leads, and did not converge in 2,000 on 100 copies of them.)
 */
#include "postgres.h"

#include "miscadmin.h"

#include <float.h>
#include <math.h>

#include "logistic.h"

/* Curvature pairs L-BFGS keeps. */
#define LBFGS_MEMORY 10
/* A bound for pathological data. */
#define LBFGS_MAX_ITERATIONS 2000
/* Stop when no gradient entry exceeds this per lead of the training set. */
#define GRADIENT_PER_LEAD 1e-10
#define ARMIJO_FRACTION 1e-4
#define LINE_SEARCH_HALVINGS 60
/* Newton's method up to this many weights (an 8 MB Hessian) ... */
#define NEWTON_MAX_WEIGHTS 1000
/* ... and this many multiply-adds to build it per iteration. */
#define NEWTON_MAX_WORK 4e9

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

/*
 * x[0] is the intercept, x[1 + j] weight j.  Returns f; fills grad, and
 * curvature with the Hessian's diagonal (the preconditioner).
 */
static double
objective(const SlotDesign *d, double l2, const double *x, double *grad, double *curvature)
{
	int			nx = d->nweights + 1;
	double		f = 0;

	memset(grad, 0, sizeof(double) * nx);
	memset(curvature, 0, sizeof(double) * nx);
	for (int64 r = 0; r < d->nrows; r++)
	{
		const int32 *slots = &d->slots[r * d->nfeatures];
		const double *values = d->values ? &d->values[r * d->nfeatures] : NULL;
		double		z = x[0];
		double		n = d->positives[r] + d->negatives[r];
		double		p;
		double		residual;
		double		weight;

		for (int k = 0; k < d->nfeatures; k++)
			z += values ? x[1 + slots[k]] * values[k] : x[1 + slots[k]];
		f += n * softplus(z) - d->positives[r] * z;
		p = logistic_of(z);
		residual = n * p - d->positives[r];
		weight = n * p * (1 - p);
		grad[0] += residual;
		curvature[0] += weight;
		for (int k = 0; k < d->nfeatures; k++)
		{
			grad[1 + slots[k]] += values ? residual * values[k] : residual;
			curvature[1 + slots[k]] += values ? weight * values[k] * values[k] : weight;
		}
	}
	for (int j = 1; j < nx; j++)
	{
		f += 0.5 * l2 * x[j] * x[j];
		grad[j] += l2 * x[j];
		curvature[j] += l2;
	}
	/* a certain prediction has no curvature left: keep the division finite */
	for (int j = 0; j < nx; j++)
		curvature[j] = Max(curvature[j], 1e-10);
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

/*
 * The L-BFGS direction -H g from the stored pairs (two-loop recursion),
 * starting from the inverse of the Hessian's diagonal: the slots'
 * curvatures differ by as much as their lead counts (a slot of a million
 * leads beside one of ten), which one scale for all, the textbook start,
 * ignores.
 */
static void
lbfgs_direction(const double *g, const double *curvature, double **s, double **y,
				const double *rho, int stored, int newest, int nx, double *dir)
{
	double		alpha[LBFGS_MEMORY];

	memcpy(dir, g, sizeof(double) * nx);
	for (int i = 0; i < stored; i++)
	{
		int			k = (newest - i + LBFGS_MEMORY) % LBFGS_MEMORY;

		alpha[k] = rho[k] * dot(s[k], dir, nx);
		for (int j = 0; j < nx; j++)
			dir[j] -= alpha[k] * y[k][j];
	}
	for (int j = 0; j < nx; j++)
		dir[j] /= curvature[j];
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

/*
 * Backtracking (Armijo) line search from x along dir, whose slope is
 * dir . g: the accepted point and its objective, gradient and curvature
 * into x_new, *f_new, g_new, curvature_new; false when no step along dir
 * decreases f at double precision.
 */
static bool
line_search(const SlotDesign *d, double l2, const double *x, const double *dir,
			double f, double slope, double *x_new, double *f_new, double *g_new,
			double *curvature_new)
{
	int			nx = d->nweights + 1;
	double		step = 1.0;

	for (int h = 0; h < LINE_SEARCH_HALVINGS; h++, step *= 0.5)
	{
		for (int j = 0; j < nx; j++)
			x_new[j] = x[j] + step * dir[j];
		*f_new = objective(d, l2, x_new, g_new, curvature_new);
		if (*f_new <= f + ARMIJO_FRACTION * step * slope)
			return true;
	}
	return false;
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
	double	   *curvature = palloc(sizeof(double) * nx);
	double	   *curvature_new = palloc(sizeof(double) * nx);
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
	f = objective(d, l2, x, g, curvature);
	for (iteration = 0; iteration < LBFGS_MAX_ITERATIONS; iteration++)
	{
		double		slope;
		double		f_new = f;
		int			k;

		CHECK_FOR_INTERRUPTS();
		if (max_abs(g, nx) <= tolerance)
		{
			result.converged = true;
			break;
		}
		lbfgs_direction(g, curvature, s, y, rho, stored, newest, nx, dir);
		slope = dot(dir, g, nx);
		if (slope >= 0)
		{
			/* not a descent direction (rounding): forget the pairs */
			stored = 0;
			lbfgs_direction(g, curvature, s, y, rho, 0, newest, nx, dir);
			slope = dot(dir, g, nx);
		}
		if (!line_search(d, l2, x, dir, f, slope, x_new, &f_new, g_new, curvature_new))
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
		memcpy(curvature, curvature_new, sizeof(double) * nx);
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
	pfree(curvature);
	pfree(curvature_new);
	return result;
}

/*
 * The Hessian (lower triangle, row-major nx x nx) at x: the rows' n p (1 -
 * p) times the outer products of their entries, l2 on the weights'
 * diagonal.  A row's indices increase, so each pair lands below the
 * diagonal.
 */
static void
hessian(const SlotDesign *d, double l2, const double *x, double *h)
{
	int			nx = d->nweights + 1;
	int			F = d->nfeatures;
	int		   *index = palloc(sizeof(int) * (F + 1));
	double	   *value = palloc(sizeof(double) * (F + 1));

	memset(h, 0, sizeof(double) * nx * nx);
	for (int64 r = 0; r < d->nrows; r++)
	{
		const int32 *slots = &d->slots[r * F];
		double		z = x[0];
		double		p,
					w;

		index[0] = 0;
		value[0] = 1;
		for (int k = 0; k < F; k++)
		{
			index[k + 1] = 1 + slots[k];
			value[k + 1] = d->values ? d->values[r * F + k] : 1;
			z += x[index[k + 1]] * value[k + 1];
		}
		p = logistic_of(z);
		w = (d->positives[r] + d->negatives[r]) * p * (1 - p);
		for (int a = 0; a <= F; a++)
		{
			double		wa = w * value[a];
			double	   *row = &h[(size_t) index[a] * nx];

			for (int b = 0; b <= a; b++)
				row[index[b]] += wa * value[b];
		}
	}
	for (int j = 1; j < nx; j++)
		h[(size_t) j * nx + j] += l2;
	pfree(index);
	pfree(value);
}

/*
 * Solve H step = -g by Cholesky, in place (H's lower triangle becomes
 * its factor).  false when H is not positive definite at working
 * precision.
 */
static bool
newton_step(double *h, const double *g, int nx, double *step)
{
	for (int j = 0; j < nx; j++)
	{
		double	   *rj = &h[(size_t) j * nx];
		double		diagonal = rj[j];

		for (int k = 0; k < j; k++)
			diagonal -= rj[k] * rj[k];
		if (!(diagonal > 0))
			return false;
		rj[j] = sqrt(diagonal);
		for (int i = j + 1; i < nx; i++)
		{
			double	   *ri = &h[(size_t) i * nx];
			double		v = ri[j];

			for (int k = 0; k < j; k++)
				v -= ri[k] * rj[k];
			ri[j] = v / rj[j];
		}
		CHECK_FOR_INTERRUPTS();
	}
	/* L y = -g, then L' step = y */
	for (int i = 0; i < nx; i++)
	{
		double		v = -g[i];

		for (int k = 0; k < i; k++)
			v -= h[(size_t) i * nx + k] * step[k];
		step[i] = v / h[(size_t) i * nx + i];
	}
	for (int i = nx - 1; i >= 0; i--)
	{
		double		v = step[i];

		for (int k = i + 1; k < nx; k++)
			v -= h[(size_t) k * nx + i] * step[k];
		step[i] = v / h[(size_t) i * nx + i];
	}
	return true;
}

/*
 * Newton's method from x (overwritten with the minimum).  converged
 * false and iterations -1 when the Hessian was not positive definite:
 * then the caller goes on with L-BFGS from where this stopped.
 */
static Minimum
newton_minimize(const SlotDesign *d, double l2, double *x, double tolerance)
{
	int			nx = d->nweights + 1;
	double	   *h = palloc_extended(sizeof(double) * nx * nx, MCXT_ALLOC_HUGE);
	double	   *g = palloc(sizeof(double) * nx);
	double	   *g_new = palloc(sizeof(double) * nx);
	double	   *curvature = palloc(sizeof(double) * nx);
	double	   *step = palloc(sizeof(double) * nx);
	double	   *x_new = palloc(sizeof(double) * nx);
	Minimum		result = {0, 0, false};
	double		f = objective(d, l2, x, g, curvature);
	int			iteration;

	for (iteration = 0; iteration < 100; iteration++)
	{
		double		slope;
		double		f_new = f;
		bool		accepted = false;

		CHECK_FOR_INTERRUPTS();
		if (max_abs(g, nx) <= tolerance)
		{
			result.converged = true;
			break;
		}
		hessian(d, l2, x, h);
		if (!newton_step(h, g, nx, step))
		{
			iteration = -1;
			break;
		}
		slope = dot(step, g, nx);
		if (-slope <= 1e-9 * fabs(f))
		{
			/*
			 * The decrease the step promises is below the rounding of f (a
			 * sum over every lead): Newton's last steps, judged by the
			 * gradient instead.
			 */
			for (int j = 0; j < nx; j++)
				x_new[j] = x[j] + step[j];
			f_new = objective(d, l2, x_new, g_new, curvature);
			accepted = max_abs(g_new, nx) < max_abs(g, nx);
		}
		else
			accepted = line_search(d, l2, x, step, f, slope, x_new, &f_new, g_new, curvature);
		if (!accepted)
		{
			result.converged = max_abs(g, nx) <= 1e3 * tolerance;
			break;
		}
		memcpy(x, x_new, sizeof(double) * nx);
		memcpy(g, g_new, sizeof(double) * nx);
		f = f_new;
	}
	result.f = f;
	result.iterations = iteration;
	pfree(h);
	pfree(g);
	pfree(g_new);
	pfree(curvature);
	pfree(step);
	pfree(x_new);
	return result;
}

void
logistic_fit(const SlotDesign *d, double l2, LogisticFit *fit)
{
	int			nx = d->nweights + 1;
	double	   *x = palloc0(sizeof(double) * nx);
	double		leads = 0,
				positives = 0;
	double		tolerance;
	Minimum		m = {0, -1, false};

	Assert(l2 > 0);
	for (int64 r = 0; r < d->nrows; r++)
	{
		leads += d->positives[r] + d->negatives[r];
		positives += d->positives[r];
	}
	tolerance = GRADIENT_PER_LEAD * Max(leads, 1.0);
	/* start at the base rate: every weight 0 */
	x[0] = log(positives / (leads - positives));
	if (nx <= NEWTON_MAX_WEIGHTS + 1 &&
		(double) d->nrows * (d->nfeatures + 1) * (d->nfeatures + 2) / 2 <= NEWTON_MAX_WORK)
		m = newton_minimize(d, l2, x, tolerance);
	if (m.iterations < 0)
		m = lbfgs_minimize(d, l2, x, tolerance);
	fit->intercept = x[0];
	fit->weights = palloc(sizeof(double) * Max(d->nweights, 1));
	memcpy(fit->weights, x + 1, sizeof(double) * d->nweights);
	fit->iterations = m.iterations;
	fit->converged = m.converged;
	fit->objective = m.f;
	pfree(x);
}
