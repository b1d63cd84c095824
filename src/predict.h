/*
 * predict.h
 *	  Predictive models in memory (predict.c): reading a feature of a
 *	  routing document, a model built from its stored params, the
 *	  per-backend cache, and what the lead triggers, explain_score and
 *	  train need of them.
 */
#ifndef LEADFLOW_PREDICT_H
#define LEADFLOW_PREDICT_H

#include "postgres.h"

#include "utils/jsonb.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "matching.h"

/* The model every lead's predicted column follows. */
#define DEFAULT_MODEL "default"

/* params written by leadflow.train since 1.2 (1.1's have no "format") */
#define MODEL_PARAMS_FORMAT 2

/*
 * One feature's value in a routing document, read the same way by
 * training and prediction.  A missing key, JSON null, object or array is
 * not present.  A JSON number, or a string in plain decimal notation, is a
 * number (beyond the range of a double: the largest double of its sign).
 * The text is the category a value stands for: a string's own text, a
 * boolean's true/false, a JSON number's normalised form (1.0 and 1 are
 * "1"), made on demand by feature_value_text.
 */
typedef struct FeatureValue
{
	bool		present;
	bool		is_number;
	double		number;
	const char *text;			/* not NUL-terminated; NULL until made */
	int			text_len;
	Numeric		numeric;		/* a JSON number, for its text */
} FeatureValue;

extern void feature_value(const RoutingDoc *doc, const char *feature, int feature_len,
						  FeatureValue *out);
extern void feature_value_text(FeatureValue *v);

/* The bin of a number among increasing cuts: how many cuts are <= it. */
extern int	numeric_bin(const double *cuts, int ncuts, double value);

/*
 * Naive Bayes log-likelihood ratio of a slot seen pos and neg times, with
 * Laplace smoothing (alpha = 1) over the feature's nslots; 0 for a slot
 * no lead fell into (no evidence).
 */
extern double naive_bayes_llr(double pos, double neg, double positives,
							  double negatives, int nslots);

typedef struct Model Model;

/*
 * A model from its stored params, in the current memory context.  Params
 * that train did not write are an error (XX001) saying what is wrong.
 */
extern Model *model_from_params(const char *name, TimestampTz trained_at, Jsonb *params);

/* The log-odds of conversion the model gives the document. */
extern double model_log_odds(const Model *m, const RoutingDoc *doc);

/*
 * The probability, in [0, 1], that the newest model named 'default' gives
 * the document; false (and *p untouched) when there is no such model, so
 * that leads can be inserted before any model is trained.
 */
extern bool predict_default_model(const RoutingDoc *doc, double *p);

/* One explain_score row (scoring.c collects them). */
typedef void (*ExplainRowFn) (void *arg, const char *component, const char *name,
							  const char *detail, double points);

/*
 * The 'prediction' rows of a lead's document under the newest 'default'
 * model (none when there is no model): the intercept, each feature's
 * weight in log-odds, and the total, compared with the stored
 * lead.predicted (stored NULL: the lead has none).
 */
extern void predict_explain(const RoutingDoc *doc, int64 lead_id, const double *stored,
							ExplainRowFn emit, void *arg);

/* Module initialisation: the cache's relcache callback. */
extern void predict_init(void);

#endif							/* LEADFLOW_PREDICT_H */
