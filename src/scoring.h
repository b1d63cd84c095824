/*
 * scoring.h
 *	  Lead scoring: fit points and engagement points decayed at read time
 *	  (scoring.c).  The C API below is what the lead INSERT trigger calls;
 *	  predictive models are predict.h.
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

/* Module initialisation: the rules cache's relcache callback. */
extern void scoring_init(void);

#endif							/* LEADFLOW_SCORING_H */
