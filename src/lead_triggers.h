/*
 * lead_triggers.h
 *	  The triggers on leadflow.lead: routing at insert, the checks and
 *	  effects of updates and deletes (lead_triggers.c).
 */
#ifndef LEADFLOW_LEAD_TRIGGERS_H
#define LEADFLOW_LEAD_TRIGGERS_H

#include "postgres.h"

extern void lead_triggers_init(void);

#endif							/* LEADFLOW_LEAD_TRIGGERS_H */
