/*
 * spi_plans.h
 *	  Saved SPI plans, prepared once per backend, and the array
 *	  parameters of statements that write many rows at once (spi_plans.c).
 */
#ifndef LEADFLOW_SPI_PLANS_H
#define LEADFLOW_SPI_PLANS_H

#include "postgres.h"

#include "executor/spi.h"

extern SPIPlanPtr leadflow_plan(SPIPlanPtr *slot, const char *sql,
								int nargs, const Oid *argtypes);
extern SPIPlanPtr leadflow_plan_custom(SPIPlanPtr *slot, const char *sql,
									   int nargs, const Oid *argtypes);
extern SPIPlanPtr leadflow_plan_growing(SPIPlanPtr *slot, const char *sql,
										int nargs, const Oid *argtypes, Oid relid);
extern void leadflow_plans_reset(void);

/* Array parameters of statements that write many rows at once */
#define MAX_ARRAY_PARAMS 16
typedef struct ArrayParams
{
	int			n;
	Oid			elem_types[MAX_ARRAY_PARAMS];
	Oid			array_types[MAX_ARRAY_PARAMS];	/* for SPI_prepare */
	int16		typlen[MAX_ARRAY_PARAMS];
	bool		typbyval[MAX_ARRAY_PARAMS];
	char		typalign[MAX_ARRAY_PARAMS];
} ArrayParams;

extern void array_params_init(ArrayParams *params, int n, const Oid *elem_types);
extern Datum array_param_copy(const ArrayParams *params, int i, Datum value);
extern Datum array_param(const ArrayParams *params, int i, Datum *elems, bool *nulls, int n);

/* Reading one column of an SPI result row */
extern char *spi_col_text(HeapTuple tuple, TupleDesc desc, int col);
extern int32 spi_col_int32(HeapTuple tuple, TupleDesc desc, int col, bool *isnull);
extern int64 spi_col_int64(HeapTuple tuple, TupleDesc desc, int col);

#endif							/* LEADFLOW_SPI_PLANS_H */
