/*
 * lead_batch.h
 *	  Working through a batch of leads so that one lead's error cannot
 *	  fail the batch (lead_batch.c).
 */
#ifndef LEADFLOW_LEAD_BATCH_H
#define LEADFLOW_LEAD_BATCH_H

#include "postgres.h"

#include "utils/timestamp.h"

typedef struct LeadBatchHooks
{
	/* Work one lead; returns the index in counts[] to add one to, or -1. */
	int			(*step) (int64 lead_id, void *arg);
	/* Write what the steps kept in memory (may fail); NULL if nothing. */
	void		(*write) (void *arg);
	/* Forget what the steps kept after a rollback; NULL if nothing. */
	void		(*discard) (void *arg);
	void	   *arg;
	const char *action;			/* named in the alert about a skipped lead */
} LeadBatchHooks;

extern void lead_batch_run(const int64 *ids, int n, const LeadBatchHooks *hooks,
						   int64 *counts, int ncounts, TimestampTz at);

#endif							/* LEADFLOW_LEAD_BATCH_H */
