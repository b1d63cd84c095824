/*
 * backtest.h
 *	  Replaying a window of history through the routing core under the
 *	  configuration the caller's transaction sees (backtest.c).  Its only
 *	  entry point is the SQL function leadflow.backtest_leads (declared by
 *	  PG_FUNCTION_INFO_V1); nothing in C calls into it.
 */
#ifndef LEADFLOW_BACKTEST_H
#define LEADFLOW_BACKTEST_H

#include "postgres.h"

#endif							/* LEADFLOW_BACKTEST_H */
