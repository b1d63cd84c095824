/*
 * spi_plans.c
 *	  Saved SPI plans: each statement of the hot path is prepared once per
 *	  backend and kept, so routing never re-plans per lead.
 *
 * Every statement runs with read_only = false, SELECTs included: that
 * makes SPI advance the command counter and take a fresh snapshot, so the
 * routing of one row of a multi-row INSERT sees the counters and turns the
 * rows before it claimed, and (in READ COMMITTED) what other transactions
 * committed while it waited for a lock.
 */
#include "postgres.h"

#include "executor/spi.h"

#include "routing.h"

/*
 * Return the plan in *slot, preparing and saving it on first use.  The
 * caller must be connected to SPI.
 */
SPIPlanPtr
leadflow_plan(SPIPlanPtr *slot, const char *sql, int nargs, const Oid *argtypes)
{
	SPIPlanPtr	plan;

	if (*slot != NULL)
		return *slot;

	plan = SPI_prepare(sql, nargs, (Oid *) argtypes);
	if (plan == NULL)
		elog(ERROR, "leadflow: SPI_prepare failed for \"%s\": %s",
			 sql, SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "leadflow: SPI_keepplan failed");
	*slot = plan;
	return plan;
}
