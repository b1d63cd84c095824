/*
 * standby.h
 *	  Refusing leadflow's writing functions where they cannot write: on a
 *	  hot standby and in a read-only transaction (standby.c).
 */
#ifndef LEADFLOW_STANDBY_H
#define LEADFLOW_STANDBY_H

/* Defines the setting leadflow.primary_only; called from _PG_init. */
extern void standby_guard_init(void);

#endif							/* LEADFLOW_STANDBY_H */
