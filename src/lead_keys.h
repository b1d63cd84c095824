/*
 * lead_keys.h
 *	  The foreign keys of leadflow.lead to rep, queue and account, checked
 *	  by leadflow as each row is written (lead_keys.c).
 */
#ifndef LEADFLOW_LEAD_KEYS_H
#define LEADFLOW_LEAD_KEYS_H

#include "postgres.h"

extern void lead_keys_init(void);

#endif							/* LEADFLOW_LEAD_KEYS_H */
