/*
 * touches.h
 *	  A touch logged on a lead: what it does to the lead (touches.c).
 */
#ifndef LEADFLOW_TOUCHES_H
#define LEADFLOW_TOUCHES_H

#include "postgres.h"

extern void touches_init(void);

#endif							/* LEADFLOW_TOUCHES_H */
