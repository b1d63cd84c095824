/*
 * scoring.h
 *	  Lead scoring: fit points (scoring.c), engagement points decayed at
 *	  read time (scoring.c), and the predictive naive Bayes model
 *	  (predict.c).  The C API below is what the lead INSERT trigger calls.
 */
#ifndef LEADFLOW_SCORING_H
#define LEADFLOW_SCORING_H

#include "postgres.h"

#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "matching.h"

/*
 * Fit points of a routing document under the active fit rules: each
 * group's matched points (rules with the same name form a group), the
 * group's total bounded by its max_points.  The caller must be connected
 * to SPI (the rules are loaded through it when the cache is stale).
 */
extern int32 scoring_fit_points(const RoutingDoc *doc);
extern bool scoring_has_fit_rules(void);

/*
 * The probability, in [0, 1], that the newest model named 'default' gives
 * the document; false (and *p untouched) when there is no such model, so
 * that leads can be inserted before any model is trained.  The caller
 * must be connected to SPI.
 */
extern bool predict_default_model(const RoutingDoc *doc, double *p);

/* ----- between scoring.c and predict.c (explain_score) ----- */

/* One explain_score row's callback target (scoring.c fills, predict.c too). */
typedef void (*ExplainRowFn) (void *arg, const char *component, const char *name,
							  const char *detail, double points);

/*
 * Add the 'prediction' rows of a document under the newest 'default'
 * model (none when there is no model).  Caller connected to SPI.
 */
extern void predict_explain(const RoutingDoc *doc, ExplainRowFn emit, void *arg);

/* Module initialisation: relcache callbacks of the caches. */
extern void scoring_init(void);
extern void predict_init(void);

#endif							/* LEADFLOW_SCORING_H */
